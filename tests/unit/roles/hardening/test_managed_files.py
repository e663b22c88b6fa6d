"""The hardening role's one description of its files and units (_hardening_files, _hardening_units,
vars/main.yml) is complete: each area has its toggle and is handled by its own task file, every
entry has a stage that some task writes, and no path or unit is described twice or handled by
another task beside it."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROLE = Path(__file__).resolve().parents[4] / "roles" / "hardening"
VARS = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
FILES = VARS["_hardening_files"]
UNITS = VARS["_hardening_units"]
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
MAIN = yaml.safe_load((ROLE / "tasks" / "main.yml").read_text())


def imports_of(task_file="files.yml"):
    """(task file, area, stage) of every import of files.yml (or units.yml)."""
    found = []
    for path in sorted((ROLE / "tasks").glob("*.yml")):
        for task in yaml.safe_load(path.read_text()) or []:
            if task.get("ansible.builtin.import_tasks") == task_file:
                found.append((path.stem, task["vars"]["_hardening_area"], task["vars"].get("_hardening_stage", "main")))
    return found


def test_every_area_has_its_toggle_and_is_imported_under_it():
    for area in {*FILES, *UNITS}:
        assert f"hardening_{area}_enabled" in DEFAULTS, area
        (task,) = [t for t in MAIN if t.get("ansible.builtin.import_tasks") == f"{area}.yml"]
        assert task["when"] == f"hardening_{area}_enabled | bool", area


def test_each_area_and_stage_is_written_once_by_its_own_task_file():
    imports = imports_of()
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


def test_each_area_settles_its_units_once_in_its_own_task_file():
    imports = imports_of("units.yml")
    assert sorted(area for _file, area, _stage in imports) == sorted(UNITS)
    for task_file, area, _stage in imports:
        assert task_file == area


def test_no_task_handles_a_described_unit_itself():
    names = {unit["name"] for units in UNITS.values() for unit in units if "{{" not in unit["name"]}
    for path in sorted((ROLE / "tasks").glob("*.yml")):
        for task in yaml.safe_load(path.read_text()) or []:
            module = task.get("ansible.builtin.systemd_service") or {}
            assert module.get("name") not in names, f"{path.name}: {task['name']}"
