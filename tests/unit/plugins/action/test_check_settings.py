# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The check_settings action: called directly with a real templar (messages, undefined and
unreadable variables, bad rules, the role's name, nothing asked of the connection), then once
through ansible-playbook against a host that does not exist, in check mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from unittest.mock import MagicMock

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.template import Templar
from ansible_collections.mvp_platform.infra.plugins.action.check_settings import ARGUMENT_SPEC, ActionModule
from ansible_collections.mvp_platform.infra.plugins.modules import check_settings as doc

try:  # ansible-core 2.19+: only trusted strings are templates (variables from files are trusted)
    from ansible.template import trust_as_template
except ImportError:  # older cores template every string

    def trust_as_template(value):
        return value


ROOT = Path(__file__).resolve().parents[4]
RULES = {"my_port": "port", "my_count": {"min": 1, "max": 5}, "my_bip": {"test": "cidr", "empty_ok": True}}
GOOD = {"my_port": 22, "my_count": trust_as_template("{{ 1 + 2 }}"), "my_bip": ""}


def run_action(args, task_vars, role=None):
    """The action's result for args and task_vars; the connection is a mock that must stay unused."""
    task = Task()
    task.args = args
    task.action = "mvp_platform.infra.check_settings"
    if role:
        task._role = MagicMock()
        task._role.get_name.return_value = role
    connection = MagicMock()
    loader = DataLoader()
    action = ActionModule(
        task=task,
        connection=connection,
        play_context=PlayContext(),
        loader=loader,
        templar=Templar(loader=loader, variables=task_vars),
        shared_loader_obj=None,
    )
    result = action.run(task_vars=task_vars)
    assert connection.method_calls == [], connection.method_calls
    return result


def test_valid_settings_pass():
    result = run_action({"rules": RULES}, GOOD)
    assert not result.get("failed"), result
    assert result["errors"] == [] and result["changed"] is False
    assert result["msg"] == "3 settings checked"


def test_bad_settings_fail_with_every_variable_named_in_one_message():
    result = run_action(
        {"rules": RULES}, {**GOOD, "my_port": 70000, "my_count": trust_as_template("{{ 2 * 5 }}")}, role="myrole"
    )
    assert result["failed"] is True
    assert result["msg"] == (
        "Invalid myrole settings: my_port=70000 must be a port number from 1 to 65535; "
        "my_count=10 must be a number from 1 to 5."
    )
    assert len(result["errors"]) == 2


def test_the_role_option_names_the_settings():
    result = run_action({"rules": RULES, "role": "restore"}, {**GOOD, "my_bip": "10.0.0.0/33"}, role="myrole")
    assert result["msg"].startswith("Invalid restore settings: my_bip='10.0.0.0/33' must be an IP network")


def test_outside_a_role_the_message_names_no_role():
    result = run_action({"rules": {"my_port": "port"}}, {"my_port": "x"})
    assert result["msg"] == "Invalid settings: my_port='x' must be a port number from 1 to 65535."


def test_undefined_and_unreadable_variables_are_named():
    result = run_action({"rules": RULES}, {"my_port": trust_as_template("{{ no_such_variable }}"), "my_bip": ""})
    assert result["failed"] is True
    assert result["errors"][0].startswith("my_port cannot be read: ")
    assert "no_such_variable" in result["errors"][0]
    assert result["errors"][1] == "my_count is not defined"


def test_a_bad_rule_fails_naming_it():
    result = run_action({"rules": {"my_port": {"test": "nonsense"}}}, {"my_port": 22})
    assert result["failed"] is True
    assert result["msg"].startswith("Invalid rule for my_port: ")


def test_unknown_options_are_refused():
    with pytest.raises(Exception, match="nonsense"):
        run_action({"rules": RULES, "nonsense": 1}, GOOD)


def test_documentation_matches_the_argument_spec():
    documented = yaml.safe_load(doc.DOCUMENTATION)
    assert set(documented["options"]) == set(ARGUMENT_SPEC)
    for name, option in ARGUMENT_SPEC.items():
        assert documented["options"][name]["type"] == option["type"], name
        assert bool(documented["options"][name].get("required")) == bool(option.get("required")), name
    attributes = documented["attributes"]
    assert attributes["check_mode"]["support"] == "full"
    assert attributes["diff_mode"]["support"] == "none"
    assert attributes["action"]["support"] == "full"
    for example in yaml.safe_load(doc.EXAMPLES):
        assert set(example["mvp_platform.infra.check_settings"]) <= set(ARGUMENT_SPEC), example["name"]
    assert set(yaml.safe_load(doc.RETURN)) == {"errors", "msg"}


def test_in_a_play_it_fails_on_the_controller_without_contacting_the_host(tmp_path):
    """A Docker connection to a container that does not exist: any contact would be unreachable."""
    host = "mvp-check-settings-missing-host"
    inventory = {
        "all": {
            "hosts": {
                host: {
                    "ansible_connection": "community.docker.docker",
                    "ansible_host": host,
                    "my_port": 70000,
                    "my_count": 3,
                    "my_bip": "",
                }
            }
        }
    }
    play = [
        {
            "hosts": "all",
            "gather_facts": False,
            "tasks": [
                {"name": "Check", "mvp_platform.infra.check_settings": {"rules": RULES, "role": "myrole"}},
            ],
        }
    ]
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    (tmp_path / "play.yml").write_text(json.dumps(play))
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }
    run = subprocess.run(
        ["ansible-playbook", "-i", str(tmp_path / "inventory.json"), str(tmp_path / "play.yml"), "--check"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 2, output
    assert "Invalid myrole settings: my_port=70000 must be a port number from 1 to 65535." in output, output
    assert "unreachable=0" in output and "failed=1" in output, output
    assert "No such container" not in output and "Cannot connect to the Docker daemon" not in output, output
