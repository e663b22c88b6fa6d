# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Scheduled configuration audit of one host (SEC-5): Lynis, ssh-audit and testssl.sh, as numbers.

Standard library only, no Ansible imports, Python 3.9+. The parsers and the baseline comparison
are pure functions (unit-tested); ``main`` runs the three Debian tools, keeps their reports in the
state directory, writes node_exporter textfile metrics and a short summary for the operator::

    python3 _config_audit.py run --state-dir /var/lib/mvp-audit --textfile-dir DIR \\
        --ssh-target 127.0.0.1:22 [--tls-target 127.0.0.1:443]
    python3 _config_audit.py accept --state-dir /var/lib/mvp-audit   # current result = baseline

Metrics: ``mvp_config_audit_lynis_hardening_index``, ``mvp_config_audit_ssh_findings{level}``,
``mvp_config_audit_tls_grade`` (A+=6 ... F=0, -1 not measured), ``mvp_config_audit_regressions``
(results worse than the accepted baseline) and ``mvp_config_audit_last_run_timestamp_seconds``.
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


def parse_testssl(findings: list) -> dict:
    """Overall grade and the MEDIUM-or-worse findings of a testssl.sh --jsonfile (flat list)."""
    grade = next((f.get("finding") for f in findings if f.get("id") == "overall_grade"), None)
    bad = [f"{f.get('id')}: {f.get('finding')}" for f in findings if f.get("severity") in TLS_BAD]
    return {"grade": grade, "medium_or_worse": bad}


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
    lines = [
        f"Configuration audit of {host}",
        f"  Lynis hardening index: {current.get('lynis_hardening_index')}"
        f" ({len(current.get('lynis_suggestions', []))} suggestions,"
        f" {len(current.get('lynis_warnings', []))} warnings)",
        f"  ssh-audit: {current.get('ssh_fail')} fail, {current.get('ssh_warn')} warn",
        f"  testssl.sh grade: {tls} ({len(current.get('tls_medium_or_worse', []))} MEDIUM or worse)",
        "  Worse than the accepted baseline: " + ("; ".join(worse) if worse else "nothing"),
    ]
    return "\n".join(lines) + "\n"


def _run(argv: list, timeout: int = 1800) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=timeout)  # noqa: S603 - fixed audit tools
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(argv, 127, "", str(exc))


def _write(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def audit(args: dict) -> dict:
    state = args["state_dir"]
    current = {}
    report = os.path.join(state, "lynis-report.dat")
    _run(
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
        ]
    )
    if os.path.isfile(report):
        with open(report, encoding="utf-8", errors="replace") as handle:
            lynis = parse_lynis_report(handle.read())
        current.update(
            lynis_hardening_index=lynis["hardening_index"],
            lynis_suggestions=lynis["suggestions"],
            lynis_warnings=lynis["warnings"],
        )
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
        out = os.path.join(state, "testssl.json")
        if os.path.exists(out):
            os.remove(out)
        _run(
            ["testssl", "--quiet", "--color", "0", "--warnings", "off", "--jsonfile", out, args["tls_target"]],
            timeout=1800,
        )
        try:
            with open(out, encoding="utf-8") as handle:
                tls = parse_testssl(json.load(handle))
            current.update(tls_grade=tls["grade"], tls_medium_or_worse=tls["medium_or_worse"])
        except (OSError, ValueError):
            current.update(tls_grade=None, tls_medium_or_worse=[])
    return current


def main(argv: list) -> int:
    import argparse  # noqa: PLC0415 - only the command line needs it

    parser = argparse.ArgumentParser(description="Configuration audit (Lynis, ssh-audit, testssl.sh)")
    parser.add_argument("command", choices=["run", "accept"])
    parser.add_argument("--state-dir", default="/var/lib/mvp-audit")
    parser.add_argument("--textfile-dir", default="")
    parser.add_argument("--ssh-target", default="127.0.0.1:22")
    parser.add_argument("--tls-target", default="")
    parser.add_argument("--host", default=os.uname().nodename)
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
