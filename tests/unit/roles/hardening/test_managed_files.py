"""The hardening role's one description of its files (_hardening_files, vars/main.yml) is complete:
each area has its toggle and is written by its own task file, every entry has a stage that some
task writes, and no path is described twice or written by another task beside it."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROLE = Path(__file__).resolve().parents[4] / "roles" / "hardening"
FILES = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())["_hardening_files"]
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
MAIN = yaml.safe_load((ROLE / "tasks" / "main.yml").read_text())


def imports_of_files_yml():
    """(task file, area, stage) of every import of files.yml."""
    found = []
    for path in sorted((ROLE / "tasks").glob("*.yml")):
        for task in yaml.safe_load(path.read_text()) or []:
            if task.get("ansible.builtin.import_tasks") == "files.yml":
                found.append((path.stem, task["vars"]["_hardening_area"], task["vars"].get("_hardening_stage", "main")))
    return found


def test_every_area_has_its_toggle_and_is_imported_under_it():
    for area in FILES:
        assert f"hardening_{area}_enabled" in DEFAULTS, area
        (task,) = [t for t in MAIN if t.get("ansible.builtin.import_tasks") == f"{area}.yml"]
        assert task["when"] == f"hardening_{area}_enabled | bool", area


def test_each_area_and_stage_is_written_once_by_its_own_task_file():
    imports = imports_of_files_yml()
    assert len(imports) == len(set(imports))
    for task_file, area, _stage in imports:
        assert task_file == area
    wanted = {(area, entry.get("stage", "main")) for area, entries in FILES.items() for entry in entries}
    assert wanted == {(area, stage) for _file, area, stage in imports}


def test_no_path_is_described_twice():
    paths = [entry["path"] for entries in FILES.values() for entry in entries]
    assert len(paths) == len(set(paths))


def test_no_task_writes_a_described_path_itself():
    """A task writing a described path (dest: or path:) would be a second list again."""
    literal = {entry["path"] for entries in FILES.values() for entry in entries if "{{" not in entry["path"]}
    for path in sorted((ROLE / "tasks").glob("*.yml")):
        text = path.read_text()
        for described in literal:
            pattern = r"(dest|path):\s*['\"]?" + re.escape(described) + r"['\"]?\s*$"
            assert not re.search(pattern, text, re.M), f"{path.name} writes {described}"
