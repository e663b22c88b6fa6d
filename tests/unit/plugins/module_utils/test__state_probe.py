"""The host state probe of the hardening and docker roles: it must never call a drifted item in sync.

A false "in sync" would make a role skip a task that should correct the host, so the tests pin the
comparison of type, owner, group, mode and content, the authorized_keys rule, and the script
entry point as the roles run it (``python3 -c <file> SPEC_JSON``).
"""

import hashlib
import json
import subprocess
import sys

import pytest
from _program import ME, MODULE_UTILS, MY_GROUP, load

P = load("_state_probe")


def want(path, **kw):
    return {"path": str(path), "type": "file", "owner": ME, "group": MY_GROUP, "mode": "0640", **kw}


@pytest.fixture
def managed(tmp_path):
    path = tmp_path / "managed.conf"
    path.write_text("setting = 1\n")
    path.chmod(0o640)
    return path


def test_a_file_as_wanted_is_in_sync(managed):
    assert P.path_in_sync(want(managed, sha256=hashlib.sha256(b"setting = 1\n").hexdigest()))


@pytest.mark.parametrize(
    "drift",
    [
        {"mode": "0644"},
        {"owner": "nobody-else"},
        {"group": "nobody-else"},
        {"type": "directory"},
        {"sha256": hashlib.sha256(b"setting = 2\n").hexdigest()},
    ],
)
def test_any_drift_is_out_of_sync(managed, drift):
    assert not P.path_in_sync(want(managed, **drift))


def test_a_missing_path_is_in_sync_only_when_it_must_be_absent(tmp_path):
    assert not P.path_in_sync(want(tmp_path / "nope"))
    assert P.path_in_sync(want(tmp_path / "nope", type="absent"))


def test_describe_reports_type_owner_group_mode_and_digest(managed):
    digest = hashlib.sha256(b"setting = 1\n").hexdigest()
    assert P.describe(str(managed)) == f"file {ME} {MY_GROUP} 0640 {digest}"
    assert P.describe(str(managed.parent / "nope")) == ""
    assert P.describe(str(managed.parent)) == "other"


def test_a_missing_program_reads_as_rc_127():
    assert P.run(["/nonexistent/program"])["rc"] == 127


def test_the_script_entry_point_prints_the_result(managed):
    spec = {"paths": [want(managed), want(managed.parent / "gone", type="absent")], "stats": [str(managed)]}
    proc = subprocess.run(
        [sys.executable, "-c", (MODULE_UTILS / "_state_probe.py").read_text(), json.dumps(spec)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(proc.stdout)
    assert result["in_sync"] == [str(managed), str(managed.parent / "gone")]
    assert result["missing"] == [str(managed.parent / "gone")]
    assert result["stats"][str(managed)].startswith(f"file {ME} {MY_GROUP} 0640 ")
