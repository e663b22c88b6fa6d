"""The access audit's comparison: anything the inventory does not declare is a finding, nothing else."""

import json
import subprocess
import sys

import pytest
from _program import MODULE_UTILS, load

A = load("_access_audit")

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKV2nwcFhC6kboHxlM33mYmxRDjFo7i910hZtWIY2wi5 alice"
KEY_FP = "SHA256:vTdCSpCR9Kj+24b0W512GzR+pFRFN8X6wnS7zBTpGxk"  # ssh-keygen -lf of KEY
OTHER_FP = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


def account(name, **kw):
    base = {"name": name, "uid": 1000, "shell": "/bin/bash", "shadow": "locked", "keys": [], "sudo": []}
    return {**base, "docker": False, "mfa_enrolled": False, "last_login": "", **kw}


SPEC = {
    "declared": {
        "root": {"keys": [], "sudo": True, "password_ok": True},
        "alice": {"keys": [KEY], "sudo": True, "docker": True, "mfa": True},
        "deploy": {"keys": [], "sudo": True, "docker": True},
    },
    "mfa_enforced": True,
}


def test_fingerprint_matches_ssh_keygen():
    assert A.fingerprint(KEY) == KEY_FP
    assert A.fingerprint('from="10.0.0.0/8",no-pty ' + KEY) == KEY_FP
    assert A.fingerprint("ssh-ed25519 not*base64 x") is None


def test_a_host_that_matches_the_inventory_has_no_findings():
    accounts = [
        account("root", uid=0, shadow="set", sudo=["(ALL : ALL) ALL"]),
        account("alice", keys=[KEY_FP], sudo=["(ALL) NOPASSWD: ALL"], docker=True, mfa_enrolled=True),
        account("deploy", sudo=["(ALL) NOPASSWD: ALL"], docker=True),
    ]
    assert A.compare(SPEC, accounts) == []


@pytest.mark.parametrize(
    ("acct", "finding"),
    [
        (account("mallory", keys=[OTHER_FP]), "mallory: login-capable account not in the inventory"),
        (account("mallory", shadow="set"), "mallory: login-capable account not in the inventory"),
        (account("svc", sudo=["(ALL) ALL"]), "svc: sudo rights not in the inventory"),
        (account("svc", docker=True), "svc: in the docker group but not in the inventory"),
        (
            account("alice", keys=[KEY_FP, OTHER_FP], mfa_enrolled=True, docker=True),
            f"authorised key(s) not in the inventory: {OTHER_FP}",
        ),
        (account("root", uid=0, keys=[OTHER_FP]), "root: authorised key(s) not in the inventory"),
        (account("alice", keys=[KEY_FP], mfa_enrolled=False, docker=True), "alice: mfa: true but not enrolled"),
        (
            account("alice", keys=[KEY_FP], mfa_enrolled=True, docker=True, shadow="none"),
            "alice: has a usable password (none)",
        ),
        (account("deploy", docker=True, sudo=[]), None),
    ],
)
def test_each_undeclared_thing_is_a_finding(acct, finding):
    findings = A.compare(SPEC, [acct])
    if finding is None:
        assert findings == []
    else:
        assert any(finding in f for f in findings), findings


def test_mfa_enrolment_only_counts_once_enforced():
    relaxed = {**SPEC, "mfa_enforced": False}
    assert A.compare(relaxed, [account("alice", keys=[KEY_FP], docker=True, sudo=["x"])]) == []


def test_a_locked_system_account_without_keys_is_no_finding():
    assert A.compare(SPEC, [account("backup", shadow="locked")]) == []


@pytest.mark.parametrize(
    ("field", "state"), [(None, "locked"), ("", "none"), ("!", "locked"), ("*", "locked"), ("$y$j9T$x", "set")]
)
def test_password_state(field, state):
    assert A.password_state(field) == state


def test_key_fingerprints_of_a_file(tmp_path):
    keys = tmp_path / "authorized_keys"
    keys.write_text(f"# comment\n\n{KEY}\nssh-ed25519 @@@ broken\n")
    assert A.key_fingerprints(str(keys)) == sorted([KEY_FP, "unreadable key"])
    assert A.key_fingerprints(str(tmp_path / "missing")) == []


def test_script_prints_one_json_object():
    proc = subprocess.run(
        [sys.executable, str(MODULE_UTILS / "_access_audit.py"), json.dumps({"declared": {}})],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(proc.stdout)
    assert set(result) == {"accounts", "findings"}
