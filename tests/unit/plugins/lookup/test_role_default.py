# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The role_default lookup: another role's literal default, read from the owner's defaults file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleLookupError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible_collections.mvp_platform.infra.plugins.lookup import role_default
from ansible_collections.mvp_platform.infra.plugins.module_utils import _role_defaults as R

ROOT = Path(__file__).resolve().parents[4]
APP_STACK = yaml.safe_load((ROOT / "roles" / "app_stack" / "defaults" / "main.yml").read_text())


def lookup(*terms, **kwargs):
    loader = DataLoader()
    plugin = role_default.LookupModule(loader=loader, templar=Templar(loader=loader))
    return plugin.run(list(terms), variables={}, **kwargs)


def test_reads_the_owners_defaults_file():
    assert lookup("app_stack_root", "app_stack_colour_ports", "app_stack_backend_metrics_ports") == [
        APP_STACK["app_stack_root"],
        APP_STACK["app_stack_colour_ports"],
        APP_STACK["app_stack_backend_metrics_ports"],
    ]
    assert lookup("app_stack_root", role="app_stack") == [APP_STACK["app_stack_root"]]


@pytest.mark.parametrize(
    ("term", "kwargs", "message"),
    [
        ("nobody_owns_this", {}, "no role of this collection owns 'nobody_owns_this'"),
        ("app_stack_no_such_setting", {}, "app_stack_no_such_setting is not a default of the app_stack role"),
        ("app_stack_env", {}, "default of app_stack_env is a template"),
        ("app_stack_root", {"role": "no_such_role"}, "the collection has no role 'no_such_role'"),
        ("app_stack_root", {"owner": "app_stack"}, r"unknown options \['owner'\]"),
    ],
)
def test_refuses_what_it_cannot_read_naming_it(term, kwargs, message):
    with pytest.raises(AnsibleLookupError, match=message):
        lookup(term, **kwargs)


def test_the_documentation_loads():
    doc = yaml.safe_load(role_default.DOCUMENTATION)
    assert doc["name"] == "role_default" and set(doc["options"]) == {"_terms", "role"}
    assert yaml.safe_load(role_default.EXAMPLES) and "_raw" in yaml.safe_load(role_default.RETURN)


def test_owner_is_the_longest_role_prefix():
    roles = ["app", "app_stack", "backup"]
    assert R.owner_of("app_stack_root", roles) == "app_stack"
    assert R.owner_of("app_root", roles) == "app"
    with pytest.raises(ValueError, match="no role"):
        R.owner_of("stack_root", roles)


@pytest.mark.parametrize("value", ["{{ x }}", {"a": "{% if x %}1{% endif %}"}, ["a", "{{ b }}"], {"{{ k }}": 1}])
def test_templated_defaults_are_refused(value):
    with pytest.raises(ValueError, match="is a template"):
        R.literal_default({"r_x": value}, "r_x", "r")


@pytest.mark.parametrize("value", ["/opt/mvp", 3102, {"blue": 3102}, [1, "a"], None, True])
def test_literal_defaults_are_returned(value):
    assert R.literal_default({"r_x": value}, "r_x", "r") == value


def test_a_missing_or_empty_defaults_file_names_the_variable():
    with pytest.raises(ValueError, match="r_x is not a default of the r role"):
        R.literal_default(None, "r_x", "r")
