"""Each role's defaults and its argument spec say the same thing (the spec is the documentation).

Every variable in defaults/main.yml is an option of an entry point, every option of the main entry
point that is not required has a default there, and where the spec states a literal default it is
the same value (a templated default is documented in words, e.g. "<distribution>", so it is not
compared).
"""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p.parent.parent.name for p in (ROOT / "roles").glob("*/meta/argument_specs.yml"))


def load(role):
    spec = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    options = spec["argument_specs"]["main"].get("options") or {}
    every = {n for entry in spec["argument_specs"].values() for n in (entry.get("options") or {})}
    defaults_file = ROOT / "roles" / role / "defaults" / "main.yml"
    defaults = (yaml.safe_load(defaults_file.read_text()) or {}) if defaults_file.exists() else {}
    return options, defaults, every


@pytest.mark.parametrize("role", ROLES)
def test_defaults_and_argument_specs_agree(role):
    options, defaults, every = load(role)
    undocumented = sorted(set(defaults) - every)
    assert not undocumented, f"{role}: defaults without an argument spec entry: {undocumented}"
    no_default = sorted(n for n, o in options.items() if not o.get("required") and n not in defaults)
    assert not no_default, f"{role}: optional options without a default in defaults/main.yml: {no_default}"
    differ = {
        n: (o["default"], defaults[n])
        for n, o in options.items()
        if "default" in o and n in defaults and o["default"] != defaults[n] and "{{" not in str(defaults[n])
    }
    assert not differ, f"{role}: spec default != defaults/main.yml: {differ}"


@pytest.mark.parametrize("role", ROLES)
def test_every_option_is_prefixed_and_described(role):
    options = load(role)[0]
    prefix = f"{role}_"
    wrong = [n for n in options if not n.startswith(prefix)]
    assert not wrong, f"{role}: options without the role prefix: {wrong}"
    missing = [n for n, o in options.items() if not o.get("description")]
    assert not missing, f"{role}: options without a description: {missing}"


@pytest.mark.parametrize("role", ROLES)
def test_every_area_has_the_role_tag_and_its_own(role):
    """`--tags <role>` runs the role, `--tags <role>_<area>` one area (dev-sec style), in every role."""
    tasks = yaml.safe_load((ROOT / "roles" / role / "tasks" / "main.yml").read_text())
    for task in tasks:
        if "ansible.builtin.import_tasks" not in task:
            continue
        tags = task.get("tags", [])
        assert role in tags, f"{role}: {task['name']!r} lacks the tag {role}"
        assert any(t.startswith(f"{role}_") for t in tags), f"{role}: {task['name']!r} lacks a {role}_<area> tag"
