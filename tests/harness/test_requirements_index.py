"""docs/requirements.md indexes every requirement ID the repository cites, with paths that exist."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INDEX = ROOT / "docs" / "requirements.md"
ID = re.compile(r"\b(?:ENV|APP|CI|CD|HOST|BAK|MON|LOG|EXT|SEC)-[0-9]+\b")


def index_rows() -> dict:
    rows = {}
    for line in INDEX.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and ID.fullmatch(cells[0]):
            rows[cells[0]] = cells
    return rows


def cited_ids() -> dict:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    cited = {}
    for name in files:
        path = ROOT / name
        if path == INDEX or not path.is_file() or path.suffix in {".tar", ".gz", ".png"}:
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for found in ID.findall(text):
            cited.setdefault(found, name)
    return cited


def test_every_cited_id_is_in_the_index():
    rows = index_rows()
    missing = {i: where for i, where in cited_ids().items() if i not in rows}
    assert not missing, f"cited but not in docs/requirements.md: {missing}"


def test_every_row_names_paths_that_exist():
    for requirement, (_id, meaning, implemented, proved) in index_rows().items():
        assert meaning, requirement
        for path in re.findall(r"`([^`\s]+)`", implemented + " " + proved):
            if "/" in path or path.startswith("."):
                assert (ROOT / path.replace("*", "app_stack")).exists(), f"{requirement}: {path} does not exist"
