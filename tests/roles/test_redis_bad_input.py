"""Bad input to the redis role fails clearly, naming the variable, before the host is touched.

Each case runs the role against a host that does not exist (a Docker connection to a missing
container) with one bad variable, all cases in one run (one host each): the preflight asserts
need no host, so the play must fail there with a message naming the variable, with nothing
changed and the host never contacted (unreachable=0). The password never appears in the output.
Run: .venv/bin/pytest tests/roles/test_redis_bad_input.py
"""

import re

import pytest
from _runner import role_play, run_batch

GOOD_PASSWORD = "rd-bad-input-0123456789abcdef"  # noqa: S105 (test value)

CASES = {
    "missing password": ({"redis_password": ""}, r"redis_password \(vault_redis_password in the vault\) must be"),
    "short password": ({"redis_password": "short"}, r"redis_password \(vault_redis_password in the vault\)"),
    "password with a quote": ({"redis_password": 'abc"def0123456789xyz'}, r"without whitespace, quotes"),
    "placeholder password": ({"redis_password": "CHANGE-ME-0123456789"}, r"no CHANGE-ME placeholder"),
    "public bind address": (
        {"redis_bind_address": "8.8.8.8"},
        r"redis_bind_address='8\.8\.8\.8' must be a loopback or private address",
    ),
    "any address": ({"redis_bind_address": "0.0.0.0"}, r"redis_bind_address='0\.0\.0\.0' must be"),
    "unknown persistence": ({"redis_persistence": "both"}, r"redis_persistence must be one of: none, rdb, aof"),
    "unknown eviction policy": (
        {"redis_maxmemory_policy": "lru"},
        r"redis_maxmemory_policy must be one of: noeviction, allkeys-lru",
    ),
    "maxmemory in redis units": ({"redis_maxmemory": "256mb"}, r"redis_maxmemory='256mb' must be a Docker size"),
    "container limit below maxmemory": (
        {"redis_maxmemory": "512M", "redis_memory_limit": "256M"},
        r"redis_memory_limit=256M must be at least 1M|redis_memory_limit=256M above it",
    ),
    "bad save rule": ({"redis_save": ["every 5 minutes"]}, r"redis_save=\['every 5 minutes'\] is a list of"),
    "rdb without save rules": ({"redis_save": []}, r"not empty with rdb"),
    "appendfsync": (
        {"redis_persistence": "aof", "redis_appendfsync": "sometimes"},
        r"redis_appendfsync must be one of",
    ),
    "archive without archives": ({"redis_image_source": "archive"}, r"archive needs redis_image_archives"),
    "relative root": (
        {"redis_root": "opt/redis"},
        r"redis_root='opt/redis' must be an absolute path that is not a system directory",
    ),
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


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every case in one run, one missing host per case."""
    return run_batch(
        tmp_path_factory.mktemp("redis"),
        role_play("redis"),
        {case: {"redis_password": GOOD_PASSWORD, **extra} for case, (extra, _expected) in CASES.items()},
        prefix="mvp-redis-bad-input",
        groups=("redis",),
    )


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_fails_before_the_host_is_touched(runs, case):
    extra, expected = CASES[case]
    output = runs[case].assert_failed_before_the_host()
    assert re.search(expected, output), output[:3000]
    for secret in (GOOD_PASSWORD, extra.get("redis_password") or GOOD_PASSWORD):
        assert secret not in runs[case].everything or len(secret) < 8, "a password appears in the output"
