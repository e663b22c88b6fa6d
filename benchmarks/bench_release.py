"""Benchmark: a release under steady HTTPS load, deploy.yml versus the naive compose update.

In one run on the molecule `release` test host (created and converged when missing, destroyed
afterwards if this script created it), the same load generator (molecule/release/files/loadgen.py:
4 keepalive HTTPS clients that retry a request once when a reused connection was closed idle, as
browsers and most HTTP libraries do, plus 4 that never retry, as many API clients do; ~80 requests/s
inside the test host through nginx to / and /api/health) runs during
  (a) `ansible-playbook deploy.yml -e app_version=<other version>` (blue/green, health gate,
      nginx reload, drain), and
  (b) the specification's naive update `docker compose pull && docker compose up -d`: the live
      colour's compose project gets the other version's tags and is recreated in place (the pull
      is left out: the images are already on the host in both cases, and no registry is reachable
      here; it would only add to the wall time, before any container is touched).
For each: failed requests, the longest time without a successful answer, and the wall time of the
release. The host is put back to its recorded release afterwards (site.yml's plays).

Writes benchmarks/results/release.json (or the path given as the first argument, e.g. to keep a
before/after pair of a change to the switch). Run: .venv/bin/python benchmarks/bench_release.py
"""

import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "mvp-rel-release"
SCENARIO = "release"
OUT = ROOT / "benchmarks" / "results" / "release.json"
VERSIONS = ("1.0.0", "2.0.0")
ENV = {
    **os.environ,
    "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
    "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
    "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".ansible" / "collections"),
    "ANSIBLE_NOCOLOR": "1",
}


def run(cmd: list[str], timeout: int = 1800, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    return proc


def in_host(script: str, check: bool = True) -> str:
    return run(["docker", "exec", HOST, "sh", "-c", script], timeout=600, check=check).stdout


def inventory() -> str:
    found = sorted(Path.home().glob(f".ansible/tmp/molecule.*.{SCENARIO}/inventory/ansible_inventory.yml"))
    found += sorted(Path.home().glob(f".cache/molecule/*/{SCENARIO}/inventory/ansible_inventory.yml"))
    if not found:
        sys.exit("no inventory of the molecule release scenario found")
    return str(max(found, key=lambda p: p.stat().st_mtime))


def live() -> dict:
    return json.loads(in_host("cat /opt/mvp/current.json"))


def with_load(name: str, action) -> dict:
    out, stop = f"/root/bench-{name}.json", f"/run/bench-{name}.stop"
    in_host(f"rm -f {out} {stop}")
    in_host(
        f"systemd-run --unit=mvp-rel-bench-{name} --collect /usr/local/bin/mvp-rel-loadgen --out {out} "
        f"--stop-file {stop} --threads 4 --no-retry-threads 4 --interval 0.05 --max-seconds 900"
    )
    time.sleep(3)
    started = time.monotonic()
    detail = action()
    wall = round(time.monotonic() - started, 1)
    time.sleep(10)  # the naive update's app may still be starting: count the whole outage
    in_host(f"touch {stop}")
    for _ in range(60):
        if in_host(f"test -f {out} && echo yes", check=False).strip() == "yes":
            break
        time.sleep(0.5)
    load = json.loads(in_host(f"cat {out}"))
    return {
        "release_wall_s": wall,
        "requests": load["requests"],
        "failed_requests": load["failed"],
        "longest_gap_ms": load["longest_gap_ms"],
        "stale_keepalive_retries": load["stale_keepalive_retries"],
        # The clients that do not retry on a reused connection (their failures are in failed_requests too).
        "no_retry_clients": load.get("no_retry", {}),
        "first_failures": load["failures"][:5],
        "versions_seen": {path: sorted(v) for path, v in load["versions"].items()},
        **detail,
    }


def main() -> int:
    existed = run(["docker", "inspect", HOST], check=False).returncode == 0
    if not existed:
        print("==> creating and converging the molecule release scenario", file=sys.stderr)
    run(["molecule", "converge", "-s", SCENARIO])
    inv = inventory()
    try:
        start = live()
        target = VERSIONS[1] if start["version"] != VERSIONS[1] else VERSIONS[0]
        print(f"==> (a) deploy.yml {start['version']} -> {target} under load", file=sys.stderr)

        def deploy() -> dict:
            proc = run(["ansible-playbook", "-i", inv, "deploy.yml", "-e", f"app_version={target}"], check=False)
            return {"rc": proc.returncode, "method": f"deploy.yml {start['version']} -> {target}"}

        result_a = with_load("deploy", deploy)

        now = live()
        naive_target = start["version"]
        print(f"==> (b) naive compose update {now['version']} -> {naive_target} under load", file=sys.stderr)

        def naive() -> dict:
            colour = now["colour"]
            script = (
                f"cd /opt/mvp/{colour} && sed -i -E 's#(local/mvp-(frontend|backend)):{re.escape(now['version'])}#"
                f"\\1:{naive_target}#' compose.yml && docker compose up -d"
            )
            proc = run(["docker", "exec", HOST, "sh", "-c", script], check=False)
            return {
                "rc": proc.returncode,
                "method": f"docker compose up -d (in place, {colour}) {now['version']} -> {naive_target}",
            }

        result_b = with_load("naive", naive)
    finally:
        # Back to the release recorded in current.json (site.yml's plays re-render the colour).
        run(["ansible-playbook", "-i", inv, str(ROOT / "molecule" / SCENARIO / "converge.yml")], check=False)
        if not existed:
            run(["molecule", "destroy", "-s", SCENARIO], check=False)

    result = {
        "benchmark": "release under load: deploy.yml (blue/green, health-gated) vs naive docker compose up -d",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load": (
            "8 keepalive HTTPS clients in the test host (4 retry once on a reused connection the server closed, "
            "4 never retry), 50 ms pause between requests, / and /api/health via nginx"
        ),
        "note": (
            "One run on a shared 2-CPU machine. Wall time of (a) includes the whole playbook (lock, image checks, "
            "migration, health gate with 3 rounds, drain, stop, record, prune); (b) leaves out `docker compose pull` "
            "(images already present; no registry here) and returns before the new containers are ready."
        ),
        "deploy_yml": result_a,
        "naive_compose_up": result_b,
    }
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("deploy_yml", "naive_compose_up")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
