"""Bad input to the backup role and to backup.yml / restore.yml / verify_backups.yml fails clearly.

Each case runs against a host that does not exist (a Docker connection to a missing container):
the checks that need no host (argument asserts, retention policies checked by the retention
library on the controller, the production guard of restore.yml) must fail the play with a
message naming the variable, before the host is ever contacted (unreachable=0 and no sign of
the Docker connection in the output prove nothing was tried there). Checks that need the host
(schedule syntax via systemd-analyze, S3 endpoint reachability, unknown backup ids) are covered
by the molecule `backup` scenario.
Run: .venv/bin/pytest tests/roles/test_backup_bad_input.py
"""

import re

import pytest
from _runner import (
    ROOT,
    ansible_playbook,
    assert_failed_before_the_host,
    flat_output,
    role_play,
    run_batch,
    write_inventory,
    write_role_play,
)

FAKE_HOST = "mvp-bk-bad-input"
OFFSITE = {
    "backup_manage_offsite": True,
    "backup_offsite_s3_endpoint": "https://storage.example.com",
    "backup_offsite_s3_bucket": "mvp-backups",
    "backup_offsite_access_key_id": "AKIA-test",
    "backup_offsite_secret_access_key": "secret-test-value",
    "backup_offsite_password": "a-long-restic-password-2026",
}

ROLE_CASES = {
    "retention duration": ({"backup_retention": {"keep_within": "7x"}}, r"backup_retention.*keep_within"),
    "negative retention count": ({"backup_files_retention": {"keep_daily": -1}}, r"backup_files_retention.*keep_daily"),
    "unknown retention rule": (
        {"backup_retention": {"keep_forever": 3}},
        r"backup_retention must be a mapping of keep_last, .*keep_within",
    ),
    "retention not a mapping": (
        {"backup_offsite_retention": "7d"},
        r"argument 'backup_offsite_retention' is of type str and we were unable to convert to dict",
    ),
    "relative backup root": (
        {"backup_root": "backups"},
        r"backup_root='backups' must be an absolute path that is not a system directory",
    ),
    "backup root is /var": (
        {"backup_root": "/var"},
        r"backup_root='/var' must be an absolute path that is not a system directory",
    ),
    "bad container name": (
        {"backup_postgres_container": "db; rm -rf /"},
        r"backup_postgres_container='db; rm -rf /' must be a Docker name",
    ),
    "bad checkpoint": ({"backup_checkpoint": "slow"}, r"backup_checkpoint must be one of: fast, spread, got: slow"),
    "off-site without an endpoint": (
        {**OFFSITE, "backup_offsite_s3_endpoint": "storage.example.com"},
        r"backup_offsite_s3_endpoint=storage\.example\.com \(http\(s\)://host\[:port\]\)",
    ),
    "off-site bucket name": (
        {**OFFSITE, "backup_offsite_s3_bucket": "Bad_Bucket"},
        r"backup_offsite_s3_bucket=Bad_Bucket",
    ),
    "off-site placeholder secret": (
        {**OFFSITE, "backup_offsite_password": "CHANGE-ME-long-random"},
        r"no CHANGE-ME placeholders",
    ),
    "off-site short password": ({**OFFSITE, "backup_offsite_password": "short"}, r"backup_offsite_password \(16\+"),
    "empty database password": ({"backup_postgres_password": ""}, r"backup_postgres_password is empty"),
}

CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n"
MANAGED = {
    "app_stack_database": "external",
    "backup_database_url": "postgresql://mvp:managed-db-secret-2026@pg.example.net:5432/mvp",
    "backup_database_ca": CA_PEM,
}
ROLE_CASES.update(
    {
        "database mode": (
            {"backup_database_mode": "snapshot"},
            r"backup_database_mode must be one of: physical, logical",
        ),
        "managed database without a URL": (
            {"app_stack_database": "external"},
            r"With backup_database_mode=logical .*backup_database_url .*vault_database_url",
        ),
        "managed database with sslmode=require": (
            {**MANAGED, "backup_database_url": MANAGED["backup_database_url"] + "?sslmode=require"},
            r"no sslmode other than verify-full",
        ),
        "managed database without a CA": (
            {**MANAGED, "backup_database_ca": "not a certificate"},
            r"backup_database_ca .*vault_database_ca: PEM text",
        ),
        "managed database dump network": (
            {**MANAGED, "backup_dump_network": "none"},
            r"backup_dump_network \(bridge, host or a network name; got none\)",
        ),
        "redis backup password": (
            {"backup_redis_enabled": True, "backup_redis_password": "short"},
            r"backup_redis_password \(default redis_password, i\.e\. vault_redis_password: 16\+ characters\)",
        ),
        "redis retention": ({"backup_redis_retention": {"keep_within": "7x"}}, r"backup_redis_retention.*keep_within"),
    }
)

PLAYBOOK_CASES = {
    "backup kind": (
        "backup.yml",
        {"backup_kind": "hourly"},
        r"backup_kind=hourly: choose full, incremental, files, dump or redis",
    ),
    "production restore without confirmation": (
        "restore.yml",
        {"platform_env": "production"},
        r"REFUSED: .* is a production host .* Nothing was changed\. .* -e confirm_restore=yes",
    ),
    "restore source": ("restore.yml", {"backup_source": "tape"}, r"backup_source=tape \(local\|offsite\)"),
    "restore backup id": ("restore.yml", {"backup_id": "last-tuesday"}, r"backup_id=last-tuesday \(latest or an id"),
    "restore files backup id": (
        "restore.yml",
        {"files_backup_id": "20260101T000000Z-full"},
        r"files_backup_id=20260101T000000Z-full \(latest or an id ending in -files\)",
    ),
    "verify source": ("verify_backups.yml", {"backup_source": "s4"}, r"backup_source=s4 \(local\|offsite\)"),
    "production host state without confirmation": (
        "restore_host_state.yml",
        {"platform_env": "production"},
        r"REFUSED: .* is a production host .* Nothing was changed\. .* -e confirm_restore=yes",
    ),
    "host state id": (
        "restore_host_state.yml",
        {"backup_state_id": "20260101T000000Z-files"},
        r"backup_state_id=20260101T000000Z-files \(latest or an id ending in -state\)",
    ),
    "host state source host": (
        "restore_host_state.yml",
        {"backup_state_from_host": "no such/host"},
        r"backup_state_from_host=no such/host",
    ),
}


COMMON = {"platform_env": "staging", "backup_postgres_password": "pg-test-password-2026"}
SECRETS = ("secret-test-value", "a-long-restic-password-2026", "managed-db-secret-2026")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The role's cases in one run, one missing host per case."""
    return run_batch(
        tmp_path_factory.mktemp("backup-role"),
        role_play("backup"),
        {case: {**COMMON, **extra} for case, (extra, _expected) in ROLE_CASES.items()},
        prefix="mvp-bk-role",
        groups=("db",),
    )


@pytest.mark.parametrize("case", list(ROLE_CASES), ids=list(ROLE_CASES))
def test_role_bad_input_fails_before_the_host_is_touched(runs, case):
    output = runs[case].assert_failed_before_the_host()
    assert re.search(ROLE_CASES[case][1], output), output[:3000]
    for secret in SECRETS:
        assert secret not in runs[case].everything


# A playbook's request variables are extra variables (-e), as an operator gives them: one run each.
@pytest.mark.parametrize("case", list(PLAYBOOK_CASES), ids=list(PLAYBOOK_CASES))
def test_playbook_bad_input_fails_before_the_host_is_touched(tmp_path, case):
    playbook, extra, expected = PLAYBOOK_CASES[case]
    proc = ansible_playbook(
        ROOT / playbook,
        inventory=write_inventory(tmp_path, FAKE_HOST, groups={"db": [FAKE_HOST]}),
        extra_vars={**COMMON, **extra},
        tmp_path=tmp_path,
    )
    output = assert_failed_before_the_host(proc, FAKE_HOST)
    assert re.search(expected, output), output[-3000:]


def test_managed_database_says_physical_backups_are_impossible(tmp_path):
    """With app_stack_database=external the run says so before it touches the host (the first task
    that needs the host, the schedule check, then finds no host: unreachable, nothing changed)."""
    proc = ansible_playbook(
        write_role_play(tmp_path, "backup", "db", name="Managed"),
        inventory=write_inventory(tmp_path, FAKE_HOST, groups={"db": [FAKE_HOST]}),
        extra_vars={"platform_env": "staging", **MANAGED},
        tmp_path=tmp_path,
    )
    output = flat_output(proc)
    assert re.search(
        r"backup_database_mode=logical \(app_stack_database=external\).*physical backups .*are impossible", output
    ), output[-3000:]
    assert "only logical dumps (pg_dump -Fc with sslmode=verify-full, daily at *-*-* 02:15:00)" in output, output[
        -3000:
    ]
    assert "managed-db-secret-2026" not in output
    assert re.search(rf"{FAKE_HOST}\s*:\s*ok=\d+ changed=0 ", output), output[-3000:]
