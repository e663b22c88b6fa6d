# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the healthcheck module shell: documentation matches the argument spec, and
main() turns outcomes into exit_json/fail_json. TCP probes use sockets on 127.0.0.1 only."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

try:
    from ansible_collections.mvp_platform.infra.plugins.modules import healthcheck
except ImportError:  # plain pytest from a clone: the tree is linked under .ansible/collections
    sys.path.insert(0, str(Path(__file__).resolve().parents[4] / ".ansible" / "collections"))
    from ansible_collections.mvp_platform.infra.plugins.modules import healthcheck

DOC = yaml.safe_load(healthcheck.DOCUMENTATION)
RETURN = yaml.safe_load(healthcheck.RETURN)
EXAMPLES = yaml.safe_load(healthcheck.EXAMPLES)


def _compare_options(documented, spec, where):
    assert set(documented) == set(spec), where
    for name, option in spec.items():
        doc = documented[name]
        here = f"{where}.{name}"
        assert doc.get("type", "str") == option.get("type", "str"), here
        assert doc.get("default") == option.get("default"), here
        assert bool(doc.get("required")) == bool(option.get("required")), here
        assert doc.get("choices") == option.get("choices"), here
        assert doc.get("elements") == option.get("elements"), here
        assert doc.get("description"), here
        if "options" in option:
            _compare_options(doc["suboptions"], option["options"], here)


def test_documentation_matches_argument_spec():
    _compare_options(DOC["options"], healthcheck.argument_spec(), "options")
    assert DOC["module"] == "healthcheck"
    assert DOC["attributes"]["check_mode"]["support"] == "full"
    assert DOC["attributes"]["diff_mode"]["support"] == "none"
    assert DOC["attributes"]["platform"]["platforms"] == "posix"


def test_return_documents_every_result_key():
    assert set(RETURN) == {"healthy", "checks", "rounds", "elapsed"}
    assert set(RETURN["checks"]["contains"]) == {
        "name",
        "type",
        "target",
        "ok",
        "status",
        "latency_ms",
        "cert_days_left",
        "error",
    }


def test_examples_use_documented_options_only():
    options = DOC["options"]
    for task in EXAMPLES:
        args = task["mvp_platform.infra.healthcheck"]
        assert set(args) <= set(options), task["name"]
        for check in args["checks"]:
            assert set(check) <= set(options["checks"]["suboptions"]), task["name"]


def run_module(capsys, args, check_mode=False):
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args), pytest.raises(SystemExit) as info:
        healthcheck.main()
    result = json.loads(capsys.readouterr().out)
    result["rc"] = info.value.code
    return result


@pytest.fixture
def listening_port():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server.getsockname()[1]
    server.close()


@pytest.fixture
def closed_port():
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


@pytest.mark.parametrize("check_mode", [False, True])
def test_healthy_tcp(capsys, listening_port, check_mode):
    result = run_module(
        capsys,
        {"checks": [{"name": "db", "type": "tcp", "host": "127.0.0.1", "port": listening_port}]},
        check_mode=check_mode,
    )
    assert result["rc"] == 0
    assert result["changed"] is False
    assert result["healthy"] is True
    assert result["rounds"] == 1
    [check] = result["checks"]
    assert check["name"] == "db"
    assert check["ok"] is True
    assert check["error"] is None
    assert check["status"] is None
    assert check["latency_ms"] >= 0


def test_unhealthy_fails_naming_the_check(capsys, listening_port, closed_port):
    result = run_module(
        capsys,
        {
            "checks": [
                {"name": "up", "host": "127.0.0.1", "port": listening_port},
                {"name": "down", "host": "127.0.0.1", "port": closed_port, "timeout": 2},
            ]
        },
    )
    assert result["rc"] == 1
    assert result["failed"] is True
    assert result["changed"] is False
    assert result["healthy"] is False
    assert result["msg"].startswith("1 of 2 checks failed after 1 round in ")
    assert f"down (tcp 127.0.0.1:{closed_port}): connection refused" in result["msg"]
    assert [c["ok"] for c in result["checks"]] == [True, False]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"checks": [{"name": "web", "type": "http"}]}, "check 'web': an http check needs url"),
        (
            {"checks": [{"name": "web", "url": "http://127.0.0.1/", "status_code": "300-200"}]},
            "check 'web': invalid status range '300-200'",
        ),
        (
            {"checks": [{"name": "db", "host": "127.0.0.1", "port": 1}], "success_threshold": 3},
            "success_threshold=3 needs several rounds",
        ),
        ({"checks": []}, "checks must be a non-empty list"),
    ],
)
def test_invalid_options(capsys, args, message):
    result = run_module(capsys, args)
    assert result["rc"] == 1
    assert result["msg"].startswith("Invalid healthcheck options: ")
    assert message in result["msg"]


def test_argument_spec_rejects_unknown_type(capsys):
    result = run_module(capsys, {"checks": [{"name": "x", "type": "udp", "host": "h", "port": 1}]})
    assert result["rc"] == 1
    assert "value of type must be one of: http, tcp" in result["msg"]
