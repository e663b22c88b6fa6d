# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Scheduled configuration audit of one host (SEC-5): Lynis, ssh-audit and testssl.sh, as numbers.

Standard library only, no Ansible imports, Python 3.9+. The parsers and the baseline comparison
are pure functions (unit-tested); ``main`` runs the three Debian tools, keeps their reports in the
state directory, writes node_exporter textfile metrics and a short summary for the operator::

    python3 _config_audit.py run --state-dir /var/lib/mvp-audit --textfile-dir DIR \\
        --ssh-target 127.0.0.1:22 [--tls-target example.com:443 [--tls-ca-file /path/ca.pem]]
    python3 _config_audit.py accept --state-dir /var/lib/mvp-audit   # current result = baseline

Metrics: ``mvp_config_audit_lynis_hardening_index``, ``mvp_config_audit_ssh_findings{level}``,
``mvp_config_audit_tls_grade`` (A+=6 ... F=0, -1 not measured), ``mvp_config_audit_tls_findings``
(testssl.sh's MEDIUM or worse, test-CA findings not counted; -1 not measured),
``mvp_config_audit_regressions`` (results worse than the accepted baseline) and
``mvp_config_audit_last_run_timestamp_seconds``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

GRADES = {"A+": 6, "A": 5, "A-": 4, "B": 3, "C": 2, "D": 1, "E": 0, "F": 0, "T": 0, "M": 0}
TLS_BAD = ("MEDIUM", "HIGH", "CRITICAL")


def parse_lynis_report(text: str) -> dict:
    """hardening_index, suggestions and warnings ("ID|text") of /var/log/lynis-report.dat."""
    result = {"hardening_index": None, "suggestions": [], "warnings": []}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        if key == "hardening_index" and value.strip().isdigit():
            result["hardening_index"] = int(value)
        elif key in ("suggestion[]", "warning[]"):
            fields = value.split("|")
            entry = f"{fields[0]}|{fields[1] if len(fields) > 1 else ''}"
            if len(fields) > 2 and fields[2] not in ("-", ""):
                entry += f" ({fields[2]})"
            result["suggestions" if key == "suggestion[]" else "warnings"].append(entry)
    return result


def parse_ssh_audit(data: dict) -> dict:
    """Counts and names of the fail/warn notes of `ssh-audit -j` (algorithms, keys, CVEs)."""
    found = {"fail": [], "warn": []}
    for section in ("kex", "key", "enc", "mac"):
        for entry in data.get(section, []) or []:
            if not isinstance(entry, dict):
                continue
            notes = entry.get("notes", {}) or {}
            for level in ("fail", "warn"):
                if notes.get(level):
                    found[level].append(f"{section} {entry.get('algorithm', '?')}: {'; '.join(notes[level])}")
    for cve in data.get("cves", []) or []:
        found["fail"].append(f"cve {cve.get('name', '?')}")
    return {"fail": len(found["fail"]), "warn": len(found["warn"]), "details": found["fail"] + found["warn"]}


SSH_TEXT_RE = re.compile(r"^\((kex|key|enc|mac|cve)\) (\S+)")
SSH_NOTE_RE = re.compile(r"(?:--|`-) \[(fail|warn)\] (.*)$")
# Notes of an older ssh-audit that its later versions no longer give, with the reason: listed, not
# counted. Narrow on purpose (section, algorithm, exact note); anything else still counts.
WITHDRAWN_NOTES = {
    ("kex", "sntrup761x25519-sha512@openssh.com", "using experimental algorithm"): (
        "Debian 12's ssh-audit 2.5.0 only; ssh-audit 3.3.0 (Debian 13) no longer warns: it is OpenSSH's "
        "default post-quantum hybrid key exchange since 9.0"
    ),
}


def ssh_audit_json_has_notes(data: dict) -> bool:
    """Newer ssh-audit JSON carries each algorithm's notes; Debian 12's 2.5.0 lists bare names."""
    entries = [e for section in ("kex", "key", "enc", "mac") for e in (data.get(section) or [])]
    return any(isinstance(e, dict) and "notes" in e for e in entries)


def parse_ssh_audit_text(text: str) -> dict:
    """The fail/warn notes of `ssh-audit -n` (text), for versions whose JSON has none.

    "unknown algorithm" means this ssh-audit is older than the algorithm (Debian 12's does not know
    sntrup761x25519-sha512 or the strict-KEX marker): listed, not counted as a finding; so are the
    notes in WITHDRAWN_NOTES, which later ssh-audit versions no longer give.
    """
    found = {"fail": [], "warn": [], "unknown": []}
    section, name = "?", "?"
    for line in text.splitlines():
        algorithm = SSH_TEXT_RE.match(line)
        if algorithm:
            section, name = algorithm.group(1), algorithm.group(2)
        note = SSH_NOTE_RE.search(line)
        if not note or not line.strip() or line.startswith("#"):
            continue
        level, message = note.group(1), note.group(2).strip()
        entry = f"{section} {name}: {message}"
        withdrawn = WITHDRAWN_NOTES.get((section, name, message))
        if message == "unknown algorithm":
            found["unknown"].append(f"{entry} (not counted: unknown to this ssh-audit)")
        elif withdrawn:
            found["unknown"].append(f"{entry} (not counted: {withdrawn})")
        else:
            found[level].append(entry)
    return {
        "fail": len(found["fail"]),
        "warn": len(found["warn"]),
        "details": found["fail"] + found["warn"] + found["unknown"],
    }


# Findings caused by a test or private CA (Pebble in the platform scenario), not by the server:
# listed with the reason, not counted, and only when the audit trusts such a CA (--tls-ca-file); with
# the system's CAs alone every finding counts. Narrow on purpose: testssl.sh's id (3.2 / 3.0.8 names),
# its severity and the whole finding text; the same id with another severity or text counts.
TEST_CA_FINDINGS = (
    (
        "cert_revocation",
        "HIGH",
        re.compile(r"Neither CRL nor OCSP URI provided"),
        "the test CA's certificates carry no revocation URI (Pebble runs no CRL or OCSP service); "
        "Let's Encrypt's carry a CRL distribution point",
    ),
    (
        "cert_extlifeSpan",
        "MEDIUM",
        re.compile(r"[0-9]+ days"),
        "the test CA issues 5-year certificates (Pebble's fixed validity; testssl.sh: 5 to 10 years); "
        "Let's Encrypt issues 90-day ones that certbot renews",
    ),
    (
        "cert_validityPeriod",  # testssl.sh 3.0.8's name of cert_extlifeSpan
        "MEDIUM",
        re.compile(r"[0-9]+ days"),
        "the test CA issues 5-year certificates (Pebble's fixed validity; testssl.sh: 5 to 10 years); "
        "Let's Encrypt issues 90-day ones that certbot renews",
    ),
)
# Findings an older testssl.sh rates higher than its later versions do, with the reason: listed,
# not counted. Narrow on purpose: the versions (a prefix of testssl.sh's version), the id, the
# severity, the whole finding, and only when every cipher offered is strong (cipherlist_*).
TESTSSL_WITHDRAWN = (
    (
        "3.0.",
        "cipher_order",
        "HIGH",
        re.compile(r"NOT a cipher order configured"),
        "testssl.sh 3.0 (Debian 12) rates a server without its own cipher order HIGH; 3.2 (Debian 13) "
        "reports it as INFO when, as here, every cipher offered is strong (Mozilla's profile: "
        "ssl_prefer_server_ciphers off, AEAD with forward secrecy only)",
    ),
)
STRONG_CIPHER_LISTS = ("cipherlist_STRONG", "cipherlist_STRONG_FS")
TESTSSL_VERSION_RE = re.compile(r"testssl(?:\.sh)?\s+(?:version\s+)?([0-9]+\.[0-9][0-9A-Za-z.+~-]*)")
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")


def ca_finding_reason(finding: dict) -> str | None:
    """Why a testssl.sh finding is the test CA's doing, or None (then it counts)."""
    # A server with several certificates gets "<id> <cert#N>" ids.
    name = str(finding.get("id", "")).split(" ", 1)[0]
    text = str(finding.get("finding", "")).strip()
    for rule_id, severity, pattern, reason in TEST_CA_FINDINGS:
        if name == rule_id and finding.get("severity") == severity and pattern.fullmatch(text):
            return reason
    return None


def only_strong_ciphers(findings: list) -> bool:
    """testssl.sh's cipher lists (cipherlist_*) show nothing offered but the strong ones."""
    lists = [f for f in findings if str(f.get("id", "")).startswith("cipherlist_")]
    return bool(lists) and all(
        f.get("id") in STRONG_CIPHER_LISTS or str(f.get("finding", "")).startswith("not offered") for f in lists
    )


def withdrawn_reason(finding: dict, version: str | None, strong_only: bool) -> str | None:
    """Why this finding of this testssl.sh version is not counted (TESTSSL_WITHDRAWN), or None."""
    if not version or not strong_only:
        return None
    text = str(finding.get("finding", "")).strip()
    for prefix, rule_id, severity, pattern, reason in TESTSSL_WITHDRAWN:
        if (
            version.startswith(prefix)
            and finding.get("id") == rule_id
            and finding.get("severity") == severity
            and pattern.fullmatch(text)
        ):
            return reason
    return None


def parse_testssl(findings: list, test_ca: bool = False, version: str | None = None) -> dict:
    """Overall grade and the MEDIUM-or-worse findings of a testssl.sh --jsonfile (flat list).

    test_ca: the audit trusted a test or private CA; findings of TEST_CA_FINDINGS are then listed in
    "test_ca" (with the reason) instead of "medium_or_worse". version: testssl.sh's; the findings
    TESTSSL_WITHDRAWN names for it are listed in "withdrawn" (with the reason). The grade is None
    when testssl.sh gives none (3.0.8 has no rating) or the scan stopped; "problems" lists its WARN
    entries (checks it could not make) and "fatal" its FATAL ones (the scan, or the scan of an
    address, stopped).
    """
    grade = next((f.get("finding") for f in findings if f.get("id") == "overall_grade"), None)
    strong_only = only_strong_ciphers(findings)
    bad, from_ca, withdrawn, problems, fatal = [], [], [], [], []
    for finding in findings:
        entry = f"{finding.get('id')}: {finding.get('finding')}"
        if finding.get("severity") == "WARN":
            problems.append(entry)
        elif finding.get("severity") == "FATAL":
            fatal.append(entry)
        if finding.get("severity") not in TLS_BAD:
            continue
        reason = ca_finding_reason(finding) if test_ca else None
        older = withdrawn_reason(finding, version, strong_only)
        if reason:
            from_ca.append(f"{entry} ({finding.get('severity')}; not counted: {reason})")
        elif older:
            withdrawn.append(f"{entry} ({finding.get('severity')}; not counted: {older})")
        else:
            bad.append(entry)
    return {
        "grade": grade,
        "medium_or_worse": bad,
        "test_ca": from_ca,
        "withdrawn": withdrawn,
        "problems": problems,
        "fatal": fatal,
    }


def testssl_version(text: str) -> str | None:
    """The version in `testssl --version` (3.2: "testssl version 3.2.1", 3.0.8: "testssl   3.0.8")."""
    match = TESTSSL_VERSION_RE.search(ANSI_RE.sub("", text))
    return match.group(1) if match else None


def testssl_argv(target: str, address: str | None, ca_file: str, out: str) -> list:
    """testssl.sh's command line: no DNS lookups of its own (the address is resolved by the caller,
    /etc/hosts included), bounded connects, and the extra CA when there is one.

    testssl.sh's own lookups (dig, host, nslookup, each with its timeouts, for A, AAAA, PTR and CAA)
    take minutes where the resolver does not answer, and they ignore /etc/hosts with --ip one.
    """
    argv = ["testssl", "--quiet", "--color", "0", "--warnings", "off", "--nodns", "none"]
    argv += ["--connect-timeout", "10", "--openssl-timeout", "10"]
    if address:
        argv += ["--ip", address, "-6"] if ":" in address else ["--ip", address]
    if ca_file:
        argv += ["--add-ca", ca_file]
    return [*argv, "--jsonfile", out, target]


def resolve(target: str) -> tuple:
    """(address or None, error or None) of a host:port target; an address literal needs no lookup."""
    import ipaddress  # noqa: PLC0415 - only the audit run needs it
    import socket  # noqa: PLC0415

    host, _sep, port = target.rpartition(":")
    host = host.strip("[]")
    try:
        ipaddress.ip_address(host)
        return None, None
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return None, f"cannot resolve {host}: {exc}"
    addresses = [info[4][0] for info in infos]
    ipv4 = [a for a in addresses if ":" not in a]
    return (ipv4 or addresses)[0], None


def regressions(current: dict, baseline: dict | None) -> list:
    """What got worse than the accepted baseline (nothing when there is none yet)."""
    if not baseline:
        return []
    worse = []
    now, then = current.get("lynis_hardening_index"), baseline.get("lynis_hardening_index")
    if now is not None and then is not None and now < then:
        worse.append(f"Lynis hardening index {now} < baseline {then}")
    for level in ("fail", "warn"):
        now, then = current.get(f"ssh_{level}"), baseline.get(f"ssh_{level}")
        if now is not None and then is not None and now > then:
            worse.append(f"ssh-audit {level} {now} > baseline {then}")
    now, then = current.get("tls_grade"), baseline.get("tls_grade")
    if now and then and GRADES.get(now, 0) < GRADES.get(then, 0):
        worse.append(f"TLS grade {now} < baseline {then}")
    now, then = current.get("tls_findings"), baseline.get("tls_findings")
    if now is not None and then is not None and now > then:
        worse.append(f"testssl.sh MEDIUM or worse {now} > baseline {then}")
    return worse


def metrics(current: dict, worse: list, now: float) -> str:
    def value(number):
        return -1 if number is None else number

    lines = [
        "# HELP mvp_config_audit_lynis_hardening_index Lynis hardening index of the last configuration audit.",
        "# TYPE mvp_config_audit_lynis_hardening_index gauge",
        f"mvp_config_audit_lynis_hardening_index {value(current.get('lynis_hardening_index'))}",
        "# HELP mvp_config_audit_ssh_findings ssh-audit findings of the host's sshd by level.",
        "# TYPE mvp_config_audit_ssh_findings gauge",
        f'mvp_config_audit_ssh_findings{{level="fail"}} {value(current.get("ssh_fail"))}',
        f'mvp_config_audit_ssh_findings{{level="warn"}} {value(current.get("ssh_warn"))}',
        "# HELP mvp_config_audit_tls_grade testssl.sh grade (A+=6 A=5 A-=4 B=3 C=2 D=1 E/F/T/M=0, -1 none).",
        "# TYPE mvp_config_audit_tls_grade gauge",
        f"mvp_config_audit_tls_grade {GRADES.get(current.get('tls_grade'), -1) if current.get('tls_grade') else -1}",
        "# HELP mvp_config_audit_tls_findings testssl.sh findings MEDIUM or worse, test-CA ones not counted (-1 none).",
        "# TYPE mvp_config_audit_tls_findings gauge",
        f"mvp_config_audit_tls_findings {value(current.get('tls_findings'))}",
        "# HELP mvp_config_audit_regressions Results worse than the accepted baseline.",
        "# TYPE mvp_config_audit_regressions gauge",
        f"mvp_config_audit_regressions {len(worse)}",
        "# HELP mvp_config_audit_last_run_timestamp_seconds When the configuration audit last finished.",
        "# TYPE mvp_config_audit_last_run_timestamp_seconds gauge",
        f"mvp_config_audit_last_run_timestamp_seconds {int(now)}",
    ]
    return "\n".join(lines) + "\n"


def summary(host: str, current: dict, worse: list) -> str:
    tls = current.get("tls_grade") or "not measured"
    version = f" {current['tls_tool_version']}" if current.get("tls_tool_version") else ""
    lines = [
        f"Configuration audit of {host}",
        f"  Lynis hardening index: {current.get('lynis_hardening_index')}"
        f" ({len(current.get('lynis_suggestions', []))} suggestions,"
        f" {len(current.get('lynis_warnings', []))} warnings)"
        + (f"; {current['lynis_error']}" if current.get("lynis_error") else ""),
        f"  ssh-audit: {current.get('ssh_fail')} fail, {current.get('ssh_warn')} warn",
    ]
    if current.get("tls_target"):
        lines.append(
            f"  testssl.sh{version} grade: {tls} ({len(current.get('tls_medium_or_worse', []))} MEDIUM or worse)"
        )
        lines += [f"    {entry}" for entry in current.get("tls_medium_or_worse", [])]
        lines += [f"    test CA, {entry}" for entry in current.get("tls_test_ca", [])]
        lines += [f"    older testssl.sh, {entry}" for entry in current.get("tls_withdrawn", [])]
        if current.get("tls_error"):
            lines.append(f"    {current['tls_error']}")
    else:
        lines.append("  testssl.sh: not run (no TLS listener to test on this host)")
    lines.append("  Worse than the accepted baseline: " + ("; ".join(worse) if worse else "nothing"))
    return "\n".join(lines) + "\n"


# Seconds each of Lynis and testssl.sh may take (security_audit_tool_timeout); the rc of a tool
# cut by it (as timeout(1) says).
TOOL_TIMEOUT = 1800
TIMED_OUT = 124


def _run(argv: list, timeout: int = TOOL_TIMEOUT) -> subprocess.CompletedProcess:
    """argv's result, never an exception: rc 127 when it cannot run, TIMED_OUT when cut by timeout."""
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=timeout)  # noqa: S603 - fixed audit tools
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(argv, TIMED_OUT, "", str(exc))
    except OSError as exc:
        return subprocess.CompletedProcess(argv, 127, "", str(exc))


def _write(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def audit(args: dict) -> dict:
    state = args["state_dir"]
    limit = args.get("tool_timeout") or TOOL_TIMEOUT
    current = {}
    report = os.path.join(state, "lynis-report.dat")
    proc = _run(
        [
            "lynis",
            "audit",
            "system",
            "--quick",
            "--no-colors",
            "--report-file",
            report,
            "--logfile",
            os.path.join(state, "lynis.log"),
        ],
        timeout=limit,
    )
    if os.path.isfile(report):
        with open(report, encoding="utf-8", errors="replace") as handle:
            lynis = parse_lynis_report(handle.read())
        current.update(
            lynis_hardening_index=lynis["hardening_index"],
            lynis_suggestions=lynis["suggestions"],
            lynis_warnings=lynis["warnings"],
        )
    if proc.returncode == TIMED_OUT:
        current["lynis_error"] = f"not measured: Lynis did not finish within {limit} s (security_audit_tool_timeout)"
    host, _sep, port = args["ssh_target"].rpartition(":")
    proc = _run(["ssh-audit", "-j", "-p", port, host], timeout=120)
    try:
        data = json.loads(proc.stdout)
        if ssh_audit_json_has_notes(data):
            ssh = parse_ssh_audit(data)
        else:
            ssh = parse_ssh_audit_text(_run(["ssh-audit", "-n", "-p", port, host], timeout=120).stdout)
        current.update(ssh_fail=ssh["fail"], ssh_warn=ssh["warn"], ssh_details=ssh["details"])
    except ValueError:
        current.update(ssh_fail=None, ssh_warn=None, ssh_details=[f"ssh-audit failed: {proc.stderr.strip()[:300]}"])
    if args.get("tls_target"):
        current.update(tls_audit(args["tls_target"], args.get("tls_ca_file") or "", state, limit))
    return current


def tls_audit(target: str, ca_file: str, state: str, limit: int = TOOL_TIMEOUT) -> dict:
    """testssl.sh against target: its grade (None: not measured) and findings, never an exception."""
    result = {"tls_target": target, "tls_grade": None, "tls_findings": None}
    result.update(tls_medium_or_worse=[], tls_test_ca=[], tls_withdrawn=[], tls_problems=[])
    result["tls_tool_version"] = testssl_version(_run(["testssl", "--version"], timeout=60).stdout)
    out = os.path.join(state, "testssl.json")
    if os.path.exists(out):
        os.remove(out)
    if ca_file and not os.path.isfile(ca_file):
        result["tls_error"] = f"not measured: the CA file {ca_file} does not exist"
        return result
    address, error = resolve(target)
    if error:
        result["tls_error"] = f"not measured: {error}"
        return result
    proc = _run(testssl_argv(target, address, ca_file, out), timeout=limit)
    try:
        with open(out, encoding="utf-8") as handle:
            tls = parse_testssl(json.load(handle), test_ca=bool(ca_file), version=result["tls_tool_version"])
    except (OSError, ValueError, AttributeError) as exc:
        result["tls_error"] = f"not measured: testssl.sh wrote no report ({exc}; {proc.stderr.strip()[-300:]})"
        return result
    result.update(
        tls_grade=tls["grade"],
        tls_medium_or_worse=tls["medium_or_worse"],
        tls_test_ca=tls["test_ca"],
        tls_withdrawn=tls["withdrawn"],
        tls_problems=tls["problems"],
    )
    if tls["fatal"]:
        result["tls_error"] = f"not measured: the scan stopped ({'; '.join(tls['fatal'])})"
    elif tls["grade"] is None:
        version = result["tls_tool_version"] or "?"
        result["tls_error"] = f"grade not measured: testssl.sh {version} rates nothing (3.1 and later do)"
    # Findings are counted only from a finished scan (a stopped one has few).
    if not tls["fatal"]:
        result["tls_findings"] = len(tls["medium_or_worse"])
    return result


def main(argv: list) -> int:
    import argparse  # noqa: PLC0415 - only the command line needs it

    parser = argparse.ArgumentParser(description="Configuration audit (Lynis, ssh-audit, testssl.sh)")
    parser.add_argument("command", choices=["run", "accept"])
    parser.add_argument("--state-dir", default="/var/lib/mvp-audit")
    parser.add_argument("--textfile-dir", default="")
    parser.add_argument("--ssh-target", default="127.0.0.1:22")
    parser.add_argument("--tls-target", default="")
    parser.add_argument("--tls-ca-file", default="", help="extra CA certificates testssl.sh trusts (--add-ca)")
    parser.add_argument("--host", default=os.uname().nodename)
    parser.add_argument(
        "--tool-timeout", type=int, default=TOOL_TIMEOUT, help="seconds each of Lynis and testssl.sh may take"
    )
    args = vars(parser.parse_args(argv))
    os.makedirs(args["state_dir"], mode=0o750, exist_ok=True)
    result_path = os.path.join(args["state_dir"], "result.json")
    baseline_path = os.path.join(args["state_dir"], "baseline.json")
    if args["command"] == "accept":
        with open(result_path, encoding="utf-8") as handle:
            _write(baseline_path, handle.read())
        sys.stdout.write(f"accepted {result_path} as the baseline\n")
        return 0
    current = audit(args)
    baseline = None
    if os.path.isfile(baseline_path):
        with open(baseline_path, encoding="utf-8") as handle:
            baseline = json.load(handle)
    worse = regressions(current, baseline)
    current["regressions"] = worse
    _write(result_path, json.dumps(current, indent=2) + "\n")
    text = summary(args["host"], current, worse)
    _write(os.path.join(args["state_dir"], "summary.txt"), text)
    if args["textfile_dir"] and os.path.isdir(args["textfile_dir"]):
        _write(os.path.join(args["textfile_dir"], "mvp_config_audit.prom"), metrics(current, worse, time.time()))
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
