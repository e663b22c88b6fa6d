"""Generated bad input: every option of every role's argument spec, refused before any change.

For each role this walks ``meta/argument_specs.yml`` (entry point ``main``) and the role's table of
formats and ranges (``_<role>_rules`` in ``vars/main.yml``) and makes one case per check:

- every int, float, list, dict and path option gets a value of the wrong type;
- every option with ``choices`` gets a value outside them;
- every option with a rule gets a value the rule refuses (out of range, wrong format).

All cases of a role run in one ansible-playbook run, one host per case (the case's value in that
host's variables), against hosts that do not exist (a Docker connection to missing containers).
Each host must fail on the controller with a message naming its variable, with nothing changed
and the host never contacted; a control host with the valid baseline gets past every check.
Path, int and float options must have a rule (a path is any string to Ansible, and a number's
range is what keeps a typo from reaching a daemon), so a new option without one fails here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from _runner import ROOT, fake_host_vars
from ansible_collections.mvp_platform.infra.plugins.module_utils import _validate

ROLES = sorted(p.parent.parent.name for p in (ROOT / "roles").glob("*/meta/argument_specs.yml"))
GROUPS = ("app", "proxy", "db", "monitoring")
SECRET = "Xq7-long-and-random-test-secret-0123"  # noqa: S105 (test value)
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKV2nwcFhC6kboHxlM33mYmxRDjFo7i910hZtWIY2wi5 alice-example"
ENVIRONMENT = {
    "platform_env": "production",
    "platform_domain": "shop.example.com",
    "platform_admin_email": "ops@example.com",
}
# A valid setting of each role's required inputs; every case spoils one variable of it.
BASELINE = {
    "app_stack": {
        "app_stack_postgres_password": SECRET,
        "app_stack_jwt_secret": SECRET,
        "app_stack_session_secret": SECRET,
        "app_stack_payment_terminal_key": "terminal-1234",
        "app_stack_payment_password": SECRET,
        "app_stack_email_api_key": "SG.key-1234",
        "app_stack_email_redirect_to": "qa@example.com",
    },
    "backup": {"backup_database_url": "postgresql://mvp:x@db.example.internal:5432/mvp"},
    "docker": {"docker_install_source": "distro", "docker_userland_proxy": True},
    "hardening": {"hardening_admin_users": [{"name": "alice", "ssh_keys": [KEY]}]},
    "monitoring": {"monitoring_postgres_password": SECRET, "monitoring_smtp_auth_password": SECRET},
    "nginx": {"nginx_tls_mode": "selfsigned", "nginx_app_hosts": "{{ [inventory_hostname] }}"},
    "redis": {"redis_password": SECRET},
    "release": {"release_version": "1.0.0"},
}
WRONG_TYPE = {"int": "not-a-number", "float": "not-a-number", "list": {"not": "a list"}, "dict": "not-a-dict"}
# A path is any string to the argument spec: a list becomes "['x', 'y']", which no path rule accepts.
WRONG_TYPE["path"] = ["not", "a path"]
NEEDS_A_RULE = ("int", "float", "path")


def role_cases(role: str) -> tuple[dict, list[str]]:
    """{host: (variable, value, kind)} for the role, and the options that lack a rule."""
    spec = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    options = spec["argument_specs"]["main"].get("options") or {}
    vars_file = ROOT / "roles" / role / "vars" / "main.yml"
    rules = (yaml.safe_load(vars_file.read_text()) or {}).get(f"_{role}_rules", {}) if vars_file.exists() else {}
    cases, missing = {}, []
    for name, option in options.items():
        kind = option.get("type", "str")
        if kind in WRONG_TYPE:
            cases[f"{name}-type"] = (name, WRONG_TYPE[kind], f"wrong type ({kind})")
        if option.get("choices"):
            cases[f"{name}-choice"] = (name, "not-one-of-the-choices", "outside choices")
        if name in rules:
            cases[f"{name}-rule"] = (name, _validate.invalid_sample(rules[name]), "breaks its rule")
        elif kind in NEEDS_A_RULE:
            missing.append(name)
    unknown = sorted(set(rules) - set(options))
    assert not unknown, f"{role}: rules for options the argument spec does not have: {unknown}"
    return cases, missing


def host_name(role: str, case: str) -> str:
    return "mvp-args-" + re.sub(r"[^a-z0-9-]", "-", f"{role}-{case}".lower().replace("_", "-"))


def run_role(tmp_path: Path, role: str, cases: dict) -> tuple[dict, dict]:
    """Run the role on one fake host per case; return (results by host: the failed task's msg, stats)."""
    hosts = {host_name(role, "control"): fake_host_vars(host_name(role, "control"))}
    for case, (name, value, _kind) in cases.items():
        host = host_name(role, case)
        hosts[host] = {**fake_host_vars(host), name: value}
    inventory = {
        "all": {
            "vars": {**ENVIRONMENT, **BASELINE.get(role, {})},
            "hosts": hosts,
            "children": {g: {"hosts": {h: {} for h in hosts}} for g in GROUPS},
        }
    }
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    play = [
        {"name": "Generated bad input", "hosts": "all", "gather_facts": False, "roles": [f"mvp_platform.infra.{role}"]}
    ]
    (tmp_path / "play.json").write_text(json.dumps(play))
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
    }
    proc = subprocess.run(
        ["ansible-playbook", "-f", "16", "-i", str(tmp_path / "inventory.json"), str(tmp_path / "play.json")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    report = json.loads(proc.stdout[proc.stdout.index("{") :])
    failures, passed = {}, {}
    for play_report in report["plays"]:
        for task in play_report["tasks"]:
            for host, result in task["hosts"].items():
                if result.get("failed") or result.get("unreachable"):
                    failures.setdefault(host, {"task": task["task"]["name"], **result})
                elif not result.get("skipped"):
                    passed.setdefault(host, []).append(task["task"]["name"])
    return failures, passed, report["stats"]


@pytest.mark.parametrize("role", ROLES)
def test_every_option_is_refused_before_any_change(tmp_path, role):
    cases, missing = role_cases(role)
    failures, passed, stats = run_role(tmp_path, role, cases)
    problems = []
    for case, (name, value, kind) in cases.items():
        host = host_name(role, case)
        failure, stat = failures.get(host), stats.get(host, {})
        message = json.dumps(failure) if failure else ""
        if not failure:
            problems.append(f"{name}={value!r} ({kind}) was accepted")
        elif stat.get("unreachable") or re.search(r"No such container|Cannot connect to the Docker daemon", message):
            problems.append(f"{name}={value!r} ({kind}) reached the host (task {failure['task']!r})")
        elif stat.get("changed"):
            problems.append(f"{name}={value!r} ({kind}) changed something")
        elif name not in message:
            problems.append(f"{name}={value!r} ({kind}) failed without naming it: {failure.get('msg', '')[:300]}")
        elif "Traceback" in message or "template error" in message.lower():
            problems.append(f"{name}={value!r} ({kind}) failed with a template error: {failure.get('msg', '')[:300]}")
    assert not problems, f"{role}: {len(problems)} of {len(cases)} cases:\n" + "\n".join(problems)
    # The valid baseline passes the checks (it fails later, where the missing host is needed).
    control = host_name(role, "control")
    assert f"mvp_platform.infra.{role} : Check the formats and ranges of the settings" in passed.get(control, []), (
        failures.get(control)
    )
    assert not missing, f"{role}: int/float/path options without a range or format rule: {missing}"
    print(f"{role}: {len(cases)} cases, every one refused before any change")
