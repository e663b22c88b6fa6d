"""testssl.sh's verdict on nginx with the production TLS settings, as the configuration audit measured it.

Reads what the audit (``playbooks/audit.yml``, the security_audit role's program) left on the platform
scenario's host (container ``mvp-pf-platform``: ``molecule converge -s platform``, then the scenario's
``tests/test_config_audit.py`` or ``audit.yml`` with ``security_audit_tls_ca_file`` trusting Pebble's
chain): ``result.json`` (grade, counted findings, test-CA findings) and testssl.sh's own
``testssl.json``. ``--run`` starts ``mvp-config-audit.service`` first (a fresh measurement, a few
minutes: Lynis and ssh-audit run too).

Writes benchmarks/results/testssl.json: testssl.sh's version, the grade and its scores, every finding
MEDIUM or worse (whether the test CA caused it, and why: the audit program's TEST_CA_FINDINGS), the
protocols and ciphers offered, the certificate, the nginx settings measured, when and on which host.

Run: .venv/bin/python benchmarks/bench_testssl.py [--host mvp-pf-platform] [--run]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "results" / "testssl.json"
_spec = importlib.util.spec_from_file_location("_config_audit", ROOT / "plugins" / "module_utils" / "_config_audit.py")
AUDIT = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(AUDIT)
PROTOCOLS = ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3")
SCORES = ("protocol_support_score", "key_exchange_score", "cipher_strength_score", "final_score")
CERTIFICATE = (
    "cert_keySize",
    "cert_signatureAlgorithm",
    "cert_caIssuers",
    "cert_chain_of_trust",
    "cert_trust",
    "cert_notBefore",
    "cert_notAfter",
)
HEADERS = ("HSTS_time", "HSTS_subdomains", "HSTS_preload", "OCSP_stapling", "fallback_SCSV", "FS_ECDHE_curves")


def sh(host: str, cmd: str, timeout: int = 120) -> str:
    return subprocess.run(
        ["docker", "exec", host, "sh", "-c", cmd], capture_output=True, text=True, check=True, timeout=timeout
    ).stdout


def cipher_summary(report: list) -> dict:
    """Per protocol: the cipher suites offered (OpenSSL name, key exchange, bits), from cipher-* entries."""
    offered: dict = {}
    for finding in report:
        match = re.match(r"cipher-(tls1(?:_[0-3])?|ssl[23])_x", finding["id"])
        if not match:
            continue
        fields = finding["finding"].split()
        # "TLSv1.2 xc02c ECDHE-ECDSA-AES256-GCM-SHA384 ECDH 253 AESGCM 256 TLS_ECDHE_..."
        offered.setdefault(fields[0], []).append(
            {"openssl": fields[2], "kx": " ".join(fields[3:5]), "enc": fields[5], "bits": int(fields[6])}
        )
    return offered


def measure(host: str, state: str) -> dict:
    result = json.loads(sh(host, f"cat {state}/result.json"))
    report = json.loads(sh(host, f"cat {state}/testssl.json"))
    by_id = {f["id"]: f for f in report}
    finished = int(sh(host, f"stat -c %Y {state}/result.json").strip())
    test_ca = bool(result.get("tls_test_ca")) or "--tls-ca-file" in sh(
        host, "systemctl cat mvp-config-audit.service | grep ^ExecStart || true"
    )
    findings = []
    for finding in report:
        if finding["severity"] not in AUDIT.TLS_BAD:
            continue
        reason = AUDIT.ca_finding_reason(finding) if test_ca else None
        findings.append(
            {
                "id": finding["id"],
                "severity": finding["severity"],
                "finding": finding["finding"],
                "test_ca": reason is not None,
                "why": reason or "counted: not caused by the test CA",
            }
        )
    counted = [f for f in findings if not f["test_ca"]]
    ciphers = cipher_summary(report)
    tls_conf = sh(host, "cat /etc/nginx/mvp/tls.conf")
    summary = sh(host, f"cat {state}/summary.txt")
    return {
        "benchmark": "testssl",
        "measured": datetime.fromtimestamp(finished, timezone.utc).strftime("%Y-%m-%dT%H:%MZ"),
        "host": (
            f"{host} (molecule scenario 'platform', Debian {sh(host, 'cat /etc/debian_version').strip()} "
            f"container; nginx {sh(host, 'nginx -v 2>&1').strip().split('/')[-1]} with the nginx role's "
            "production settings, certificate from certbot and Pebble inside the host)"
        ),
        "target": result.get("tls_target"),
        "tool": {"testssl.sh": result.get("tls_tool_version"), "openssl": sh(host, "openssl version").strip()},
        "scan_seconds": int(by_id["scanTime"]["finding"])
        if by_id.get("scanTime", {}).get("finding", "").isdigit()
        else None,
        "test_ca_trusted": test_ca,
        "grade": result.get("tls_grade"),
        "metric_mvp_config_audit_tls_grade": AUDIT.GRADES.get(result.get("tls_grade"), -1),
        "scores": {name: int(by_id[name]["finding"]) for name in SCORES if name in by_id},
        "medium_or_worse": {
            "counted": len(counted),
            "test_ca": len(findings) - len(counted),
            "findings": findings,
        },
        "grade_caps": [f["finding"] for f in report if f["id"].startswith("grade_cap_reason")],
        "protocols": {name: by_id[name]["finding"] for name in PROTOCOLS if name in by_id},
        "ciphers": ciphers,
        "cipher_categories": {
            f["id"][len("cipherlist_") :]: f["finding"] for f in report if f["id"].startswith("cipherlist_")
        },
        "certificate": {name: by_id[name]["finding"] for name in CERTIFICATE if name in by_id},
        "other": {name: by_id[name]["finding"] for name in HEADERS if name in by_id},
        "scan_warnings": result.get("tls_problems", []),
        "nginx_tls_conf": [line for line in tls_conf.splitlines() if line and not line.startswith("#")],
        # The summary's testssl.sh lines (this scenario has no hardening role and no sshd: its Lynis and
        # ssh-audit figures say nothing; lynis.json measures those, on a container and on a VM).
        "audit_summary": [line for line in summary.splitlines() if line.startswith(("  testssl", "    "))],
        "debian12_testssl_3_0_8": older_version(),
    }


def older_version() -> dict:
    """Debian 12's testssl.sh 3.0.8 against the same nginx (the unit tests' capture): no rating."""
    fixture = ROOT / "tests" / "unit" / "plugins" / "module_utils" / "fixtures" / "testssl-3.0.8-debian12-pebble.json"
    report = json.loads(fixture.read_text())
    parsed = AUDIT.parse_testssl(report, test_ca=True)
    return {
        "source": fixture.relative_to(ROOT).as_posix(),
        "how": "the audit program in a Debian 12 container on the scenario's network, Pebble's chain trusted",
        "grade": parsed["grade"] or "not measured (3.0.8 has no rating)",
        "counted": parsed["medium_or_worse"],
        "test_ca": [entry.split(" (")[0] for entry in parsed["test_ca"]],
        "scan_seconds": next((int(f["finding"]) for f in report if f["id"] == "scanTime"), None),
        "note": "3.0.8 rates no server cipher order HIGH; nginx keeps Mozilla's intermediate "
        "ssl_prefer_server_ciphers off (every cipher offered is AEAD with forward secrecy), which 3.2 reports as INFO",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="mvp-pf-platform")
    parser.add_argument("--state-dir", default="/var/lib/mvp-audit")
    parser.add_argument("--run", action="store_true", help="run the audit first (mvp-config-audit.service)")
    parser.add_argument("--out", default=os.fspath(RESULT))
    args = parser.parse_args()
    load = None
    if args.run:
        load = os.getloadavg()[0]
        sh(args.host, "systemctl start mvp-config-audit.service", timeout=3600)
    data = measure(args.host, args.state_dir)
    if load is not None:  # a shared machine: the scan's time depends on it
        data["load_average_before"] = round(load, 2)
    Path(args.out).write_text(json.dumps(data, indent=2) + "\n")
    print(
        f"{args.out}: grade {data['grade']}, {data['medium_or_worse']['counted']} MEDIUM or worse counted, "
        f"{data['medium_or_worse']['test_ca']} from the test CA"
    )


if __name__ == "__main__":
    main()
