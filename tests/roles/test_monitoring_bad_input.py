"""The monitoring role refuses bad input before it changes anything, naming the variable.

Each case runs the role against localhost (local connection, check mode off) with one bad
variable: the play must fail in the role's preflight with a message naming the variable, and no
task may report a change. Preflight runs before anything is installed or written, so this runs
on any control node (no root, no packages needed).
"""

import subprocess
from pathlib import Path

import pytest
from _runner import ansible_playbook

PLAYBOOK = """
- name: Monitoring with bad input
  hosts: localhost
  gather_facts: true
  vars:
    platform_env: production
    platform_domain: mvp.example.com
    platform_admin_email: ops@mvp.example.com
    monitoring_postgres_password: a-long-enough-test-password
    monitoring_smtp_auth_password: smtp-test-password
  roles:
    - role: mvp_platform.infra.monitoring
"""

CASES = {
    "invalid duration": (
        {"monitoring_scrape_interval": "30 seconds"},
        ["monitoring_scrape_interval must be a duration", "30 seconds"],
    ),
    "invalid alert for duration": (
        {"monitoring_alert_for": {"EndpointDown": "1 minute"}},
        ["monitoring_alert_for.EndpointDown must be a duration"],
    ),
    "invalid backup max age": (
        {"monitoring_backup_max_age": {"full": "26 hours"}},
        ["monitoring_backup_max_age.full must be a duration"],
    ),
    "unknown alert name": (
        {"monitoring_alert_for": {"EndpointDwn": "1m"}},
        ["monitoring_alert_for may only name these alerts", "EndpointDwn"],
    ),
    "unknown receiver type": (
        {
            "monitoring_alertmanager_receivers": [{"name": "ops", "type": "pager", "to": "x"}],
            "monitoring_alertmanager_routes": {"critical": ["ops"]},
        },
        ["monitoring_alertmanager_receivers entry 'ops' is invalid", "got 'pager'"],
    ),
    "malformed e-mail address": (
        {
            "monitoring_alertmanager_receivers": [{"name": "ops", "type": "email", "to": "ops-at-example.com"}],
            "monitoring_alertmanager_routes": {"critical": ["ops"]},
        },
        ["monitoring_alertmanager_receivers entry 'ops' is invalid", "ops-at-example.com"],
    ),
    "malformed sender address": (
        {"monitoring_smtp_from": "alertmanager"},
        ["monitoring_smtp_from must be", "alertmanager"],
    ),
    "route to an undefined receiver": (
        {"monitoring_alertmanager_routes": {"critical": ["nobody"]}},
        ["monitoring_alertmanager_routes maps severities", "unknown: nobody"],
    ),
    "unknown severity": (
        {"monitoring_alertmanager_routes": {"urgent": ["admins-email"]}},
        ["monitoring_alertmanager_routes maps severities"],
    ),
    "telegram without a token": (
        {
            "monitoring_alertmanager_receivers": [{"name": "tg", "type": "telegram", "chat_id": -100123}],
            "monitoring_alertmanager_routes": {"critical": ["tg"]},
            "monitoring_telegram_bot_token": "",
        },
        ["monitoring_telegram_bot_token"],
    ),
    "short exporter password": (
        {"monitoring_postgres_password": "short"},
        ["monitoring_postgres_password"],
    ),
    "redis exporter password": (
        {"monitoring_redis_enabled": True, "monitoring_redis_password": "short"},
        ["monitoring_redis_password (default redis_password, i.e. vault_redis_password) of at least 16"],
    ),
    "redis exporter address": (
        {
            "monitoring_redis_enabled": True,
            "monitoring_redis_password": "rd-long-enough-password",
            "monitoring_redis_address": "127.0.0.1:6379",
        },
        ["monitoring_redis_address as redis://host:port", "127.0.0.1:6379"],
    ),
    "redis memory threshold": (
        {"monitoring_alert_redis_memory_percent": 150},
        ["monitoring_alert_redis_memory_percent=150 must be a number from 0.1 to 100"],
    ),
    "webhook url": (
        {
            "monitoring_alertmanager_receivers": [{"name": "hook", "type": "webhook", "url": "ftp://x"}],
            "monitoring_alertmanager_routes": {"critical": ["hook"]},
        },
        ["monitoring_alertmanager_receivers entry 'hook' is invalid"],
    ),
}


def run_role(tmp_path: Path, extra_vars: dict) -> subprocess.CompletedProcess:
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK)
    extra = {"ansible_python_interpreter": "{{ ansible_playbook_python }}", **extra_vars}
    return ansible_playbook(playbook, "-c", "local", extra_vars=extra, tmp_path=tmp_path)


@pytest.mark.parametrize("case", sorted(CASES), ids=sorted(CASES))
def test_bad_input_is_refused_before_any_change(tmp_path: Path, case: str) -> None:
    extra_vars, needles = CASES[case]
    proc = run_role(tmp_path, extra_vars)
    out = proc.stdout + proc.stderr
    flat = " ".join(out.split())
    assert proc.returncode != 0, out
    for needle in needles:
        assert needle in flat, f"{needle!r} not in output:\n{out}"
    assert "changed=0" in out, out
    # The failing task is a preflight assert of the role: nothing after it ran.
    assert "Create the prometheus group" not in out, out
