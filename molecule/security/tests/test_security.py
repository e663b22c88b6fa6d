"""Security scenario: MFA over SSH and the source allowlist, proven by logging in (issue 13).

Every login is made from a client container: the one on the allowed test network (10.81.0.0/24)
and the one on the other test network (10.82.0.0/24). The one-time codes are computed here from
the enrolled secret (RFC 6238, standard library) and typed by sshpass at the code prompt.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import struct
import time
from pathlib import Path

import pytest
import testinfra

testinfra_hosts = ["security"]

HOST_ALLOWED_IP = "10.81.0.10"  # the hardened host on the allowed network
HOST_OTHER_IP = "10.82.0.10"  # ... and on the network the allowlist leaves out
MFA_USER, MFA_SECRET = "mvpmfa", "KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TF"
ENROL_USER = "mvpenrol"
SSH = (
    "ssh -i /root/.ssh/id_ed25519 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
    " -o ConnectTimeout=6 -o NumberOfPasswordPrompts=1"
)
PROMPT = "Verification code"


def totp(secret: str, at: float | None = None) -> str:
    """The RFC 6238 code (SHA-1, 30 s, 6 digits) that pam_google_authenticator expects."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int((at or time.time()) // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def fresh_window():
    """Wait for a new 30 s step when less than 6 s are left (a code must not expire mid-login)."""
    left = 30 - time.time() % 30
    if left < 6:
        time.sleep(left + 0.5)


def wrong_code(secret: str) -> str:
    valid = {totp(secret, time.time() + d) for d in (-60, -30, 0, 30, 60)}
    code = int(totp(secret))
    while f"{code:06d}" in valid:
        code = (code + 7919) % 1_000_000
    return f"{code:06d}"


@pytest.fixture(scope="module", autouse=True)
def fail2ban_ignores_the_test_client(request):
    """The tests refuse logins on purpose from the allowed client: tell the running fail2ban (not its
    configuration, so check/diff is unaffected) to ignore that client while they run. Banning
    itself is tested in the host_baseline scenario."""
    target = testinfra.get_host("docker://mvp-sec-host")
    target.run("fail2ban-client set sshd addignoreip 10.81.0.20")
    yield
    target.run("fail2ban-client set sshd delignoreip 10.81.0.20")


@pytest.fixture(scope="module")
def allowed():
    return testinfra.get_host("docker://mvp-sec-client-allowed")


@pytest.fixture(scope="module")
def other():
    return testinfra.get_host("docker://mvp-sec-client-other")


def key_only(client, user, ip=HOST_ALLOWED_IP, command="echo LOGGED-IN"):
    """Public key only: BatchMode answers no prompt, so a code prompt means refusal."""
    return client.run(f"{SSH} -o BatchMode=yes {user}@{ip} {command}")


def key_and_code(client, user, code, ip=HOST_ALLOWED_IP, command="echo LOGGED-IN"):
    """Public key, then sshpass types code at the verification prompt (keyboard-interactive)."""
    return client.run(f"sshpass -P '{PROMPT}' -p {code} {SSH} {user}@{ip} {command}")


# --- check mode / diff ------------------------------------------------------------------------


def test_check_diff_on_converged_host_changes_nothing(check_diff_run):
    assert check_diff_run["rc"] == 0, check_diff_run["output"]
    assert check_diff_run["recap"], check_diff_run["output"]
    assert not check_diff_run["changed"], check_diff_run["output"]


# --- sshd's view of each user ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "methods"),
    [
        (MFA_USER, "publickey,keyboard-interactive:pam"),
        (ENROL_USER, "publickey,keyboard-interactive:pam"),
        ("deploy", "publickey"),
        ("mvptest", "publickey"),
    ],
)
def test_sshd_authentication_methods_per_user(host, user, methods):
    out = host.run(f"sshd -T -C user={user},host=client,addr={HOST_ALLOWED_IP}").stdout
    assert f"authenticationmethods {methods}" in out


def test_pam_stack_asks_for_the_code_and_never_for_a_password(host):
    pam = host.file("/etc/pam.d/sshd").content_string
    assert re.search(r"^auth required pam_google_authenticator\.so nullok$", pam, re.M)
    assert not re.search(r"^@include common-auth", pam, re.M)


# --- MFA (SEC-1) ------------------------------------------------------------------------------


def test_mfa_admin_key_alone_is_refused(allowed):
    result = key_only(allowed, MFA_USER)
    assert result.rc != 0 and "LOGGED-IN" not in result.stdout, result.stdout + result.stderr
    assert "Permission denied" in result.stderr


def test_mfa_admin_key_and_wrong_code_is_refused(allowed):
    fresh_window()
    result = key_and_code(allowed, MFA_USER, wrong_code(MFA_SECRET))
    assert result.rc != 0 and "LOGGED-IN" not in result.stdout, result.stdout + result.stderr


def test_mfa_admin_key_and_correct_code_logs_in_and_is_logged(host, allowed):
    # One test: the journal check needs this login, and pytest runs the tests that use the host
    # fixture before the others, whatever their order in this file.
    fresh_window()
    result = key_and_code(allowed, MFA_USER, totp(MFA_SECRET), command="id -nG")
    assert result.rc == 0, result.stdout + result.stderr
    assert "mvp-mfa" in result.stdout.split() and "mvp-admins" in result.stdout.split()
    journal = host.run("journalctl -t sshd -t sshd-session --no-pager -o cat").stdout
    assert re.search(rf"Accepted keyboard-interactive/pam for {MFA_USER} from 10\.81\.0\.20", journal), journal[-2000:]
    assert re.search(rf"Partial publickey for {MFA_USER} from 10\.81\.0\.20", journal), journal[-2000:]


def test_deploy_user_is_never_asked_for_a_code(allowed):
    result = allowed.run(
        f"{SSH} -o BatchMode=yes -o KbdInteractiveAuthentication=no deploy@{HOST_ALLOWED_IP} echo LOGGED-IN"
    )
    assert result.rc == 0 and "LOGGED-IN" in result.stdout, result.stdout + result.stderr
    assert PROMPT not in result.stdout + result.stderr


def test_first_login_enrolment_with_nullok(host, allowed):
    """Not enrolled: no code is asked (nullok); the admin enrols; from then on the code is needed."""
    secret_file = host.file(f"/home/{ENROL_USER}/.google_authenticator")
    assert not secret_file.exists
    # keyboard-interactive is offered but PAM asks nothing: the key alone gets in.
    first = key_and_code(allowed, ENROL_USER, "000000")
    assert first.rc == 0 and "LOGGED-IN" in first.stdout, first.stdout + first.stderr
    # The documented enrolment command (roles/hardening/README.md), run in that first session.
    enrol = key_and_code(allowed, ENROL_USER, "000000", command="'google-authenticator -t -d -f -r 3 -R 30 -w 3 -q'")
    assert enrol.rc == 0, enrol.stdout + enrol.stderr
    with host.sudo():
        assert secret_file.mode == 0o400 and secret_file.user == ENROL_USER
        secret = secret_file.content_string.splitlines()[0].strip()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret)
    assert key_only(allowed, ENROL_USER).rc != 0
    wrong = key_and_code(allowed, ENROL_USER, wrong_code(secret))
    assert wrong.rc != 0 and "LOGGED-IN" not in wrong.stdout, wrong.stdout + wrong.stderr
    fresh_window()
    coded = key_and_code(allowed, ENROL_USER, totp(secret))
    assert coded.rc == 0 and "LOGGED-IN" in coded.stdout, coded.stdout + coded.stderr


# --- source allowlist ---------------------------------------------------------------------------


def test_ssh_from_the_allowed_network_gets_in(allowed):
    result = key_only(allowed, "mvptest")
    assert result.rc == 0 and "LOGGED-IN" in result.stdout, result.stdout + result.stderr


def test_ssh_from_another_network_is_dropped(other):
    # Dropped, not refused: the connection attempt times out (nc exit 1 after -w 4 without a reset).
    started = time.monotonic()
    result = other.run(f"nc -z -w 4 {HOST_OTHER_IP} 22")
    assert result.rc != 0
    assert time.monotonic() - started >= 3.5, "answered quickly: refused rather than dropped"
    login = key_only(other, "mvptest", ip=HOST_OTHER_IP)
    assert login.rc != 0 and "LOGGED-IN" not in login.stdout
    assert "timed out" in login.stderr, login.stderr


def test_the_other_network_reaches_the_host_otherwise(other):
    # Port 80 is open to anyone and nothing listens there: a quick reset, so the path works and
    # only SSH is filtered by source.
    result = other.run(f"curl -sS -o /dev/null -m 4 http://{HOST_OTHER_IP}/")
    assert result.rc == 7, result.stderr  # connection refused


def test_firewall_ruleset_limits_ssh_to_the_allowlist(host):
    with host.sudo():
        rules = host.run("nft list table inet mvp_hardening").stdout
    assert re.search(r"ip saddr 10\.81\.0\.0/24 tcp dport (\{ )?22( \})? accept", rules), rules


# --- guard: the address Ansible connects from ----------------------------------------------------


def test_allowlist_guard_sees_the_address_of_a_real_ssh_connection(run_playbook, tmp_path):
    """Over SSH (the controller is 10.81.0.1 on the allowed test network), an allowlist without
    that address is refused in the preflight; the host stays as it is."""
    key = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "mvp-sec-key")
    inventory = tmp_path / "ssh-inventory.yml"
    inventory.write_text(
        "all:\n  hosts:\n    mvp-sec-host:\n"
        f"      ansible_host: {HOST_ALLOWED_IP}\n      ansible_user: deploy\n      ansible_connection: ssh\n"
        f"      ansible_ssh_private_key_file: {key}\n"
        "      ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null\n"
        "      ansible_become: true\n"
    )
    play = tmp_path / "play.yml"
    # The scenario's admins (with their key) so that only the allowlist guard has a reason to refuse.
    public_key = Path(key + ".pub").read_text().strip()
    play.write_text(
        "- hosts: all\n  gather_facts: true\n  roles:\n    - role: mvp_platform.infra.hardening\n"
        "      vars:\n        hardening_ssh_allow_cidrs: [10.82.0.0/24]\n"
        f"        hardening_admin_users: [{{name: mvptest, ssh_keys: ['{public_key}']}}]\n"
    )
    proc = run_playbook(str(play), "--check", inventory=str(inventory))
    output = re.sub(r"\s+", " ", proc.stdout + proc.stderr)
    assert proc.returncode != 0, output[-3000:]
    assert "hardening_ssh_allow_cidrs (10.82.0.0/24) leaves out 10.81.0.1" in output, output[-3000:]
    assert re.search(r"mvp-sec-host\s*:\s*ok=\d+\s+changed=0\s+unreachable=0\s+failed=1", output), output[-3000:]
    assert "Probe the files, units and packages" not in proc.stdout


# --- audit rules (validated, never loaded) --------------------------------------------------------


def test_audit_rules_pass_the_checker_with_this_hosts_syscall_table(host):
    with host.sudo():
        result = host.run(
            "ausyscall --dump > /tmp/mvp-syscalls && python3 /usr/local/lib/mvp-hardening/audit_rules_check.py"
            " /etc/audit/rules.d/60-mvp-hardening.rules /tmp/mvp-syscalls"
        )
    assert result.rc == 0, result.stderr


def test_audit_rules_checker_refuses_a_broken_rule(host):
    with host.sudo():
        host.run("printf '%s\\n' '-a always,exit -F arch=b64 -S exceve -k x' > /tmp/mvp-bad.rules")
        result = host.run(
            "python3 /usr/local/lib/mvp-hardening/audit_rules_check.py /tmp/mvp-bad.rules /tmp/mvp-syscalls"
        )
    assert result.rc == 1 and "unknown syscall 'exceve'" in result.stderr


# --- access audit ---------------------------------------------------------------------------------


def test_access_audit_is_clean_on_the_converged_host(run_playbook):
    proc = run_playbook("access_audit.yml", "--limit", "security")
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    for name in ("mvpmfa", "mvpenrol", "mvptest", "deploy"):
        assert re.search(rf"\b{name} \| SHA256:", proc.stdout), proc.stdout[-3000:]
    assert "findings: 0" in proc.stdout


def test_access_audit_reports_undeclared_access_and_fails(host, run_playbook):
    extra_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKV2nwcFhC6kboHxlM33mYmxRDjFo7i910hZtWIY2wi5 stray"
    with host.sudo():
        host.run("mkdir -p /var/lib/prometheus/node-exporter")
        host.run("useradd -m -s /bin/bash mvpstray && mkdir -p /home/mvpstray/.ssh")
        host.run(f"echo '{extra_key}' > /home/mvpstray/.ssh/authorized_keys")
        host.run("cp /home/mvptest/.ssh/authorized_keys /tmp/mvp-keys")
        host.run(f"echo '{extra_key}' >> /home/mvptest/.ssh/authorized_keys")
    try:
        proc = run_playbook("access_audit.yml", "--limit", "security")
        output = re.sub(r"\s+", " ", proc.stdout + proc.stderr)
        assert proc.returncode != 0, output[-3000:]
        assert "mvpstray: login-capable account not in the inventory" in output
        assert (
            "mvptest: authorised key(s) not in the inventory: SHA256:vTdCSpCR9Kj+24b0W512GzR+pFRFN8X6wnS7zBTpGxk"
            in output
        )
        with host.sudo():
            metric = host.file("/var/lib/prometheus/node-exporter/mvp_access_audit.prom").content_string
        assert re.search(r"^mvp_access_audit_findings 2$", metric, re.M), metric
    finally:
        with host.sudo():
            host.run("userdel -r mvpstray; cp /tmp/mvp-keys /home/mvptest/.ssh/authorized_keys")
            host.run("rm -rf /var/lib/prometheus")


# --- configuration audit (Lynis, ssh-audit) ---------------------------------------------------


def test_weekly_audit_timer_is_scheduled(host):
    timer = host.run("systemctl show mvp-config-audit.timer -p ActiveState -p UnitFileState").stdout
    assert "ActiveState=active" in timer and "UnitFileState=enabled" in timer
    assert "OnCalendar=Sun *-*-* 04:30:00" in host.file("/etc/systemd/system/mvp-config-audit.timer").content_string


@pytest.fixture(scope="module")
def audit_result(host, run_playbook):
    """audit.yml on the converged host with the production settings (result kept for benchmarks)."""
    proc = run_playbook("audit.yml", "--limit", "security", timeout=2400)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    with host.sudo():
        result = json.loads(host.file("/var/lib/mvp-audit/result.json").content_string)
    out = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "security-audit-result.json"
    out.write_text(json.dumps(result, indent=2))
    return proc, result


def test_audit_prints_a_summary_and_keeps_the_reports(host, audit_result):
    proc, result = audit_result
    assert "Configuration audit of mvp-sec-host" in proc.stdout
    assert "Lynis hardening index:" in proc.stdout
    with host.sudo():
        for report in ("lynis-report.dat", "summary.txt", "result.json"):
            assert host.file(f"/var/lib/mvp-audit/{report}").exists
    assert isinstance(result["lynis_hardening_index"], int), result


def test_ssh_audit_finds_nothing_to_fail_or_warn(audit_result):
    _, result = audit_result
    assert (result["ssh_fail"], result["ssh_warn"]) == (0, 0), result["ssh_details"]


def test_a_result_worse_than_the_baseline_fails_and_raises_the_metric(host, run_playbook, audit_result):
    _, result = audit_result
    better = {**result, "lynis_hardening_index": result["lynis_hardening_index"] + 5}
    with host.sudo():
        host.run("mkdir -p /var/lib/prometheus/node-exporter")
        # base64: the result's texts hold quotes (Lynis's "Couldn't find ..."), which a shell word would not.
        encoded = base64.b64encode(json.dumps(better).encode()).decode()
        assert host.run(f"echo {encoded} | base64 -d > /var/lib/mvp-audit/baseline.json").rc == 0
    try:
        proc = run_playbook("audit.yml", "--limit", "security", timeout=2400)
        output = re.sub(r"\s+", " ", proc.stdout + proc.stderr)
        assert proc.returncode != 0, output[-3000:]
        assert f"< baseline {better['lynis_hardening_index']}" in output, output[-3000:]
        with host.sudo():
            metric = host.file("/var/lib/prometheus/node-exporter/mvp_config_audit.prom").content_string
        assert re.search(r"^mvp_config_audit_regressions 1$", metric, re.M), metric
    finally:
        with host.sudo():
            host.run("rm -f /var/lib/mvp-audit/baseline.json; rm -rf /var/lib/prometheus")


# --- file integrity (AIDE) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "hashed"),
    [
        ("/usr/bin/ls", True),
        ("/usr/sbin/sshd", True),
        ("/etc/ssh/sshd_config", True),
        ("/usr/local/sbin/mvp-aide-accept", True),
        ("/var/lib/docker/overlay2/x/file", False),
        ("/var/lib/containerd/x", False),
        ("/var/log/syslog", False),
        ("/var/backups/mvp/base/x", False),
        ("/opt/mvp/data/x", False),
    ],
)
def test_aide_hashes_system_files_and_leaves_out_changing_data(host, path, hashed):
    with host.sudo():
        out = host.run(f"aide --config=/etc/aide/aide.conf --path-check=f:{path}").stdout
    # AIDE 0.19 prints "[x] f:/path", 0.18 (Debian 12) "[X] f '/path'".
    assert out.lower().startswith("[x]" if hashed else "[ ]"), out


def test_aide_daily_check_replaces_debians_timer(host):
    ours = host.run("systemctl show mvp-aide-check.timer -p ActiveState -p UnitFileState").stdout
    assert "ActiveState=active" in ours and "UnitFileState=enabled" in ours
    debians = host.run("systemctl show dailyaidecheck.timer -p ActiveState -p UnitFileState").stdout
    assert "ActiveState=inactive" in debians and "UnitFileState=disabled" in debians
    with host.sudo():
        assert host.file("/var/lib/aide/aide.db").size > 0
        assert "Checksums = sha512" in host.file("/etc/aide/aide.conf").content_string


def aide_check(host):
    """Start the daily check now; its result and what it printed this time."""
    with host.sudo():
        since = host.run("date '+%Y-%m-%d %H:%M:%S'").stdout.strip()
        started = host.run("systemctl start mvp-aide-check.service")
        journal = host.run(f"journalctl -u mvp-aide-check.service --since '{since}' --no-pager -o cat").stdout
    return started.rc, journal


def test_aide_check_reports_a_new_binary_until_accepted(host):
    probe = "/usr/local/bin/mvp-aide-probe"
    with host.sudo():
        host.run(f"rm -f {probe}")
        # Whatever earlier tests changed in /etc (the access audit's stray account) is accepted first.
        aide_check(host)
        assert host.run("mvp-aide-accept").rc == 0
        rc, journal = aide_check(host)
        assert rc == 0, journal
        host.run(f"install -m 0755 /usr/bin/true {probe}")
        try:
            rc, journal = aide_check(host)
            assert rc != 0 and probe in journal, journal
            assert host.run("systemctl is-failed --quiet mvp-aide-check.service").rc == 0
            accepted = host.run("mvp-aide-accept")
            assert accepted.rc == 0, accepted.stderr
            assert host.run("systemctl is-failed --quiet mvp-aide-check.service").rc != 0
            rc, journal = aide_check(host)
            assert rc == 0, journal
        finally:
            host.run(f"rm -f {probe}")
        # The removal is a difference too, until accepted.
        rc, journal = aide_check(host)
        assert rc != 0 and probe in journal, journal
        assert host.run("mvp-aide-accept").rc == 0


# --- USB devices (USBGuard) -------------------------------------------------------------------


def test_usbguard_blocks_new_devices_but_never_keyboards_hubs_or_present_ones(host):
    with host.sudo():
        conf = host.file("/etc/usbguard/usbguard-daemon.conf")
        console = host.file("/etc/usbguard/rules.d/60-mvp-console.conf")
        assert conf.mode == 0o600 and console.mode == 0o600
        assert host.file("/etc/usbguard/rules.conf").exists  # generated from the devices present at install
        settings = dict(
            line.split("=", 1) for line in conf.content_string.splitlines() if "=" in line and line[0] != "#"
        )
        rules = [line for line in console.content_string.splitlines() if line and not line.startswith("#")]
        parsed = [host.run(f"usbguard-rule-parser '{rule}'") for rule in rules]
    assert settings["ImplicitPolicyTarget"] == "block" and settings["InsertedDevicePolicy"] == "apply-policy"
    assert settings["PresentDevicePolicy"] == "apply-policy" and settings["PresentControllerPolicy"] == "apply-policy"
    # While the daemon is not running, the kernel authorises devices as usual (no lockout).
    assert settings["AuthorizedDefault"] == "keep" and settings["IPCAllowedGroups"] == "root"
    assert rules == ["allow with-interface equals { 09:00:* }", "allow with-interface one-of { 03:00:01 03:01:01 }"]
    assert all(p.rc == 0 for p in parsed), [p.stderr for p in parsed]


def test_usbguard_is_enabled_but_never_runs_in_a_container(host):
    state = host.run("systemctl show usbguard.service -p ActiveState -p UnitFileState -p ConditionResult").stdout
    assert "UnitFileState=enabled" in state and "ActiveState=inactive" in state and "ConditionResult=no" in state, state


def test_usbguard_rule_validation_refuses_a_broken_rule(host):
    with host.sudo():
        host.run("printf 'allow with-interfaxe { 03:00:01 }\\n' > /tmp/mvp-bad-usb.rules")
        result = host.run(
            '/bin/sh -c \'grep -Ev "^(#|$)" "$1" | while IFS= read -r rule; do'
            ' usbguard-rule-parser "$rule" > /dev/null || exit 1; done\' mvp-usbguard-validate /tmp/mvp-bad-usb.rules'
        )
        host.run("rm -f /tmp/mvp-bad-usb.rules")
    assert result.rc != 0
