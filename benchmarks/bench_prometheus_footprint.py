"""Prometheus footprint of the multi-host shape: scrape targets, series, memory and disk per day.

Reads the monitoring host of a converged `multihost` scenario (container ``mvp-mh-db``; create it
with ``molecule converge -s multihost`` or ``molecule test -s multihost --destroy never``) and
measures, over a window (``--window`` seconds, 300 by default):

* the scrape targets by job and their health, the samples one scrape round yields
  (``sum(scrape_samples_scraped)``), the head series;
* the resident memory of the Prometheus process;
* the samples appended and how much the write-ahead log and the head chunks (the compressed
  samples, memory-mapped on disk) grew in the window, hence bytes per sample on disk.

From these it projects the samples per day at the role's default scrape interval (30 s; the
scenario scrapes every 5 s to test quickly) and the disk per day and at the default retention
(15 days): samples/day x compressed bytes/sample, with the WAL (kept about 2-3 hours, not per day)
reported beside it. Writes benchmarks/results/prometheus_footprint.json.

Run:  .venv/bin/python benchmarks/bench_prometheus_footprint.py [--window 300] [--host mvp-mh-db]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "results" / "prometheus_footprint.json"
DATA = "/var/lib/prometheus/metrics2"
DEFAULT_INTERVAL_S = 30
DEFAULT_RETENTION_D = 15


def sh(host: str, cmd: str) -> str:
    return subprocess.run(
        ["docker", "exec", host, "sh", "-c", cmd], capture_output=True, text=True, check=True, timeout=60
    ).stdout


def query(host: str, expr: str) -> list:
    url = f"http://127.0.0.1:9090/api/v1/query?query={quote(expr)}"
    return json.loads(sh(host, f"curl -fsS '{url}'"))["data"]["result"]


def scalar(host: str, expr: str) -> float:
    result = query(host, expr)
    return float(result[0]["value"][1]) if result else 0.0


def du(host: str, path: str) -> int:
    return int(sh(host, f"du -sb {path} | cut -f1").split()[0])


def snapshot(host: str) -> dict:
    return {
        "t": time.time(),
        "appended": scalar(host, "prometheus_tsdb_head_samples_appended_total"),
        "wal_bytes": du(host, f"{DATA}/wal"),
        "chunks_head_bytes": du(host, f"{DATA}/chunks_head"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="mvp-mh-db")
    parser.add_argument("--window", type=int, default=300)
    args = parser.parse_args()
    host = args.host
    if subprocess.run(["docker", "inspect", host], capture_output=True, check=False).returncode != 0:
        print(f"skipped: no container {host} (converge the multihost scenario first)")
        return

    targets = json.loads(sh(host, "curl -fsS http://127.0.0.1:9090/api/v1/targets"))["data"]["activeTargets"]
    by_job: dict[str, dict] = {}
    for t in targets:
        job = by_job.setdefault(t["labels"]["job"], {"targets": 0, "up": 0})
        job["targets"] += 1
        job["up"] += t["health"] == "up"
    interval = sh(host, "grep -m1 'scrape_interval' /etc/prometheus/prometheus.yml").split()[-1]

    start = snapshot(host)
    time.sleep(args.window)
    end = snapshot(host)

    samples_per_scrape = scalar(host, "sum(scrape_samples_scraped)")
    head_series = scalar(host, "prometheus_tsdb_head_series")
    rss = scalar(host, 'process_resident_memory_bytes{job="prometheus"}')
    appended = end["appended"] - start["appended"]
    elapsed = end["t"] - start["t"]
    chunk_growth = end["chunks_head_bytes"] - start["chunks_head_bytes"]
    wal_growth = end["wal_bytes"] - start["wal_bytes"]
    # Head chunks are written to disk when full (120 samples), so their growth lags the samples;
    # over a window of several minutes at a 5 s interval it is the compressed rate.
    bytes_per_sample_chunks = chunk_growth / appended if appended else None
    bytes_per_sample_wal = wal_growth / appended if appended else None
    samples_per_day_default = samples_per_scrape * 86400 / DEFAULT_INTERVAL_S
    disk_per_day = samples_per_day_default * bytes_per_sample_chunks if bytes_per_sample_chunks else None

    result = {
        "benchmark": "prometheus_footprint",
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "scenario": "multihost (proxy, app1, app2, db+monitoring)",
        "machine": {"cpus": os.cpu_count(), "load_1m_end": os.getloadavg()[0]},
        "scenario_scrape_interval": interval,
        "scrape_targets": {"total": len(targets), "up": sum(j["up"] for j in by_job.values()), "by_job": by_job},
        "samples_per_scrape_round": samples_per_scrape,
        "head_series": head_series,
        "prometheus_rss_bytes": rss,
        "rss_bytes_per_head_series": round(rss / head_series, 1) if head_series else None,
        "window_s": round(elapsed, 1),
        "samples_appended_in_window": appended,
        "samples_per_second_measured": round(appended / elapsed, 1),
        "wal_growth_bytes": wal_growth,
        "chunks_head_growth_bytes": chunk_growth,
        "bytes_per_sample_compressed": round(bytes_per_sample_chunks, 3) if bytes_per_sample_chunks else None,
        "bytes_per_sample_wal": round(bytes_per_sample_wal, 3) if bytes_per_sample_wal else None,
        "projection_at_role_defaults": {
            "scrape_interval_s": DEFAULT_INTERVAL_S,
            "retention_days": DEFAULT_RETENTION_D,
            "samples_per_day": round(samples_per_day_default),
            "disk_bytes_per_day": round(disk_per_day) if disk_per_day else None,
            "disk_bytes_at_retention": round(disk_per_day * DEFAULT_RETENTION_D) if disk_per_day else None,
            "wal_bytes_about_3h": round(samples_per_day_default / 8 * bytes_per_sample_wal)
            if bytes_per_sample_wal
            else None,
            "memory_note": "memory follows the head series (about the last 2-3 h), not the retention: "
            "the RSS measured here is the steady state for this number of series",
        },
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
