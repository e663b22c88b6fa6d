"""Lockout and weak-crypto guards (issue 13): each refused before any change, naming the variable.

hardening cases run the role's preflight on the control node in check mode (local connection),
one host per case in one run: each must fail there with changed=0. nginx cases run against a host that does not
exist (a Docker connection to a missing container), like test_platform_bad_input.py: the play fails
on the controller and the host is never contacted. Each area's escape hatch lets the same value
through the guard.
"""

import re

import pytest
from _runner import HOST_CONTACTED, LOCAL_HOST_VARS, local_role_play, role_play, run_batch

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


# Every hardening case in one run on the control node: one host per case, all with the local
# connection, in check mode and limited to the preflight (the role's hardening_preflight tag),
# which is where every guard stands. A case that gets through runs the preflight to its end.
BASELINE_ADMINS = [{"name": "alice", "ssh_keys": [KEY]}]
ENROLLED = [{**a, "totp_secret": "KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TF"} for a in MFA_ADMINS]
PASSING = {
    "nullok off, everyone enrolled": {
        "hardening_ssh_mfa_enabled": True,
        "hardening_ssh_mfa_nullok": False,
        "hardening_admin_users": ENROLLED,
    },
    "allowlist that holds the controller": {
        "hardening_ssh_allow_cidrs": ["10.81.0.0/24", "10.82.0.0/24"],
        "hardening_ssh_controller_address": "10.82.0.1",
    },
}


@pytest.fixture(scope="module")
def hardening_runs(tmp_path_factory):
    cases = {f"guard: {c}": v[0] for c, v in HARDENING.items()}
    cases.update({f"hatch: {c}": {**v[0], **v[2]} for c, v in HARDENING.items() if v[2]})
    cases.update({f"pass: {c}": v for c, v in PASSING.items()})
    return run_batch(
        tmp_path_factory.mktemp("hardening"),
        local_role_play("hardening", gather_facts=False),  # the preflight checks the inventory only
        cases,
        "--check",
        "--diff",
        "--tags",
        "hardening_preflight",
        prefix="mvp-lockout",
        common={"hardening_admin_users": BASELINE_ADMINS},
        host_vars=LOCAL_HOST_VARS,
    )


def past_the_preflight(run):
    """The host ran the preflight to its end: nothing failed after its first check."""
    return run.result is None and run.ran("Check the formats and ranges of the settings")


@pytest.mark.parametrize("case", list(HARDENING), ids=list(HARDENING))
def test_hardening_guard_refuses_before_any_change(hardening_runs, case):
    expected = HARDENING[case][1]
    run = hardening_runs[f"guard: {case}"]
    assert run.result is not None, f"accepted: {HARDENING[case][0]}"
    assert re.search(expected, run.output), run.output[:3000]
    assert not run.stats.get("changed"), run.stats


@pytest.mark.parametrize(
    "case", [c for c, v in HARDENING.items() if v[2]], ids=[c for c, v in HARDENING.items() if v[2]]
)
def test_hardening_escape_hatch_lets_the_value_through_the_guard(hardening_runs, case):
    run = hardening_runs[f"hatch: {case}"]
    assert not re.search(HARDENING[case][1], run.output), run.output[:3000]
    assert past_the_preflight(run), run.output[:3000]


@pytest.mark.parametrize("case", list(PASSING), ids=list(PASSING))
def test_safe_settings_pass_the_guards(hardening_runs, case):
    """nullok off once everyone is enrolled or vaulted; an allowlist that holds the controller."""
    assert past_the_preflight(hardening_runs[f"pass: {case}"]), hardening_runs[f"pass: {case}"].output[:3000]


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


@pytest.fixture(scope="module")
def nginx_runs(tmp_path_factory):
    cases = {f"guard: {c}": {**NGINX_BASE, **v[0]} for c, v in NGINX.items()}
    cases.update({f"hatch: {c}": {**NGINX_BASE, **v[0], **v[2]} for c, v in NGINX.items() if v[2]})
    return run_batch(
        tmp_path_factory.mktemp("nginx"), role_play("nginx"), cases, prefix="mvp-sec-bad-input", rename=FAKE_HOST
    )


@pytest.mark.parametrize("case", list(NGINX), ids=list(NGINX))
def test_nginx_tls_guard_refuses_before_any_change(nginx_runs, case):
    output = nginx_runs[f"guard: {case}"].assert_failed_before_the_host()
    assert re.search(NGINX[case][1], output), output[:3000]


@pytest.mark.parametrize("case", [c for c, v in NGINX.items() if v[2]], ids=[c for c, v in NGINX.items() if v[2]])
def test_nginx_escape_hatch_lets_the_value_through_the_guard(nginx_runs, case):
    run = nginx_runs[f"hatch: {case}"]
    assert not re.search(NGINX[case][1], run.output), run.output[:3000]
    # Past every check: the first task that needs the (missing) host is where it stops.
    assert run.ran("Check the formats and ranges of the settings"), run.tasks
    assert HOST_CONTACTED.search(run.output) or run.stats.get("unreachable"), run.output[:3000]
