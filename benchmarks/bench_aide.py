"""What AIDE costs on a host converged with the production settings: the first database, the daily check.

Runs inside the security scenario's host (container ``mvp-sec-host``: ``molecule converge -s
security`` creates and converges it with ``hardening_aide_enabled: true``, as the production and
staging inventories have it). It copies the role's ``/etc/aide/aide.conf`` with its databases moved
to a scratch directory (the host's own database is left alone), then measures, with the
CPU times of the child process (``getrusage``) and its peak memory:

* ``aide --init``: what the first converge pays once (the role's task has ``creates:``);
* ``aide --update``: what ``mvp-aide-check.service`` runs every day (compares the host with the
  database and writes the next one), on the unchanged host.

Each is run ``--runs`` times (3 by default); the median is the headline. It also counts what the
configuration selects (entries in the database, bytes hashed) so that the time can be projected
to a larger host: the check reads every selected byte, so its time grows with them. The machine
is shared: the load average before each run is recorded.

Writes benchmarks/results/aide.json. Run: .venv/bin/python benchmarks/bench_aide.py [--host mvp-sec-host]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "results" / "aide.json"
SCRATCH = "/var/tmp/mvp-aide-bench"  # noqa: S108 - inside the test host, made 0700 and removed

# Runs inside the host: one aide command, its wall time, CPU times and peak RSS as JSON.
PROBE = r"""
import json, resource, subprocess, sys, time
start = time.monotonic()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.monotonic() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
entries = [l for l in proc.stdout.splitlines() if "Number of entries" in l or "Total number of entries" in l]
print(json.dumps({"rc": proc.returncode, "wall_s": round(wall, 2), "user_s": round(usage.ru_utime, 2),
                  "sys_s": round(usage.ru_stime, 2), "max_rss_mb": round(usage.ru_maxrss / 1024, 1),
                  "entries_line": entries[0].strip() if entries else "", "stderr": proc.stderr[-500:]}))
"""

# Bytes and files under the selected paths, minus the excluded ones (read from the role's config).
SIZE = r"""
import json, os, re, sys
conf = open("/etc/aide/aide.conf").read().splitlines()
paths = [l.split()[0] for l in conf if re.match(r"^/\S+\s+\S+", l)]
excluded = [l[1:].strip() for l in conf if l.startswith("!/")]
files = size = 0
for top in paths:
    for root, dirs, names in os.walk(top):
        dirs[:] = [d for d in dirs if not any(os.path.join(root, d).startswith(e) for e in excluded)]
        for name in names:
            p = os.path.join(root, name)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            files += 1
            if os.path.isfile(p) and not os.path.islink(p):
                size += st.st_size
print(json.dumps({"paths": paths, "excluded": excluded, "files": files, "bytes": size}))
"""


def sh(host: str, cmd: str, timeout: int = 3600) -> str:
    return subprocess.run(
        ["docker", "exec", host, "sh", "-c", cmd], capture_output=True, text=True, check=True, timeout=timeout
    ).stdout


def py(host: str, code: str, *args: str, timeout: int = 3600) -> dict:
    out = subprocess.run(
        ["docker", "exec", host, "python3", "-c", code, *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=timeout,
    ).stdout
    return json.loads(out)


def run_aide(host: str, mode: str) -> dict:
    load = os.getloadavg()[0]
    result = py(host, PROBE, "aide", f"--{mode}", f"--config={SCRATCH}/aide.conf")
    result["load_before"] = round(load, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="mvp-sec-host")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    sh(args.host, f"rm -rf {SCRATCH} && mkdir -m 0700 {SCRATCH}")
    sh(
        args.host,
        f"sed -e 's#/var/lib/aide/#{SCRATCH}/#g' /etc/aide/aide.conf > {SCRATCH}/aide.conf",
    )
    inits, checks = [], []
    for _ in range(args.runs):
        sh(args.host, f"rm -f {SCRATCH}/aide.db {SCRATCH}/aide.db.new")
        inits.append(run_aide(args.host, "init"))
        sh(args.host, f"mv {SCRATCH}/aide.db.new {SCRATCH}/aide.db")
        checks.append(run_aide(args.host, "update"))
    db_bytes = int(sh(args.host, f"stat -c %s {SCRATCH}/aide.db").strip())
    selected = py(args.host, SIZE)
    sh(args.host, f"rm -rf {SCRATCH}")

    def summary(runs: list) -> dict:
        return {
            "median_wall_s": statistics.median(r["wall_s"] for r in runs),
            "median_cpu_s": statistics.median(r["user_s"] + r["sys_s"] for r in runs),
            "max_rss_mb": max(r["max_rss_mb"] for r in runs),
            "exit_codes": sorted({r["rc"] for r in runs}),
            "runs": runs,
        }

    init, check = summary(inits), summary(checks)
    mb = selected["bytes"] / 1e6
    result = {
        "benchmark": "AIDE on the security scenario's host (hardening role, production settings): "
        "first database (aide --init) and the daily check (aide --update, as mvp-aide-check.service)",
        "when": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "host": args.host,
        "distribution": sh(args.host, ". /etc/os-release && echo $PRETTY_NAME").strip(),
        "aide": sh(args.host, "aide --version 2>&1 | head -n 1").strip(),
        "machine": {"cpus": os.cpu_count(), "note": "shared with other test containers; load_before per run"},
        "selected": selected | {"megabytes": round(mb, 1)},
        "database_bytes": db_bytes,
        "init": init,
        "check": check,
        "check_throughput_mb_per_cpu_s": round(mb / check["median_cpu_s"], 1) if check["median_cpu_s"] else None,
        "check_exit_codes_note": "0 = the host matches the database (nothing changed between the runs)",
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(
        json.dumps(
            {k: result[k] for k in ("selected", "database_bytes")}
            | {
                "init": {k: init[k] for k in ("median_wall_s", "median_cpu_s", "max_rss_mb", "exit_codes")},
                "check": {k: check[k] for k in ("median_wall_s", "median_cpu_s", "max_rss_mb", "exit_codes")},
            }
        )
    )


if __name__ == "__main__":
    main()
