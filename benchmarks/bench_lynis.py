"""Lynis hardening index of a host converged with the production settings, and where points are lost.

Runs ``lynis audit system --quick`` (Debian's package) inside the security scenario's host
(container ``mvp-sec-host``: ``molecule converge -s security`` creates and converges it with the
hardening role and the production inventory's SSH, MFA and allowlist settings), then reads
Lynis's own log: every "assigned N hardening points (max M)" line, grouped by test id, so the
result lists each test that lost points and how many.

A test container cannot apply kernel parameters (``/proc/sys`` is read-only), so KRNL-6000 (one
point per sysctl key that differs from Lynis's scan profile) is measured against the machine's
values, not the role's. The result also gives the index *projected for a real host*: KRNL-6000's
keys that the role's sysctl file (``/etc/sysctl.d/60-mvp-hardening.conf`` on the host) sets to
Lynis's expected value counted as earned. Both numbers are written; only the first is measured.

Writes benchmarks/results/lynis.json. Run: .venv/bin/python benchmarks/bench_lynis.py [--host mvp-sec-host]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "results" / "lynis.json"
SYSCTL_FILE = "/etc/sysctl.d/60-mvp-hardening.conf"
TEST_RE = re.compile(r"Performing test ID (\S+) \((.*)\)")
FULL_RE = re.compile(r"assigned maximum number of hardening points for this item \((\d+)\)")
PART_RE = re.compile(r"assigned partial number of hardening points \((\d+) of (\d+)\)")
SYSCTL_RE = re.compile(
    r"sysctl key (\S+) has a different value than expected in scan profile\. Expected=(\S+), Real=(\S+)"
)
SUGGESTION_RE = re.compile(r"^suggestion\[\]=([^|]+)\|([^|]+)\|")


def sh(host: str, cmd: str, timeout: int = 900) -> str:
    return subprocess.run(
        ["docker", "exec", host, "sh", "-c", cmd], capture_output=True, text=True, check=True, timeout=timeout
    ).stdout


def points(log: str) -> tuple[int, int, dict]:
    """(earned, possible, {test: {title, lost}}) from Lynis's log."""
    earned = possible = 0
    lost: dict = {}
    test, title = "-", ""
    for line in log.splitlines():
        if m := TEST_RE.search(line):
            test, title = m.group(1), m.group(2)
            continue
        if m := FULL_RE.search(line):
            got = top = int(m.group(1))
        elif m := PART_RE.search(line):
            got, top = int(m.group(1)), int(m.group(2))
        else:
            continue
        earned, possible = earned + got, possible + top
        if got < top:
            entry = lost.setdefault(test, {"title": title, "lost": 0})
            entry["lost"] += top - got
    return earned, possible, lost


def role_sysctls(text: str) -> dict:
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line and not line.lstrip().startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="mvp-sec-host")
    args = parser.parse_args()

    install = "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lynis >/dev/null"
    sh(args.host, f"command -v lynis >/dev/null || {install}")
    sh(args.host, "lynis audit system --quick --no-colors >/dev/null 2>&1 || true")
    log = sh(args.host, "cat /var/log/lynis.log")
    report = sh(args.host, "cat /var/log/lynis-report.dat")
    index = int(re.search(r"^hardening_index=(\d+)", report, re.M).group(1))
    earned, possible, lost = points(log)

    wanted = role_sysctls(sh(args.host, f"cat {SYSCTL_FILE} 2>/dev/null || true"))
    differing = [{"key": k, "expected": e, "live": r, "role_sets": wanted.get(k)} for k, e, r in SYSCTL_RE.findall(log)]
    fixed_by_role = [d["key"] for d in differing if d["role_sets"] == d["expected"]]
    projected = earned + len(fixed_by_role)

    result = {
        "benchmark": "Lynis hardening index of the security scenario's host (hardening role, production settings)",
        "when": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "host": args.host,
        "lynis": sh(args.host, "lynis show version").strip(),
        "machine": {"cpus": os.cpu_count()},
        "hardening_index": index,
        "points": {"earned": earned, "possible": possible},
        "goal": 88,
        "lost_points_by_test": dict(sorted(lost.items(), key=lambda kv: -kv[1]["lost"])),
        "sysctl_in_container": {
            "differing_keys": differing,
            "set_right_by_the_role_file": fixed_by_role,
            "note": "/proc/sys is read-only in a test container: the role writes the file, "
            "the kernel keeps the machine's values",
        },
        "projected_real_host_index": projected * 100 // possible,
        "projection_note": "measured points plus the KRNL-6000 keys the role's sysctl file sets to "
        "Lynis's value; not measured",
        "suggestions": [f"{i}: {t}" for i, t in SUGGESTION_RE.findall(report)],
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    summary = {k: result[k] for k in ("hardening_index", "projected_real_host_index")}
    print(json.dumps(summary | {"lost": {k: v["lost"] for k, v in result["lost_points_by_test"].items()}}))


if __name__ == "__main__":
    main()
