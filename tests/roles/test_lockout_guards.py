"""Lockout and weak-crypto guards (issue 13): each refused before any change, naming the variable.

hardening cases run the role on the control node in check mode (tests/roles/playbooks/preflight.yml,
local connection) like test_bad_input.py: the play must fail in the preflight with changed=0 and
never reach the first task that changes anything. nginx cases run against a host that does not
exist (a Docker connection to a missing container), like test_platform_bad_input.py: the play fails
on the controller and the host is never contacted. Each area's escape hatch lets the same value
through the guard.
"""

import json
import re
from pathlib import Path

import pytest
from _runner import ansible_playbook, assert_failed_before_the_host, flat_output, write_inventory, write_role_play
from _runner import recap as recap_of

PLAYBOOK = Path(__file__).resolve().parent / "playbooks" / "preflight.yml"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKV2nwcFhC6kboHxlM33mYmxRDjFo7i910hZtWIY2wi5 example"
MFA_ADMINS = [
    {"name": "alice", "mfa": True, "ssh_keys": [KEY]},
    {"name": "carol", "mfa": True, "ssh_keys": [KEY]},
    {"name": "dave", "mfa": True, "ssh_keys": [KEY], "totp_secret": "KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TF"},
]
SSH_HATCH = {"hardening_ssh_allow_unsafe": True}
FW_HATCH = {"hardening_firewall_allow_unsafe": True}

# name: (variables, expected message (regex, on the folded output), escape hatch or None)
HARDENING = {
    "MaxAuthTries 1": (
        {"hardening_ssh_max_auth_tries": 1},
        r"hardening_ssh_max_auth_tries=1 \(safe range 2-6",
        SSH_HATCH,
    ),
    "MaxAuthTries out of range": (
        {"hardening_ssh_max_auth_tries": 500},
        r"hardening_ssh_max_auth_tries=500 must be a number from 1 to 100",
        None,
    ),
    "no LoginGraceTime": (
        {"hardening_ssh_login_grace_time": 0},
        r"hardening_ssh_login_grace_time=0 \(safe range 10-120",
        SSH_HATCH,
    ),
    "LoginGraceTime not a number": (
        {"hardening_ssh_login_grace_time": "1m"},
        r"hardening_ssh_login_grace_time.*('1m'|1m)",
        None,
    ),
    "ClientAliveCountMax 10": (
        {"hardening_ssh_client_alive_count_max": 10},
        r"hardening_ssh_client_alive_count_max=10 \(safe range 1-3\)",
        SSH_HATCH,
    ),
    "MaxSessions 0": (
        {"hardening_ssh_max_sessions": 0},
        r"hardening_ssh_max_sessions=0 must be a number from 1 to 1000",
        None,
    ),
    "MaxStartups 1": (
        {"hardening_ssh_max_startups": "1:30:60"},
        r"hardening_ssh_max_startups=1:30:60 \(start at least 2",
        SSH_HATCH,
    ),
    "MaxStartups malformed": (
        {"hardening_ssh_max_startups": "ten"},
        r"hardening_ssh_max_startups \('ten'\) must be N",
        None,
    ),
    "port move timeout": (
        {"hardening_ssh_port_move_timeout": 3},
        r"hardening_ssh_port_move_timeout=3 must be a number from 10 to 3600",
        None,
    ),
    "short moduli": (
        {"hardening_ssh_moduli_min_bits": 2048},
        r"hardening_ssh_moduli_min_bits=2048 \(safe range 3072-8192\)",
        SSH_HATCH,
    ),
    "log level QUIET": (
        {"hardening_ssh_log_level": "QUIET"},
        r"hardening_ssh_log_level=QUIET \(INFO or VERBOSE",
        SSH_HATCH,
    ),
    "root login": ({"hardening_ssh_permit_root_login": True}, r"hardening_ssh_permit_root_login=true", SSH_HATCH),
    "password login": (
        {"hardening_ssh_password_authentication": True},
        r"hardening_ssh_password_authentication=true \(below the key-only baseline\)",
        SSH_HATCH,
    ),
    "weak cipher": (
        {"hardening_ssh_ciphers": ["aes256-gcm@openssh.com", "3des-cbc"]},
        r"hardening_ssh_ciphers has 3des-cbc \(not in the modern set",
        SSH_HATCH,
    ),
    "weak kex and mac": (
        {"hardening_ssh_kex_algorithms": ["diffie-hellman-group1-sha1"], "hardening_ssh_macs": ["hmac-sha1"]},
        r"hardening_ssh_kex_algorithms has diffie-hellman-group1-sha1 .*hardening_ssh_macs has hmac-sha1",
        SSH_HATCH,
    ),
    "AllowGroups without the deploy user": (
        {"hardening_ssh_allow_groups": ["mvp-admins"]},
        r"hardening_ssh_allow_groups \(mvp-admins\) leaves out the deploy user group deploy",
        SSH_HATCH,
    ),
    "nullok off before enrolment": (
        {"hardening_ssh_mfa_enabled": True, "hardening_ssh_mfa_nullok": False, "hardening_admin_users": MFA_ADMINS},
        r"hardening_ssh_mfa_nullok is false but these admins .* have neither a totp_secret .*: alice, carol\.",
        SSH_HATCH,
    ),
    "MFA admin without a key": (
        {
            "hardening_ssh_mfa_enabled": True,
            "hardening_ssh_mfa_nullok": True,
            "hardening_admin_users": [{"name": "alice", "ssh_keys": [KEY]}, {"name": "erin", "mfa": True}],
        },
        r"have no ssh_keys and could never log in: erin\.",
        None,
    ),
    "MFA with passwords": (
        {
            "hardening_ssh_mfa_enabled": True,
            "hardening_ssh_mfa_nullok": True,
            "hardening_ssh_password_authentication": True,
            "hardening_ssh_allow_unsafe": True,
        },
        r"cannot be combined with hardening_ssh_password_authentication: true",
        None,
    ),
    "allowlist without the controller": (
        {"hardening_ssh_allow_cidrs": ["10.81.0.0/24"], "hardening_ssh_controller_address": "10.82.0.1"},
        r"hardening_ssh_allow_cidrs \(10\.81\.0\.0/24\) leaves out 10\.82\.0\.1, the address Ansible connects from",
        FW_HATCH,
    ),
    "blocked range with the controller": (
        {"hardening_firewall_blocked_cidrs": ["10.82.0.0/16"], "hardening_ssh_controller_address": "10.82.0.1"},
        r"hardening_firewall_blocked_cidrs blocks 10\.82\.0\.1",
        FW_HATCH,
    ),
    "block everything": (
        {"hardening_firewall_blocked_cidrs": ["0.0.0.0/0"]},
        r"hardening_firewall_blocked_cidrs has 0\.0\.0\.0/0 \(blocks every address\)",
        FW_HATCH,
    ),
    "SSH rate limit too low": (
        {"hardening_firewall_ssh_rate_limit": "2/hour"},
        r"hardening_firewall_ssh_rate_limit=2/hour \(safe range: at least 3/minute\)",
        FW_HATCH,
    ),
    "SSH rate limit malformed": (
        {"hardening_firewall_ssh_rate_limit": "fast"},
        r"hardening_firewall_ssh_rate_limit \('fast'\) must be",
        None,
    ),
    "SSH burst too low": (
        {"hardening_firewall_ssh_rate_burst": 1},
        r"hardening_firewall_ssh_rate_burst=1 \(safe range: at least 5\)",
        FW_HATCH,
    ),
    "fail2ban maxretry 1": (
        {"hardening_fail2ban_maxretry": 1},
        r"hardening_fail2ban_maxretry=1 \(safe range 3-20",
        FW_HATCH,
    ),
    "fail2ban bantime zero": ({"hardening_fail2ban_bantime": "0"}, r"hardening_fail2ban_bantime \('0'\)", None),
    "fail2ban ignoreip": ({"hardening_fail2ban_ignoreip": ["localhost"]}, r"hardening_fail2ban_ignoreip", None),
}


def run_hardening(extra_vars):
    variables = {"role_under_test": "hardening", **extra_vars}
    proc = ansible_playbook(PLAYBOOK, "--check", "--diff", "-e", json.dumps(variables))
    return proc, recap_of(proc.stdout, "localhost")


def past_the_preflight(proc):
    """The role reached its first task after the preflight (the state probe)."""
    return "Probe the files, units and packages the role manages" in proc.stdout


@pytest.mark.parametrize("case", list(HARDENING), ids=list(HARDENING))
def test_hardening_guard_refuses_before_any_change(case):
    variables, expected = HARDENING[case][:2]
    proc, recap = run_hardening(variables)
    output = flat_output(proc)
    assert proc.returncode != 0, output[-3000:]
    assert re.search(expected, output), output[-3000:]
    assert recap and recap.group(2) == "0", output[-3000:]
    assert not past_the_preflight(proc), output[-3000:]


@pytest.mark.parametrize(
    "case", [c for c, v in HARDENING.items() if v[2]], ids=[c for c, v in HARDENING.items() if v[2]]
)
def test_hardening_escape_hatch_lets_the_value_through_the_guard(case):
    variables, expected, hatch = HARDENING[case]
    proc = run_hardening({**variables, **hatch})[0]
    assert not re.search(expected, flat_output(proc)), flat_output(proc)[-3000:]
    assert past_the_preflight(proc), proc.stdout[-3000:]


def test_nullok_off_passes_once_everyone_is_enrolled_or_vaulted():
    admins = [{**a, "totp_secret": "KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TF"} for a in MFA_ADMINS]
    proc = run_hardening(
        {"hardening_ssh_mfa_enabled": True, "hardening_ssh_mfa_nullok": False, "hardening_admin_users": admins}
    )[0]
    assert "hardening_ssh_mfa_nullok is false" not in flat_output(proc)
    assert past_the_preflight(proc), proc.stdout[-3000:]


def test_the_allowlist_that_holds_the_controller_passes():
    proc = run_hardening(
        {"hardening_ssh_allow_cidrs": ["10.81.0.0/24", "10.82.0.0/24"], "hardening_ssh_controller_address": "10.82.0.1"}
    )[0]
    assert "leaves out" not in flat_output(proc)
    assert past_the_preflight(proc), proc.stdout[-3000:]


# --- nginx TLS ----------------------------------------------------------------------------------

FAKE_HOST = "mvp-sec-bad-input"
NGINX_BASE = {
    "platform_env": "production",
    "platform_domain": "shop.example.com",
    "platform_admin_email": "ops@example.com",
    "nginx_tls_mode": "selfsigned",
    "nginx_app_hosts": [FAKE_HOST],
}
TLS_HATCH = {"nginx_tls_allow_unsafe": True}
NGINX = {
    "TLS 1.0": (
        {"nginx_tls_protocols": ["TLSv1", "TLSv1.2"]},
        r"nginx_tls_protocols has TLSv1 \(safe: TLSv1\.2 and TLSv1\.3 only\)",
        TLS_HATCH,
    ),
    "unknown protocol": ({"nginx_tls_protocols": ["TLSv9"]}, r"nginx_tls_protocols \(\['TLSv9'\]\) must be", None),
    "no protocol": ({"nginx_tls_protocols": []}, r"nginx_tls_protocols \(\[\]\) must be a non-empty list", None),
    "CBC cipher": (
        {"nginx_tls_ciphers": "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA"},
        r"nginx_tls_ciphers has ECDHE-RSA-AES128-SHA \(safe: ECDHE/DHE",
        TLS_HATCH,
    ),
    "short HSTS": ({"nginx_hsts_max_age": 3600}, r"nginx_hsts_max_age=3600 \(safe: at least 15552000", TLS_HATCH),
    "HSTS not a number": ({"nginx_hsts_max_age": "-1"}, r"nginx_hsts_max_age", None),
    "self-signed for ten years": (
        {"nginx_selfsigned_days": 3650},
        r"nginx_selfsigned_days=3650 \(safe: at most 825\)",
        TLS_HATCH,
    ),
}


def run_nginx(tmp_path, extra):
    inventory = write_inventory(tmp_path, FAKE_HOST)
    return ansible_playbook(
        write_role_play(tmp_path, "nginx", FAKE_HOST),
        inventory=inventory,
        extra_vars={**NGINX_BASE, **extra},
        tmp_path=tmp_path,
    )


@pytest.mark.parametrize("case", list(NGINX), ids=list(NGINX))
def test_nginx_tls_guard_refuses_before_any_change(tmp_path, case):
    variables, expected = NGINX[case][:2]
    output = assert_failed_before_the_host(run_nginx(tmp_path, variables), FAKE_HOST)
    assert re.search(expected, output), output[-3000:]


@pytest.mark.parametrize("case", [c for c, v in NGINX.items() if v[2]], ids=[c for c, v in NGINX.items() if v[2]])
def test_nginx_escape_hatch_lets_the_value_through_the_guard(tmp_path, case):
    variables, expected, hatch = NGINX[case]
    output = flat_output(run_nginx(tmp_path, {**variables, **hatch}))
    assert not re.search(expected, output), output[-3000:]
    assert "Refused before any change" not in output, output[-3000:]
