"""The configuration audit's parsers and baseline comparison (pure functions)."""

import pytest
from _program import load

C = load("_config_audit")

LYNIS = """# Lynis Report
report_version_major=1
hardening_index=84
suggestion[]=SSH-7408|Consider hardening SSH configuration|AllowTcpForwarding (set LOCAL to NO)|-|
suggestion[]=KRNL-5820|If not required, consider explicit disabling of core dump in /etc/security/limits.conf file|-|-|
warning[]=FIRE-4512|iptables module(s) loaded, but no rules active|-|-|
"""

SSH_AUDIT = {
    "kex": [
        {"algorithm": "curve25519-sha256", "notes": {}},
        {"algorithm": "diffie-hellman-group-exchange-sha256", "notes": {"warn": ["2048-bit modulus only"]}},
    ],
    "key": [{"algorithm": "ssh-rsa", "notes": {"fail": ["SHA-1"], "warn": ["legacy"]}}],
    "enc": [{"algorithm": "aes128-ctr", "notes": {"info": ["available since OpenSSH 3.7"]}}],
    "mac": [],
    "cves": [{"name": "CVE-2023-48795"}],
}


def test_lynis_report():
    parsed = C.parse_lynis_report(LYNIS)
    assert parsed["hardening_index"] == 84
    assert parsed["suggestions"] == [
        "SSH-7408|Consider hardening SSH configuration (AllowTcpForwarding (set LOCAL to NO))",
        "KRNL-5820|If not required, consider explicit disabling of core dump in /etc/security/limits.conf file",
    ]
    assert parsed["warnings"] == ["FIRE-4512|iptables module(s) loaded, but no rules active"]


def test_lynis_report_without_an_index():
    assert C.parse_lynis_report("garbage\n")["hardening_index"] is None


def test_ssh_audit_counts_fail_and_warn_and_cves():
    parsed = C.parse_ssh_audit(SSH_AUDIT)
    assert (parsed["fail"], parsed["warn"]) == (2, 2)
    assert "cve CVE-2023-48795" in parsed["details"]


# Debian 12's ssh-audit 2.5.0: its JSON has no notes (enc/mac are bare names), so the text is read.
SSH_AUDIT_2_5_TEXT = """# key exchange algorithms
(kex) sntrup761x25519-sha512                -- [warn] unknown algorithm
(kex) sntrup761x25519-sha512@openssh.com    -- [warn] using experimental algorithm
                                            `- [info] available since OpenSSH 8.5
(kex) curve25519-sha256                     -- [info] available since OpenSSH 7.4, Dropbear SSH 2018.76
(kex) diffie-hellman-group14-sha1           -- [fail] using weak hashing algorithm
                                            `- [warn] using sha1
(kex) kex-strict-s-v00@openssh.com          -- [warn] unknown algorithm
# encryption algorithms (ciphers)
(enc) chacha20-poly1305@openssh.com         -- [info] available since OpenSSH 6.5
# algorithm recommendations (for OpenSSH 9.2)
(rec) -sntrup761x25519-sha512@openssh.com   -- kex algorithm to remove
"""


def test_ssh_audit_2_5_json_without_notes_is_detected():
    old = {"kex": [{"algorithm": "curve25519-sha256"}], "enc": ["aes256-gcm@openssh.com"], "mac": ["hmac-sha2-256-etm"]}
    assert not C.ssh_audit_json_has_notes(old)
    assert C.parse_ssh_audit(old) == {"fail": 0, "warn": 0, "details": []}
    assert C.ssh_audit_json_has_notes(SSH_AUDIT)


def test_ssh_audit_text_counts_fail_and_warn_but_not_unknown_algorithms():
    parsed = C.parse_ssh_audit_text(SSH_AUDIT_2_5_TEXT)
    assert (parsed["fail"], parsed["warn"]) == (1, 1)
    assert "kex diffie-hellman-group14-sha1: using weak hashing algorithm" in parsed["details"]
    assert "kex diffie-hellman-group14-sha1: using sha1" in parsed["details"]
    withdrawn = [d for d in parsed["details"] if d.startswith("kex sntrup761x25519-sha512@openssh.com:")]
    assert withdrawn == [
        "kex sntrup761x25519-sha512@openssh.com: using experimental algorithm (not counted: "
        + C.WITHDRAWN_NOTES[("kex", "sntrup761x25519-sha512@openssh.com", "using experimental algorithm")]
        + ")"
    ]
    assert (
        "kex kex-strict-s-v00@openssh.com: unknown algorithm (not counted: unknown to this ssh-audit)"
        in parsed["details"]
    )


def test_testssl_grade_and_medium_findings():
    findings = [
        {"id": "overall_grade", "severity": "OK", "finding": "A+"},
        {"id": "BREACH", "severity": "MEDIUM", "finding": "potentially VULNERABLE"},
        {"id": "cert_chain_of_trust", "severity": "CRITICAL", "finding": "failed (self signed)"},
        {"id": "HSTS", "severity": "OK", "finding": "730 days"},
    ]
    parsed = C.parse_testssl(findings)
    assert parsed["grade"] == "A+"
    assert parsed["medium_or_worse"] == ["BREACH: potentially VULNERABLE", "cert_chain_of_trust: failed (self signed)"]


BASE = {"lynis_hardening_index": 88, "ssh_fail": 0, "ssh_warn": 0, "tls_grade": "A+"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, []),
        ({"lynis_hardening_index": 90}, []),
        ({"lynis_hardening_index": 87}, ["Lynis hardening index 87 < baseline 88"]),
        ({"ssh_warn": 1}, ["ssh-audit warn 1 > baseline 0"]),
        ({"ssh_fail": 2, "tls_grade": "B"}, ["ssh-audit fail 2 > baseline 0", "TLS grade B < baseline A+"]),
        ({"tls_grade": None}, []),  # not measured this time: nothing to compare
    ],
)
def test_regressions_against_the_baseline(change, expected):
    assert C.regressions({**BASE, **change}, BASE) == expected


def test_no_baseline_no_regression():
    assert C.regressions({"lynis_hardening_index": 10}, None) == []


def test_metrics_text():
    text = C.metrics({**BASE, "tls_grade": "A"}, ["x"], 1_800_000_000)
    assert "mvp_config_audit_lynis_hardening_index 88\n" in text
    assert 'mvp_config_audit_ssh_findings{level="warn"} 0\n' in text
    assert "mvp_config_audit_tls_grade 5\n" in text
    assert "mvp_config_audit_regressions 1\n" in text
    assert "mvp_config_audit_tls_grade -1\n" in C.metrics({}, [], 0)


def test_summary_names_what_got_worse():
    text = C.summary("web-1", {**BASE, "lynis_suggestions": ["a", "b"]}, ["TLS grade B < baseline A+"])
    assert "Lynis hardening index: 88 (2 suggestions" in text
    assert "Worse than the accepted baseline: TLS grade B < baseline A+" in text


def test_a_withdrawn_note_is_narrow_the_same_note_on_another_algorithm_counts():
    text = "(kex) sntrup4591761x25519-sha512@tinyssh.org -- [warn] using experimental algorithm\n"
    assert C.parse_ssh_audit_text(text)["warn"] == 1
    text = "(enc) sntrup761x25519-sha512@openssh.com -- [warn] using experimental algorithm\n"
    assert C.parse_ssh_audit_text(text)["warn"] == 1
