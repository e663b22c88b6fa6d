"""The configuration audit's testssl.sh part, on reports captured from real runs.

fixtures/testssl-3.2.1-debian13-pebble.json: Debian 13's testssl.sh 3.2.1, run by the audit program
(playbooks/audit.yml) on the platform scenario's host against nginx with its certificate from Pebble,
Pebble's chain trusted (--add-ca). fixtures/testssl-3.0.8-debian12-pebble.json: Debian 12's 3.0.8
against the same nginx from a Debian 12 container on the scenario's network, run by the same program.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from _program import load

HERE = Path(__file__).resolve().parent
C = load("_config_audit")

# `testssl --version` as the two versions print it (colours included).
VERSION_3_2 = (
    "\n\x1b[1m\n#####################################################################\x1b[m\n"
    "  \x1b[1mtestssl\x1b[m version \x1b[1m3.2.1\x1b[m from \x1b[1mhttps://testssl.sh/\x1b[m\n\x1b[1m\n"
)
VERSION_3_0 = (
    "\x1b[1m\n###########################################################\n"
    "    testssl       3.0.8 from \x1b[m\x1b[1mhttps://testssl.sh/\x1b[m\n\x1b[1m\n"
)
LIFESPAN = "the test CA issues 5-year certificates"
REVOCATION = "the test CA's certificates carry no revocation URI"


def report(name: str) -> list:
    return json.loads((HERE / "fixtures" / f"testssl-{name}-pebble.json").read_text())


def test_3_2_with_the_test_ca_trusted_is_a_plus_with_nothing_counted():
    parsed = C.parse_testssl(report("3.2.1-debian13"), test_ca=True)
    assert parsed["grade"] == "A+"
    assert parsed["medium_or_worse"] == []
    assert parsed["fatal"] == []
    first, second = parsed["test_ca"]
    assert first.startswith("cert_extlifeSpan: 1826 days (MEDIUM; not counted: " + LIFESPAN)
    assert second.startswith("cert_revocation: Neither CRL nor OCSP URI provided (HIGH; not counted: " + REVOCATION)


def test_without_a_test_ca_the_same_findings_count():
    parsed = C.parse_testssl(report("3.2.1-debian13"))
    assert parsed["medium_or_worse"] == [
        "cert_extlifeSpan: 1826 days",
        "cert_revocation: Neither CRL nor OCSP URI provided",
    ]
    assert parsed["test_ca"] == []


def spoiled(changes: dict) -> list:
    """The real 3.2.1 report with some findings changed: {id: (severity, finding)}."""
    findings = report("3.2.1-debian13")
    for finding in findings:
        if finding["id"] in changes:
            finding["severity"], finding["finding"] = changes[finding["id"]]
    return findings


@pytest.mark.parametrize(
    ("changes", "counted"),
    [
        # A 10-year certificate is HIGH: not what Pebble issues, it counts.
        ({"cert_extlifeSpan": ("HIGH", "3652 days")}, ["cert_extlifeSpan: 3652 days"]),
        # Over the CA/B Forum's 398 days but under 5 years: a real CA's mistake, it counts.
        ({"cert_extlifeSpan": ("MEDIUM", "730 > 398 days")}, ["cert_extlifeSpan: 730 > 398 days"]),
        # Another finding under the same id counts.
        ({"cert_revocation": ("HIGH", "revoked")}, ["cert_revocation: revoked"]),
        # The same text under another id counts.
        ({"cert_chain_of_trust": ("CRITICAL", "1826 days")}, ["cert_chain_of_trust: 1826 days"]),
    ],
)
def test_the_test_ca_list_is_narrow(changes, counted):
    parsed = C.parse_testssl(spoiled(changes), test_ca=True)
    assert [entry for entry in parsed["medium_or_worse"] if entry in counted] == counted


def test_a_server_with_two_certificates_has_numbered_ids():
    findings = report("3.2.1-debian13")
    for finding in findings:
        if finding["id"] in ("cert_extlifeSpan", "cert_revocation"):
            finding["id"] += " <cert#2>"
    parsed = C.parse_testssl(findings, test_ca=True)
    assert parsed["medium_or_worse"] == []
    assert [entry.split(":")[0] for entry in parsed["test_ca"]] == [
        "cert_extlifeSpan <cert#2>",
        "cert_revocation <cert#2>",
    ]


def test_3_0_8_has_no_grade_and_its_own_id_for_the_validity():
    parsed = C.parse_testssl(report("3.0.8-debian12"), test_ca=True)
    assert parsed["grade"] is None
    # 3.0.8 calls the lack of a server cipher order HIGH (3.2 no longer does): without the version
    # it counts.
    assert parsed["medium_or_worse"] == ["cipher_order: NOT a cipher order configured"]
    assert [entry.split(" (")[0] for entry in parsed["test_ca"]] == [
        "cert_validityPeriod: 1826 days",
        "cert_revocation: Neither CRL nor OCSP URI provided",
    ]


def test_3_0_8_no_cipher_order_is_listed_not_counted_when_only_strong_ciphers_are_offered():
    parsed = C.parse_testssl(report("3.0.8-debian12"), test_ca=True, version="3.0.8")
    assert parsed["medium_or_worse"] == []
    assert [entry.split(" (")[0] for entry in parsed["withdrawn"]] == ["cipher_order: NOT a cipher order configured"]
    assert "not counted: testssl.sh 3.0 (Debian 12)" in parsed["withdrawn"][0]


def weaken(findings: list, list_id: str) -> list:
    return [{**f, "finding": "offered"} if f["id"] == list_id else f for f in findings]


@pytest.mark.parametrize(
    ("findings", "version"),
    [
        (report("3.0.8-debian12"), "3.2.1"),  # another version
        (report("3.0.8-debian12"), None),  # version unknown
        (weaken(report("3.0.8-debian12"), "cipherlist_AVERAGE"), "3.0.8"),  # a weaker cipher offered
        (weaken(report("3.0.8-debian12"), "cipherlist_LOW"), "3.0.8"),
    ],
)
def test_the_withdrawn_cipher_order_is_narrow(findings, version):
    parsed = C.parse_testssl(findings, test_ca=True, version=version)
    assert "cipher_order: NOT a cipher order configured" in parsed["medium_or_worse"]
    assert parsed["withdrawn"] == []


@pytest.mark.parametrize(("text", "version"), [(VERSION_3_2, "3.2.1"), (VERSION_3_0, "3.0.8"), ("", None)])
def test_testssl_version(text, version):
    assert C.testssl_version(text) == version


def test_testssl_makes_no_dns_lookups_of_its_own():
    argv = C.testssl_argv("shop.example.com:443", "192.0.2.10", "/etc/ssl/test-ca.pem", "/state/testssl.json")
    line = " ".join(argv)
    assert "--nodns none" in line and "--ip 192.0.2.10" in line and "--ip one" not in line
    assert "--add-ca /etc/ssl/test-ca.pem" in line
    assert "--connect-timeout 10" in line and "--openssl-timeout 10" in line
    assert argv[-3:] == ["--jsonfile", "/state/testssl.json", "shop.example.com:443"]
    assert "-6" in C.testssl_argv("shop.example.com:443", "2001:db8::10", "", "/x.json")
    plain = C.testssl_argv("192.0.2.10:443", None, "", "/x.json")
    assert "--ip" not in plain and "--add-ca" not in plain


def test_resolve_prefers_ipv4_and_reports_a_failure(monkeypatch):
    assert C.resolve("192.0.2.10:443") == (None, None)
    assert C.resolve("[2001:db8::1]:443") == (None, None)

    def answer(host, port, type=0):
        assert (host, port, type) == ("shop.example.com", "443", socket.SOCK_STREAM)
        return [
            (socket.AF_INET6, type, 6, "", ("2001:db8::10", 443, 0, 0)),
            (socket.AF_INET, type, 6, "", ("192.0.2.10", 443)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", answer)
    assert C.resolve("shop.example.com:443") == ("192.0.2.10", None)

    def fail(*_args, **_kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    address, error = C.resolve("shop.example.com:443")
    assert address is None and error == "cannot resolve shop.example.com: [Errno -2] Name or service not known"


def fake_testssl(monkeypatch, name: str | None, version: str = VERSION_3_2) -> list:
    """_run stands in for the tools: testssl.sh writes the fixture `name` (None: nothing)."""
    calls = []

    def run(argv, timeout=1800):
        calls.append(argv)
        if argv[:2] == ["testssl", "--version"]:
            return C.subprocess.CompletedProcess(argv, 0, version, "")
        if name:
            Path(argv[argv.index("--jsonfile") + 1]).write_text(json.dumps(report(name)))
            return C.subprocess.CompletedProcess(argv, 0, "", "")
        return C.subprocess.CompletedProcess(argv, 127, "", "[Errno 2] No such file or directory: 'testssl'")

    monkeypatch.setattr(C, "_run", run)
    monkeypatch.setattr(C, "resolve", lambda target: ("127.0.0.1", None))
    return calls


def test_audit_of_the_platform_host_gives_grade_6_and_no_finding(monkeypatch, tmp_path):
    ca = tmp_path / "roots.pem"
    ca.write_text("PEM")
    calls = fake_testssl(monkeypatch, "3.2.1-debian13")
    result = C.tls_audit("mvp-platform.test:443", str(ca), str(tmp_path))
    assert (result["tls_grade"], result["tls_findings"], result["tls_tool_version"]) == ("A+", 0, "3.2.1")
    assert len(result["tls_test_ca"]) == 2 and "tls_error" not in result
    assert calls[-1][-1] == "mvp-platform.test:443" and "--add-ca" in calls[-1]
    text = C.metrics(result, [], 0)
    assert "mvp_config_audit_tls_grade 6\n" in text and "mvp_config_audit_tls_findings 0\n" in text
    summary = C.summary("mvp-pf-platform", result, [])
    assert "testssl.sh 3.2.1 grade: A+ (0 MEDIUM or worse)" in summary
    assert "test CA, cert_revocation: Neither CRL nor OCSP URI provided (HIGH; not counted:" in summary


def test_audit_with_testssl_3_0_8_reports_not_measured(monkeypatch, tmp_path):
    fake_testssl(monkeypatch, "3.0.8-debian12", VERSION_3_0)
    result = C.tls_audit("mvp-platform.test:443", "", str(tmp_path))
    # No test CA given: the CA's two count; the cipher order of 3.0 is listed, not counted.
    assert result["tls_grade"] is None and result["tls_findings"] == 2
    assert result["tls_error"] == "grade not measured: testssl.sh 3.0.8 rates nothing (3.1 and later do)"
    assert "mvp_config_audit_tls_grade -1\n" in C.metrics(result, [], 0)
    summary = C.summary("h", result, [])
    assert "testssl.sh 3.0.8 grade: not measured (2 MEDIUM or worse)" in summary
    assert "older testssl.sh, cipher_order: NOT a cipher order configured (HIGH; not counted:" in summary


def test_audit_without_a_report_or_the_ca_file_is_not_measured(monkeypatch, tmp_path):
    fake_testssl(monkeypatch, None)
    result = C.tls_audit("mvp-platform.test:443", "", str(tmp_path))
    assert (result["tls_grade"], result["tls_findings"]) == (None, None)
    assert result["tls_error"].startswith("not measured: testssl.sh wrote no report")
    assert "mvp_config_audit_tls_findings -1\n" in C.metrics(result, [], 0)
    calls = fake_testssl(monkeypatch, "3.2.1-debian13")
    result = C.tls_audit("mvp-platform.test:443", str(tmp_path / "missing.pem"), str(tmp_path))
    assert result["tls_error"] == f"not measured: the CA file {tmp_path / 'missing.pem'} does not exist"
    assert not [argv for argv in calls if "--jsonfile" in argv]


def test_a_stopped_scan_counts_nothing(monkeypatch, tmp_path):
    stopped = [  # what 3.2.1 writes when it stops (here: --ip one for a name only /etc/hosts knows)
        {"id": "scanProblem", "severity": "FATAL", "finding": "couldn't identify supplied 'CMDLINE_IP'"},
        {"id": "scanTime", "severity": "WARN", "finding": "Scan interrupted"},
    ]

    def run(argv, timeout=0):
        if "--jsonfile" in argv:
            Path(argv[argv.index("--jsonfile") + 1]).write_text(json.dumps(stopped))
        return C.subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(C, "_run", run)
    monkeypatch.setattr(C, "resolve", lambda target: ("127.0.0.1", None))
    result = C.tls_audit("mvp-platform.test:443", "", str(tmp_path))
    assert (result["tls_grade"], result["tls_findings"]) == (None, None)
    assert result["tls_error"].startswith("not measured: the scan stopped (scanProblem: couldn't identify")


def test_more_testssl_findings_than_the_baseline_is_a_regression():
    base = {"tls_grade": "A+", "tls_findings": 0}
    assert C.regressions({"tls_grade": "A+", "tls_findings": 1}, base) == ["testssl.sh MEDIUM or worse 1 > baseline 0"]
    assert C.regressions({"tls_grade": "A+", "tls_findings": None}, base) == []
    assert C.regressions({"tls_grade": "A+", "tls_findings": 0}, {"tls_grade": "A+"}) == []


def test_lynis_cut_by_the_tool_timeout_is_said_not_measured(monkeypatch, tmp_path):
    limits = {}

    def run(argv, timeout=0):
        limits[argv[0]] = timeout
        if argv[0] == "lynis":
            Path(argv[argv.index("--report-file") + 1]).write_text("suggestion[]=SSH-7408|a partial report|\n")
            return C.subprocess.CompletedProcess(
                argv, C.TIMED_OUT, "", f"Command {argv!r} timed out after {timeout} seconds"
            )
        return C.subprocess.CompletedProcess(argv, 127, "", "not here")

    monkeypatch.setattr(C, "_run", run)
    result = C.audit({"state_dir": str(tmp_path), "ssh_target": "127.0.0.1:22", "tool_timeout": 7200})
    assert limits["lynis"] == 7200
    assert result["lynis_hardening_index"] is None
    assert result["lynis_error"] == "not measured: Lynis did not finish within 7200 s (security_audit_tool_timeout)"
    assert "Lynis hardening index: None (1 suggestions, 0 warnings); not measured: Lynis did not finish" in C.summary(
        "h", result, []
    )
