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

import pytest
import yaml
from _runner import HOST_CONTACTED, ROOT, role_play, run_batch
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
        elif kind in NEEDS_A_RULE and not option.get("choices"):  # choices bound it already
            missing.append(name)
    unknown = sorted(set(rules) - set(options))
    assert not unknown, f"{role}: rules for options the argument spec does not have: {unknown}"
    return cases, missing


@pytest.mark.parametrize("role", ROLES)
def test_every_option_is_refused_before_any_change(tmp_path, role):
    cases, missing = role_cases(role)
    runs = run_batch(
        tmp_path,
        role_play(role, name="Generated bad input"),
        {"control": {}, **{case: {name: value} for case, (name, value, _kind) in cases.items()}},
        prefix=f"mvp-args-{role.replace('_', '-')}",
        groups=GROUPS,
        common={**ENVIRONMENT, **BASELINE.get(role, {})},
    )
    problems = []
    for case, (name, value, kind) in cases.items():
        run = runs[case]
        if run.result is None:
            problems.append(f"{name}={value!r} ({kind}) was accepted")
        elif run.stats.get("unreachable") or HOST_CONTACTED.search(run.output):
            problems.append(f"{name}={value!r} ({kind}) reached the host (task {run.failed_task!r})")
        elif run.stats.get("changed"):
            problems.append(f"{name}={value!r} ({kind}) changed something")
        elif name not in run.output:
            problems.append(f"{name}={value!r} ({kind}) failed without naming it: {run.result.get('msg', '')[:300]}")
        elif "Traceback" in run.output or "template error" in run.output.lower():
            problems.append(
                f"{name}={value!r} ({kind}) failed with a template error: {run.result.get('msg', '')[:300]}"
            )
    assert not problems, f"{role}: {len(problems)} of {len(cases)} cases:\n" + "\n".join(problems)
    # The valid baseline passes the checks (it fails later, where the missing host is needed).
    assert runs["control"].ran(f"mvp_platform.infra.{role} : Check the formats and ranges of the settings"), runs[
        "control"
    ].output[:3000]
    assert not missing, f"{role}: int/float/path options without a range or format rule: {missing}"
    print(f"{role}: {len(cases)} cases, every one refused before any change")


def test_entry_points_are_included_by_their_name():
    """``tasks_from: colour.yml`` runs colour.yml but skips the entry point ``colour``'s argument spec.

    Ansible validates a role's arguments against the spec whose name equals ``tasks_from`` exactly, so
    every include of an entry point must name it without the suffix.
    """
    import re  # noqa: PLC0415 - only this check reads task files as text

    entry_points = {}
    for spec in (ROOT / "roles").glob("*/meta/argument_specs.yml"):
        entry_points[spec.parent.parent.name] = set(yaml.safe_load(spec.read_text())["argument_specs"])
    include = re.compile(r"name: mvp_platform\.infra\.(\w+)[\s\S]{0,200}?tasks_from: (\w+)\.yml")
    wrong = []
    for path in [*ROOT.glob("roles/*/tasks/*.yml"), *ROOT.glob("playbooks/*.yml"), *ROOT.glob("molecule/*/*.yml")]:
        for role, task_file in include.findall(path.read_text()):
            if task_file in entry_points.get(role, ()):
                wrong.append(f"{path.relative_to(ROOT)}: {role} tasks_from: {task_file}.yml")
    assert not wrong, f"include these entry points by name (no .yml), or their spec is skipped: {wrong}"
