"""The monitoring role refuses bad input before it changes anything, naming the variable.

Each case runs the role against the control node (local connection, check mode off) with one bad
variable, all cases in one run (one host each): the play must fail in the role's preflight with
a message naming the variable, and no task may report a change. Preflight runs before anything
is installed or written, so this runs on any control node (no root, no packages needed).
"""

import pytest
from _runner import LOCAL_HOST_VARS, local_role_play, run_batch

COMMON = {
    "platform_env": "production",
    "platform_domain": "mvp.example.com",
    "platform_admin_email": "ops@mvp.example.com",
    "monitoring_postgres_password": "a-long-enough-test-password",
    "monitoring_smtp_auth_password": "smtp-test-password",
}

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


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every case in one run on the control node, one host per case."""
    return run_batch(
        tmp_path_factory.mktemp("monitoring"),
        local_role_play("monitoring"),
        {case: extra for case, (extra, _needles) in CASES.items()},
        prefix="mvp-mon-bad-input",
        common=COMMON,
        host_vars=LOCAL_HOST_VARS,
    )


@pytest.mark.parametrize("case", sorted(CASES), ids=sorted(CASES))
def test_bad_input_is_refused_before_any_change(runs, case: str) -> None:
    run = runs[case]
    assert run.result is not None, f"accepted: {CASES[case][0]}"
    for needle in CASES[case][1]:
        assert needle in run.output, f"{needle!r} not in output:\n{run.output[:3000]}"
    assert not run.stats.get("changed"), run.stats
    # The failing task is a preflight assert of the role: nothing after it ran.
    assert not run.ran("Create the prometheus group"), run.tasks
