"""Host baseline converge time: a fresh host, then the second (idempotent) run.

Creates a throwaway systemd test host (container ``mvp-hb-bench``, from local/debian13-systemd),
runs the host-baseline plays (molecule/host_baseline/converge.yml: the hardening and docker
roles, with the same variables as the molecule scenario) twice and times each run. The second
run must change nothing and take a small fraction of the first. Writes the times, the changed
counts and the ratio to benchmarks/results/host_baseline.json.

Run:  .venv/bin/python benchmarks/bench_host_baseline.py [--image local/debian12-systemd:latest] [--keep]
Needs a Docker daemon and the test-host image (scripts/build-test-images.sh). The first run
downloads packages from Debian's mirror, so its time includes the network.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
HOST = "mvp-hb-bench"
PLAYBOOK = ROOT / "molecule" / "host_baseline" / "converge.yml"
SCENARIO = ROOT / "molecule" / "host_baseline" / "molecule.yml"
RESULTS = ROOT / "benchmarks" / "results" / "host_baseline.json"
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)", re.M)


def log(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check)


def start_host(image: str) -> None:
    """The scenario's platform settings: systemd as PID 1 without --privileged."""
    platform_cfg = yaml.safe_load(SCENARIO.read_text())["platforms"][0]
    docker("rm", "-f", HOST, check=False)
    args = ["run", "-d", "--name", HOST, "--hostname", HOST, "--cgroupns", "host"]
    args += [f"--cap-add={cap}" for cap in platform_cfg["capabilities"]]
    args += [f"--security-opt={opt}" for opt in platform_cfg["security_opts"]]
    args += [f"--volume={volume}" for volume in platform_cfg["volumes"]]
    args += [f"--tmpfs={path}" for path in platform_cfg["tmpfs"]]
    docker(*args, image, "/lib/systemd/systemd")
    for _ in range(60):
        state = docker("exec", HOST, "systemctl", "is-system-running", check=False).stdout.strip()
        if state in {"running", "degraded"}:
            return
        time.sleep(0.5)
    raise SystemExit(f"{HOST} did not boot (systemd state: {state})")


def write_inventory(directory: Path) -> Path:
    """The scenario's group variables, with a test admin key generated for this run."""
    key = directory / "admin_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "mvp-hb-bench", "-f", str(key)], check=True)
    group_vars = yaml.safe_load(SCENARIO.read_text())["provisioner"]["inventory"]["group_vars"]["baseline"]
    group_vars["hardening_admin_users"][0]["ssh_keys"] = [key.with_suffix(".pub").read_text().strip()]
    connection = {"ansible_connection": "community.docker.docker", "ansible_python_interpreter": "/usr/bin/python3"}
    inventory = {
        "all": {
            "hosts": {HOST: connection},
            "children": {
                "baseline": {"hosts": {HOST: {}}, "vars": group_vars},
                "app": {"hosts": {HOST: {}}},
                "db": {"hosts": {HOST: {}}},
            },
        }
    }
    path = directory / "inventory.yml"
    path.write_text(yaml.safe_dump(inventory, sort_keys=False))
    return path


def converge(inventory: Path) -> dict:
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_PIPELINING": "1",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    }
    ansible_playbook = str(Path(sys.executable).with_name("ansible-playbook"))
    load_before = os.getloadavg()[0]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run(
        [ansible_playbook, "-i", str(inventory), str(PLAYBOOK)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=3600,
    )
    elapsed = time.monotonic() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    controller_cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    recap = RECAP.search(proc.stdout)
    if proc.returncode != 0 or not recap:
        sys.stderr.write(proc.stdout[-6000:] + proc.stderr[-3000:])
        raise SystemExit(f"converge failed (rc={proc.returncode})")
    ok, changed, _, _, skipped = (int(v) for v in recap.groups()[1:])
    return {
        "seconds": round(elapsed, 1),
        "ok": ok,
        "changed": changed,
        "skipped": skipped,
        # The machine is shared: the load says how far wall times can be compared.
        "load_1min_before": round(load_before, 2),
        "load_1min_after": round(os.getloadavg()[0], 2),
        "controller_cpu_seconds": round(controller_cpu, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", default="local/debian13-systemd:latest", help="test-host image (fresh host)")
    parser.add_argument("--keep", action="store_true", help="leave the container running afterwards")
    options = parser.parse_args()

    if docker("image", "inspect", options.image, check=False).returncode != 0:
        raise SystemExit(f"{options.image} is missing: run scripts/build-test-images.sh first")
    try:
        with tempfile.TemporaryDirectory(prefix="mvp-hb-bench-") as tmp:
            inventory = write_inventory(Path(tmp))
            log(f"starting a fresh host {HOST} from {options.image}")
            start_host(options.image)
            log("first converge (fresh host)")
            first = converge(inventory)
            log(f"first converge: {first['seconds']} s, {first['changed']} changed")
            log("second converge (idempotent)")
            second = converge(inventory)
            log(f"second converge: {second['seconds']} s, {second['changed']} changed")
    finally:
        if not options.keep:
            docker("rm", "-f", HOST, check=False)

    result = {
        "benchmark": "host_baseline",
        "description": "hardening + docker roles (molecule/host_baseline/converge.yml) on a fresh systemd test host",
        "image": options.image,
        "connection": "community.docker.docker (pipelining)",
        "first_run": first,
        "second_run": second,
        "second_to_first_ratio": round(second["seconds"] / first["seconds"], 3),
        "idempotent": second["changed"] == 0,
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if result["idempotent"] else 1


if __name__ == "__main__":
    sys.exit(main())
