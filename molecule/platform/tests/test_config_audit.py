"""testssl.sh, through the configuration audit (playbooks/audit.yml), on the production-like host.

nginx serves the certificate certbot got from Pebble; the audit's testssl.sh trusts Pebble's chain
(security_audit_tls_ca_file, group_vars/all/security_audit.yml) and must grade nginx A+ with nothing
MEDIUM or worse but the findings the test CA causes (the audit program's TEST_CA_FINDINGS, each with
its reason; Debian 12's testssl.sh 3.0 rates no grade and its HIGH for a missing server cipher
order is listed, not counted: TESTSSL_WITHDRAWN). The audit adds its tools, timer and reports
only: the platform stays as converged for test_platform.py and the tests after it.
"""

import json
import os
import re
from pathlib import Path

import pytest
import yaml
from mvp_molecule import out, playbook, sh

testinfra_hosts = ["proxy"]
HOST = "mvp-pf-platform"
DOMAIN = "mvp-platform.test"
STATE = "/var/lib/mvp-audit"
TEXTFILE = "/var/lib/prometheus/node-exporter/mvp_config_audit.prom"
PEBBLE_MGMT = "https://127.0.0.1:15000"
# The findings the test CA may cause (Pebble: 5-year certificates without a CRL or OCSP URI);
# cert_validityPeriod is testssl.sh 3.0's name of cert_extlifeSpan.
TEST_CA_IDS = {"cert_extlifeSpan", "cert_validityPeriod", "cert_revocation"}
BAD = ("MEDIUM", "HIGH", "CRITICAL")


def ca_file() -> str:
    group_vars = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"]) / "group_vars" / "all" / "security_audit.yml"
    return yaml.safe_load(group_vars.read_text())["security_audit_tls_ca_file"]


@pytest.fixture(scope="module")
def audit(host):
    """audit.yml on the platform host, Pebble's current root and intermediate trusted."""
    ca = ca_file()
    sh(
        host,
        f"curl -fsS --cacert /etc/pebble/cert.pem {PEBBLE_MGMT}/roots/0 > {ca}.new && "
        f"curl -fsS --cacert /etc/pebble/cert.pem {PEBBLE_MGMT}/intermediates/0 >> {ca}.new && mv {ca}.new {ca}",
    )
    sh(host, f"rm -f {STATE}/result.json {STATE}/baseline.json {STATE}/testssl.json")
    proc = playbook("playbooks/audit.yml", "-l", HOST, timeout=2400)
    assert proc.returncode == 0, out(proc)
    result = json.loads(sh(host, f"cat {STATE}/result.json"))
    report = json.loads(sh(host, f"cat {STATE}/testssl.json"))
    print(f"\nTESTSSL {json.dumps({k: v for k, v in result.items() if k.startswith('tls_')})}")
    return proc, result, report


def rates(result: dict) -> bool:
    """testssl.sh 3.1 and later grade a server; Debian 12's 3.0.8 rates nothing."""
    return not str(result.get("tls_tool_version")).startswith("3.0.")


def test_testssl_grades_nginx_a_plus(audit):
    proc, result, _ = audit
    assert result["tls_target"] == f"{DOMAIN}:443"
    if rates(result):
        assert result["tls_grade"] == "A+", result
        assert re.search(r"testssl\.sh \S+ grade: A\+ \(0 MEDIUM or worse\)", proc.stdout), out(proc)
    else:
        assert result["tls_grade"] is None, result
        assert re.search(r"testssl\.sh 3\.0\.\S+ grade: not measured \(0 MEDIUM or worse\)", proc.stdout), out(proc)


def test_nothing_medium_or_worse_but_what_the_test_ca_causes(audit):
    _, result, report = audit
    assert result["tls_findings"] == 0 and result["tls_medium_or_worse"] == [], result
    listed = {entry.split(":")[0]: entry for entry in result["tls_test_ca"]}
    assert set(listed) <= TEST_CA_IDS, listed
    assert all("; not counted: " in entry for entry in listed.values()), listed
    # testssl.sh 3.0 only: its HIGH for the missing server cipher order, listed with the reason.
    withdrawn = {entry.split(":")[0] for entry in result["tls_withdrawn"]}
    assert withdrawn == (set() if rates(result) else {"cipher_order"}), result["tls_withdrawn"]
    # Every MEDIUM-or-worse entry of testssl.sh's own report is one of them.
    bad = {f["id"] for f in report if f["severity"] in BAD}
    assert bad == set(listed) | withdrawn, (bad, listed)


def test_testssl_checked_the_domain_and_trusted_the_chain(audit):
    _, _, report = audit
    by_id = {f["id"]: f for f in report}
    assert by_id["cert_chain_of_trust"]["severity"] == "OK", by_id["cert_chain_of_trust"]
    assert by_id["cert_trust"]["severity"] == "OK", by_id["cert_trust"]
    assert by_id["cert_trust"]["ip"] == f"{DOMAIN}/127.0.0.1"
    assert not [f for f in report if f["severity"] == "FATAL"], report
    for protocol in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        assert by_id[protocol]["finding"].startswith("not offered"), by_id[protocol]
    for protocol in ("TLS1_2", "TLS1_3"):
        assert by_id[protocol]["finding"].startswith("offered"), by_id[protocol]


def test_the_grade_is_a_metric(host, audit):
    _, result, _ = audit
    metrics = sh(host, f"cat {TEXTFILE}")
    grade = "6" if rates(result) else "-1"  # -1: not measured
    assert re.search(rf"^mvp_config_audit_tls_grade {grade}$", metrics, re.M), metrics
    assert re.search(r"^mvp_config_audit_tls_findings 0$", metrics, re.M), metrics
