"""Bad input to deploy.yml, rollback.yml and the release role fails with a clear error before any change.

Each case runs against an app host that does not exist (a Docker connection to a missing
container): the checks run on the controller, so the play must fail on an assert naming the
variable and never reach the host (unreachable=0 proves nothing was tried there). The cases that
need a real host (an unknown version for rollback, an image that does not exist, the deploy lock)
are in the molecule `release` scenario. Run: .venv/bin/pytest tests/roles
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAKE_HOST = "mvp-rel-bad-input"
# How the Docker connection reports a host it cannot reach: the container is missing, or (when
# no daemon runs, e.g. before `make molecule` starts one) the daemon itself is.
HOST_CONTACTED = re.compile(r"No such container|Cannot connect to the Docker daemon")

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
    "release role with release_keep 1": (
        "role",
        {"release_version": "1.0.0", "release_keep": 1},
        r"release_keep=1 \(>= 2: the live release and one to roll back to\)",
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
    (tmp_path / "inventory.yml").write_text(
        json.dumps(
            {
                "all": {
                    "children": {
                        "app": {"hosts": {FAKE_HOST: {}}},
                        "proxy": {"hosts": {FAKE_HOST: {}}},
                    },
                    "hosts": {
                        FAKE_HOST: {
                            "ansible_connection": "community.docker.docker",
                            "ansible_host": FAKE_HOST,
                            "ansible_python_interpreter": "/usr/bin/python3",
                        }
                    },
                }
            }
        )
    )
    if target == "role":
        play = [{"name": "Bad input", "hosts": "app", "gather_facts": False, "roles": ["mvp_platform.infra.release"]}]
        (tmp_path / "play.yml").write_text(json.dumps(play))
        playbook = tmp_path / "play.yml"
    else:
        playbook = ROOT / target
    (tmp_path / "vars.json").write_text(json.dumps(extra))
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    }
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}:{env.get('PATH', '')}"
    cmd = ["ansible-playbook", "-i", str(tmp_path / "inventory.yml"), str(playbook)]
    if extra:
        cmd += ["-e", f"@{tmp_path / 'vars.json'}"]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_fails_before_any_change(tmp_path, case):
    target, extra, expected = CASES[case]
    proc = run(tmp_path, target, extra)
    output = re.sub(r"\s+", " ", proc.stdout + proc.stderr)
    assert proc.returncode != 0, output[-3000:]
    assert re.search(expected, output), output[-3000:]
    recap = re.search(rf"{FAKE_HOST}\s*:\s*ok=(\d+) changed=(\d+) unreachable=(\d+) failed=(\d+)", output)
    assert recap, output[-3000:]
    assert recap.group(2) == "0" and recap.group(3) == "0" and recap.group(4) == "1", recap.group(0)


def test_good_input_passes_the_checks(tmp_path):
    """A valid deploy request passes every check and only stops when it needs the (missing) host."""
    proc = run(tmp_path, "deploy.yml", {"app_version": "1.4.2"})
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    for check in ("Check that app_version is given", "Check the release request", "Check the release settings"):
        assert re.search(rf"TASK \[[^]]*{check}[^]]*\]\s*\**\s*ok: \[{FAKE_HOST}\]", output), output[-3000:]
    # The first task that needs the host is the first to fail (a Docker connection to a missing container).
    assert HOST_CONTACTED.search(output), output[-3000:]
    assert "Assertion failed" not in output, output[-3000:]
    assert re.search(rf"{FAKE_HOST}\s*:\s*ok=\d+\s+changed=0\s", output), output[-3000:]
