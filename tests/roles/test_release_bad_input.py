"""Bad input to deploy.yml, rollback.yml and the release role fails with a clear error before any change.

Each case runs against an app host that does not exist (a Docker connection to a missing
container): the checks run on the controller, so the play must fail on an assert naming the
variable and never reach the host (unreachable=0 proves nothing was tried there). The cases that
need a real host (an unknown version for rollback, an image that does not exist, the deploy lock)
are in the molecule `release` scenario. Run: .venv/bin/pytest tests/roles
"""

import re
import subprocess
from pathlib import Path

import pytest
from _runner import (
    HOST_CONTACTED,
    ROOT,
    ansible_playbook,
    assert_failed_before_the_host,
    write_inventory,
    write_role_play,
)

FAKE_HOST = "mvp-rel-bad-input"
# The registry login a release from the (default) registry source needs.
REGISTRY = {"vault_registry_username": "ci-bot", "vault_registry_password": "Xq7-registry-token-0123456789"}

# (playbook or role, extra vars, expected message)
CASES = {
    "deploy without app_version": (
        "deploy.yml",
        {},
        r"app_version is required .*got '\(unset\)'.*-e app_version=1\.4\.2",
    ),
    "deploy with an empty app_version": ("deploy.yml", {"app_version": ""}, r"app_version is required .*got ''"),
    "deploy with a shell injection in app_version": (
        "deploy.yml",
        {"app_version": "1.0;rm -rf /"},
        r"app_version is required and must be an image tag .*got '1\.0;rm -rf /'",
    ),
    "deploy with a tag starting with a dot": ("deploy.yml", {"app_version": ".hidden"}, r"must be an image tag"),
    "deploy with a bad deploy_break_lock": (
        "deploy.yml",
        {"app_version": "1.0.0", "deploy_break_lock": "maybe"},
        r"deploy_break_lock=maybe must be true or false",
    ),
    "rollback to something that is no tag": (
        "rollback.yml",
        {"app_version": "../../etc"},
        r"app_version='\.\./\.\./etc' is not an image tag",
    ),
    "deploy latest in production (APP-3)": (
        "deploy.yml",
        {"app_version": "latest", "platform_env": "production", **REGISTRY},
        r"app_version='latest' and\s+app_stack_postgres_version='17' must be image tags .*never 'latest' in "
        r"production",
    ),
    "deploy latest in staging": (
        "deploy.yml",
        {"app_version": "latest", "platform_env": "staging", **REGISTRY},
        r"app_version='latest' .*never 'latest' in staging",
    ),
    "deploy an image variable with a tag": (
        "deploy.yml",
        {"app_version": "1.4.2", "app_stack_frontend_image": "ghcr.io/team/frontend:main", **REGISTRY},
        r"app_stack_frontend_image=ghcr\.io/team/frontend:main: an image variable names the repository only.*the "
        r"tag is app_version",
    ),
    "deploy from a registry without credentials": (
        "deploy.yml",
        {"app_version": "1.4.2"},
        r"app_stack_image_source=registry logs in to app_stack_registry_url='ghcr\.io' .*must both be set - "
        r"missing: app_stack_registry_username, app_stack_registry_password",
    ),
    "release role with release_keep 1": (
        "role",
        {"release_version": "1.0.0", "release_keep": 1},
        r"release_keep=1 must be a number from 2 to 100",
    ),
    "release role with an unknown backup mode": (
        "role",
        {"release_version": "1.0.0", "release_backup": "sometimes"},
        r"release_backup.*(must be one of|sometimes)",
    ),
    "release role with an unknown action": (
        "role",
        {"release_version": "1.0.0", "release_action": "redeploy"},
        r"release_action.*(must be one of|redeploy)",
    ),
}


def run(tmp_path: Path, target: str, extra: dict) -> subprocess.CompletedProcess:
    inventory = write_inventory(tmp_path, FAKE_HOST, groups={"app": [FAKE_HOST], "proxy": [FAKE_HOST]})
    playbook = write_role_play(tmp_path, "release", "app") if target == "role" else ROOT / target
    return ansible_playbook(playbook, inventory=inventory, extra_vars=extra, tmp_path=tmp_path)


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_fails_before_any_change(tmp_path, case):
    target, extra, expected = CASES[case]
    output = assert_failed_before_the_host(run(tmp_path, target, extra), FAKE_HOST)
    assert re.search(expected, output), output[-3000:]


def test_good_input_passes_the_checks(tmp_path):
    """A valid deploy request passes every check and only stops when it needs the (missing) host."""
    proc = run(tmp_path, "deploy.yml", {"app_version": "1.4.2", **REGISTRY})
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    for check in (
        "Check that app_version is given",
        "Check the formats and ranges of the settings",
        "Check that the image variables name repositories only",
        "Check the registry login",
    ):
        assert re.search(rf"TASK \[[^]]*{check}[^]]*\]\s*\**\s*ok: \[{FAKE_HOST}\]", output), output[-3000:]
    # The first task that needs the host is the first to fail (a Docker connection to a missing container).
    assert HOST_CONTACTED.search(output), output[-3000:]
    assert "Assertion failed" not in output, output[-3000:]
    assert re.search(rf"{FAKE_HOST}\s*:\s*ok=\d+\s+changed=0\s", output), output[-3000:]
