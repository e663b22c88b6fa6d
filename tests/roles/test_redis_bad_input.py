"""Bad input to the redis role fails clearly, naming the variable, before the host is touched.

Each case runs the role against a host that does not exist (a Docker connection to a missing
container) with one bad variable: the preflight asserts need no host, so the play must fail there
with a message naming the variable, with nothing changed and the host never contacted
(unreachable=0). The password never appears in the output.
Run: .venv/bin/pytest tests/roles/test_redis_bad_input.py
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAKE_HOST = "mvp-redis-bad-input"
GOOD_PASSWORD = "rd-bad-input-0123456789abcdef"  # noqa: S105 (test value)

CASES = {
    "missing password": ({"redis_password": ""}, r"redis_password \(vault_redis_password in the vault\) must be"),
    "short password": ({"redis_password": "short"}, r"redis_password \(vault_redis_password in the vault\)"),
    "password with a quote": ({"redis_password": 'abc"def0123456789xyz'}, r"without whitespace, quotes"),
    "placeholder password": ({"redis_password": "CHANGE-ME-0123456789"}, r"no CHANGE-ME placeholder"),
    "public bind address": (
        {"redis_bind_address": "8.8.8.8"},
        r"redis_bind_address=8\.8\.8\.8 \(loopback or a private",
    ),
    "any address": ({"redis_bind_address": "0.0.0.0"}, r"redis_bind_address=0\.0\.0\.0"),
    "unknown persistence": ({"redis_persistence": "both"}, r"redis_persistence must be one of: none, rdb, aof"),
    "unknown eviction policy": (
        {"redis_maxmemory_policy": "lru"},
        r"redis_maxmemory_policy must be one of: noeviction, allkeys-lru",
    ),
    "maxmemory in redis units": ({"redis_maxmemory": "256mb"}, r"redis_maxmemory=256mb and"),
    "container limit below maxmemory": (
        {"redis_maxmemory": "512M", "redis_memory_limit": "256M"},
        r"redis_memory_limit=256M .*the container limit above maxmemory",
    ),
    "bad save rule": ({"redis_save": ["every 5 minutes"]}, r"redis_save=\['every 5 minutes'\]"),
    "rdb without save rules": ({"redis_save": []}, r"not empty with rdb"),
    "appendfsync": (
        {"redis_persistence": "aof", "redis_appendfsync": "sometimes"},
        r"redis_appendfsync must be one of",
    ),
    "archive without archives": ({"redis_image_source": "archive"}, r"archive needs redis_image_archives"),
    "relative root": ({"redis_root": "opt/redis"}, r"redis_root=opt/redis \(an absolute directory"),
    "reserved extra setting": (
        {"redis_extra_settings": {"requirepass": "x"}},
        r"redis_extra_settings must map redis\.conf directives .*may not set what the role owns",
    ),
    "multi-line extra setting": (
        {"redis_extra_settings": {"hz": "10\nrequirepass x"}},
        r"redis_extra_settings must map redis\.conf directives",
    ),
    "restart policy": ({"redis_restart_policy": "sometimes"}, r"redis_restart_policy must be one of"),
}


def run(tmp_path: Path, extra: dict) -> str:
    host = {
        "ansible_connection": "community.docker.docker",
        "ansible_host": FAKE_HOST,
        "ansible_python_interpreter": "/usr/bin/python3",
    }
    inventory = {"all": {"children": {"redis": {"hosts": {FAKE_HOST: host}}}}}
    (tmp_path / "inventory.yml").write_text(json.dumps(inventory))
    (tmp_path / "vars.json").write_text(json.dumps({"redis_password": GOOD_PASSWORD, **extra}))
    play = [{"name": "Bad input", "hosts": "redis", "gather_facts": False, "roles": ["mvp_platform.infra.redis"]}]
    (tmp_path / "play.yml").write_text(json.dumps(play))
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}:{env.get('PATH', '')}"
    proc = subprocess.run(
        ["ansible-playbook", "-i", str(tmp_path / "inventory.yml"), str(tmp_path / "play.yml"), "-e", "@vars.json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = re.sub(r"\s+", " ", proc.stdout + proc.stderr)
    assert proc.returncode != 0, output[-3000:]
    recap = re.search(rf"{FAKE_HOST}\s*:\s*ok=(\d+) changed=(\d+) unreachable=(\d+) failed=(\d+)", output)
    assert recap, output[-3000:]
    assert recap.group(2) == "0" and recap.group(3) == "0" and recap.group(4) == "1", recap.group(0)
    return output


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_fails_before_the_host_is_touched(tmp_path, case):
    extra, expected = CASES[case]
    output = run(tmp_path, extra)
    assert re.search(expected, output), output[-3000:]
    for secret in (GOOD_PASSWORD, extra.get("redis_password") or GOOD_PASSWORD):
        assert secret not in output or len(secret) < 8, "a password appears in the output"
