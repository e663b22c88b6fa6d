"""Alert delay of the multi-host shape: from a stopped exporter to the notification at the receiver.

Reads a converged `multihost` scenario (``molecule test -s multihost --destroy never`` or
``molecule converge -s multihost``): on app1 it stops node_exporter, waits for app1's TargetDown
at the webhook receiver the scenario runs on the monitoring host (``prepare.yml``), starts the
exporter again and waits for the resolved notification; ``--rounds`` times (3 by default).

The delay is the sum of the scenario's settings (scrape and evaluation every 5 s, ``for: 20s``,
Alertmanager's ``group_wait`` 2 s) and what the machine adds; the result lists both, so the
number for the role's defaults (30 s intervals, ``for: 2m``, ``group_wait`` 30 s) can be read off
as the same sum. Writes benchmarks/results/alert_delay.json.

Run:  .venv/bin/python benchmarks/bench_alert_delay.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "results" / "alert_delay.json"
MONITORING, APP = "mvp-mh-db", "mvp-mh-app1"
WEBHOOK_LOG = "/var/log/mvp-mon-test/webhook.jsonl"
TIMEOUT_S = 240


def sh(host: str, cmd: str) -> str:
    return subprocess.run(
        ["docker", "exec", host, "sh", "-c", cmd], capture_output=True, text=True, check=True, timeout=60
    ).stdout


def notifications() -> list[dict]:
    return [json.loads(line) for line in sh(MONITORING, f"cat {WEBHOOK_LOG} 2>/dev/null || true").splitlines() if line]


def wait_for(seen: int, status: str) -> float | None:
    """The receiver's time of the first notification after `seen` with app1's TargetDown in status."""
    deadline = time.time() + TIMEOUT_S
    while time.time() < deadline:
        for entry in notifications()[seen:]:
            for alert in entry["body"].get("alerts", []):
                labels = alert["labels"]
                if (labels["alertname"], labels.get("host"), alert["status"]) == ("TargetDown", APP, status):
                    return entry["received"]
        time.sleep(0.5)
    return None


def setting(name: str) -> str:
    out = sh(MONITORING, f"grep -m1 '{name}' /etc/prometheus/prometheus.yml /etc/prometheus/alertmanager.yml || true")
    return out.split()[-1] if out else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if subprocess.run(["docker", "inspect", MONITORING], capture_output=True, check=False).returncode != 0:
        print(f"skipped: no container {MONITORING} (converge the multihost scenario first)")
        return
    rounds = []
    for _ in range(args.rounds):
        seen = len(notifications())
        sh(APP, "systemctl stop prometheus-node-exporter")
        stopped = time.time()
        fired = wait_for(seen, "firing")
        sh(APP, "systemctl start prometheus-node-exporter")
        started = time.time()
        resolved = wait_for(seen, "resolved")
        rounds.append(
            {
                "stop_to_firing_s": round(fired - stopped, 1) if fired else None,
                "start_to_resolved_s": round(resolved - started, 1) if resolved else None,
            }
        )
        time.sleep(10)
    firing = [r["stop_to_firing_s"] for r in rounds if r["stop_to_firing_s"] is not None]
    result = {
        "benchmark": "alert_delay",
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "scenario": "multihost: app1's node_exporter stopped, TargetDown at the webhook on the monitoring host",
        "machine": {"cpus": os.cpu_count(), "load_1m_end": os.getloadavg()[0]},
        "settings": {
            "scrape_interval": setting("scrape_interval"),
            "evaluation_interval": setting("evaluation_interval"),
            "group_wait": setting("group_wait"),
            "for": "20s (monitoring_alert_for.TargetDown of the scenario; the role's default is 2m)",
        },
        "rounds": rounds,
        "stop_to_firing_s_median": statistics.median(firing) if firing else None,
        "all_delivered": len(firing) == len(rounds) and all(r["start_to_resolved_s"] is not None for r in rounds),
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
