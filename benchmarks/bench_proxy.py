"""Proxy overhead: the same backend through nginx (TLS, HTTP keepalive) and reached directly.

Creates a throwaway systemd test host (container ``mvp-pf-bench``), converges the platform's
docker, app_stack and nginx roles on it with the fixture images (self-signed TLS, API rate limit
off so it does not cap the load), then runs one load tool (wrk, from Debian) inside the host on
loopback, in one run, against:

  direct  http://127.0.0.1:3101<path>          the backend's colour port
  proxy   https://mvp-bench.test<path>          nginx: TLS, keepalive to client and upstream

for /api/health (a real PostgreSQL query per request) and /api/version (no database). Writes
requests/s, median and tail latency and the proxy/direct ratios to benchmarks/results/proxy.json.

Run:  .venv/bin/python benchmarks/bench_proxy.py [--duration 15] [--connections 32] [--keep]
Needs a Docker daemon, local/debian13-systemd:latest (scripts/build-test-images.sh debian13);
the fixture images are built when missing (scripts/build-fixture-images.sh).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
HOST = "mvp-pf-bench"
DOMAIN = "mvp-bench.test"
RESULTS = ROOT / "benchmarks" / "results" / "proxy.json"
# systemd as PID 1 without --privileged: every capability but SYS_RESOURCE.
CAPS = [
    "AUDIT_CONTROL",
    "AUDIT_READ",
    "AUDIT_WRITE",
    "BLOCK_SUSPEND",
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "IPC_LOCK",
    "IPC_OWNER",
    "KILL",
    "LEASE",
    "LINUX_IMMUTABLE",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "MKNOD",
    "NET_ADMIN",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_RAW",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_CHROOT",
    "SYS_MODULE",
    "SYS_NICE",
    "SYS_PACCT",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "SYSLOG",
    "WAKE_ALARM",
]
PLAYBOOK = [
    {"name": "Container engine", "hosts": "all", "roles": ["mvp_platform.infra.docker"]},
    {"name": "Application stack", "hosts": "all", "roles": ["mvp_platform.infra.app_stack"]},
    {"name": "Reverse proxy and TLS", "hosts": "all", "roles": ["mvp_platform.infra.nginx"]},
]


def log(msg: str) -> None:
    print(f"==> {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, text=True, capture_output=True, check=False, **kwargs)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd[:6])} ...")
    return proc


def in_host(script: str) -> str:
    return run(["docker", "exec", HOST, "bash", "-c", script]).stdout


def create_host() -> None:
    if run(["docker", "ps", "-aq", "--filter", f"name=^{HOST}$"]).stdout.strip():
        log(f"Reusing the bench host {HOST}.")
        return
    args = ["docker", "run", "-d", "--name", HOST, "--hostname", HOST, "--label", "mvp-platform=bench"]
    args += ["--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined", "--cgroupns", "host"]
    args += ["-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "-v", "/var/lib/docker", "--tmpfs", "/run"]
    args += ["--tmpfs", "/run/lock", "--tmpfs", "/tmp", "--add-host", f"{DOMAIN}:127.0.0.1"]  # noqa: S108
    args += [f"--cap-add={c}" for c in CAPS]
    log(f"Creating the bench host {HOST}.")
    run([*args, "local/debian13-systemd:latest", "/lib/systemd/systemd"])
    for _ in range(60):
        state = subprocess.run(
            ["docker", "exec", HOST, "systemctl", "is-system-running"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if state in ("running", "degraded"):
            return
        time.sleep(1)
    raise SystemExit(f"systemd in {HOST} did not come up")


def converge(workdir: Path) -> None:
    group_vars = {}
    for name in ("app_stack", "docker"):
        group_vars.update(yaml.safe_load((ROOT / f"inventories/development/group_vars/all/{name}.yml").read_text()))
    group_vars.update(
        platform_env="development",
        platform_domain=DOMAIN,
        platform_admin_email=f"ops@{DOMAIN}",
        nginx_tls_mode="selfsigned",
        nginx_api_rate_limit_enabled=False,
        nginx_dev_ports={},
        docker_users=[],
        # The backend gets a whole CPU (development caps it at half of one) so it is not the
        # only thing measured.
        app_stack_backend_limits={"cpus": "1.0", "memory": "512M"},
    )
    inventory = {
        "all": {
            "hosts": {
                HOST: {
                    "ansible_connection": "community.docker.docker",
                    "ansible_python_interpreter": "/usr/bin/python3",
                }
            },
            "children": {"app": {"hosts": {HOST: {}}}, "proxy": {"hosts": {HOST: {}}}, "db": {"hosts": {HOST: {}}}},
            "vars": group_vars,
        }
    }
    (workdir / "inventory.yml").write_text(yaml.safe_dump(inventory))
    (workdir / "play.yml").write_text(yaml.safe_dump(PLAYBOOK, sort_keys=False))
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")}
    log("Converging docker, app_stack and nginx on the bench host (a few minutes the first time).")
    run(
        [str(ROOT / ".venv/bin/ansible-playbook"), "-i", str(workdir / "inventory.yml"), str(workdir / "play.yml")],
        cwd=ROOT,
        env=env,
    )


UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, duration: int, connections: int, threads: int) -> dict:
    out = in_host(f"wrk --latency -t{threads} -c{connections} -d{duration}s --timeout 10s '{url}'")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {p: float(v) * UNIT[u] for p, v, u in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "url": url,
        "requests": total,
        "requests_per_s": round(rps, 1),
        "latency_ms": {"p50": round(lat["50"], 3), "p90": round(lat["90"], 3), "p99": round(lat["99"], 3)},
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(int(x) for x in errors.groups()) if errors else 0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds per measurement (default 15)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keepalive connections (default 32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--keep", action="store_true", help=f"keep the bench host {HOST} afterwards")
    args = parser.parse_args()

    run(["bash", str(ROOT / "scripts/build-fixture-images.sh")])
    create_host()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            converge(Path(tmp))
        in_host("command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)")
        in_host("curl -fsS -o /dev/null http://127.0.0.1:3101/api/health")
        in_host(f"curl -kfsS -o /dev/null https://{DOMAIN}/api/health")
        results = {}
        for path in ("/api/health", "/api/version"):
            direct = wrk(f"http://127.0.0.1:3101{path}", args.duration, args.connections, args.threads)
            proxy = wrk(f"https://{DOMAIN}{path}", args.duration, args.connections, args.threads)
            results[path] = {
                "direct": direct,
                "proxy": proxy,
                "ratio": {
                    "requests_per_s_proxy_over_direct": round(proxy["requests_per_s"] / direct["requests_per_s"], 3),
                    "p50_latency_proxy_over_direct": round(proxy["latency_ms"]["p50"] / direct["latency_ms"]["p50"], 3),
                },
            }
            log(
                f"{path}: direct {direct['requests_per_s']} req/s p50 {direct['latency_ms']['p50']} ms | "
                f"nginx TLS {proxy['requests_per_s']} req/s p50 {proxy['latency_ms']['p50']} ms"
            )
        report = {
            "benchmark": "proxy overhead: nginx (TLS 1.3, HTTP/1.1 keepalive, upstream keepalive) vs backend direct",
            "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "tool": in_host("wrk -v 2>&1 | head -1").strip(),
            "nginx": in_host("nginx -v 2>&1").strip(),
            "load": {"duration_s": args.duration, "connections": args.connections, "threads": args.threads},
            "where": f"inside the test host {HOST} on loopback (client, nginx and containers share its CPUs)",
            "machine": {"cpus": os.cpu_count(), "kernel": platform.release()},
            "notes": (
                "API rate limit disabled for the measurement; the backend is the python fixture (threaded, "
                "one CPU); the machine is shared with other jobs, so compare the ratios of this one run."
            ),
            "results": results,
        }
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(report, indent=2) + "\n")
        log(f"Wrote {RESULTS.relative_to(ROOT)}")
        print(json.dumps(report["results"], indent=2))
    finally:
        if not args.keep:
            subprocess.run(["docker", "rm", "-f", "-v", HOST], capture_output=True, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
