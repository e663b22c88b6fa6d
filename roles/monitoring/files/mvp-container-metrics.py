#!/usr/bin/python3
"""Write per-container metrics for node_exporter's textfile collector (mvp_platform.infra.monitoring).

    mvp-container-metrics.py OUTPUT_FILE

Reads every container through `docker inspect` and writes, atomically (temp file + rename):
  mvp_container_restarts_total{name,project,service}  Docker's RestartCount of the container
  mvp_container_running{name,project,service}          1 running, 0 otherwise
  mvp_container_healthy{name,project,service}          1 healthy, 0 unhealthy (running containers
                                                        with a healthcheck that has a verdict)
  mvp_container_metrics_last_run_timestamp_seconds      when this ran
  mvp_container_metrics_up                               1 when Docker answered
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

DOCKER = shutil.which("docker") or "/usr/bin/docker"


def docker(*args: str) -> str:
    # Fixed docker sub-commands and container ids from `docker ps`: no untrusted input.
    proc = subprocess.run([DOCKER, *args], capture_output=True, text=True, check=True, timeout=30)  # noqa: S603
    return proc.stdout


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def collect() -> list[str]:
    ids = docker("ps", "-aq", "--no-trunc").split()
    containers = json.loads(docker("inspect", *ids)) if ids else []
    lines = {
        "restarts": [
            "# HELP mvp_container_restarts_total Restarts of the container by Docker (RestartCount).",
            "# TYPE mvp_container_restarts_total counter",
        ],
        "running": [
            "# HELP mvp_container_running Whether the container is running.",
            "# TYPE mvp_container_running gauge",
        ],
        "healthy": [
            "# HELP mvp_container_healthy Docker healthcheck verdict of a running container (1 healthy).",
            "# TYPE mvp_container_healthy gauge",
        ],
    }
    for c in sorted(containers, key=lambda c: c["Name"]):
        labels = (c.get("Config") or {}).get("Labels") or {}
        state = c.get("State") or {}
        lbl = 'name="{}",project="{}",service="{}"'.format(
            escape(c["Name"].lstrip("/")),
            escape(labels.get("com.docker.compose.project", "")),
            escape(labels.get("com.docker.compose.service", "")),
        )
        lines["restarts"].append(f"mvp_container_restarts_total{{{lbl}}} {int(c.get('RestartCount') or 0)}")
        lines["running"].append(f"mvp_container_running{{{lbl}}} {1 if state.get('Running') else 0}")
        health = (state.get("Health") or {}).get("Status")
        if state.get("Running") and health in ("healthy", "unhealthy"):
            lines["healthy"].append(f"mvp_container_healthy{{{lbl}}} {1 if health == 'healthy' else 0}")
    return lines["restarts"] + lines["running"] + lines["healthy"]


def main() -> int:
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    output = sys.argv[1]
    try:
        body, up = collect(), 1
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        sys.stderr.write(f"mvp-container-metrics: docker is not answering: {exc}\n")
        body, up = [], 0
    body += [
        "# HELP mvp_container_metrics_up Whether Docker answered the last run.",
        "# TYPE mvp_container_metrics_up gauge",
        f"mvp_container_metrics_up {up}",
        "# HELP mvp_container_metrics_last_run_timestamp_seconds When the container metrics were written.",
        "# TYPE mvp_container_metrics_last_run_timestamp_seconds gauge",
        f"mvp_container_metrics_last_run_timestamp_seconds {time.time():.0f}",
    ]
    directory = os.path.dirname(output) or "."
    fd, tmp = tempfile.mkstemp(prefix=".mvp-containers.", dir=directory)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(body) + "\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, output)
    return 0 if up else 1


if __name__ == "__main__":
    sys.exit(main())
