"""Host baseline converge time: a fresh host, then the second (idempotent) run.

Creates a throwaway systemd test host (container ``mvp-hb-bench``, from local/debian13-systemd),
runs the host-baseline plays (molecule/host_baseline/converge.yml: the hardening and docker
roles, with the same variables as the molecule scenario) twice and times each run. The second
run must change nothing and take a small fraction of the first. Writes the times, the changed
counts and the ratio to benchmarks/results/host_baseline.json.

Each connection gets a fresh host of its own and its own first and second run:

* ``ssh`` (the transport production uses, the headline ratio): the host is bootstrapped like a
  cloud image (sshd running, a ``deploy`` account with the benchmark's key and passwordless sudo;
  the package lists are then removed, so the first run still refreshes them). Ansible logs in as
  ``deploy`` with key auth and becomes root with sudo, with pipelining and ControlMaster/
  ControlPersist. Each run has a ControlPath directory of its own, so each run pays its own
  SSH handshake (the second run does not reuse the first run's master connection).
* ``docker`` (``community.docker.docker``, what molecule uses): ``docker exec`` per task, as root.

The machine is shared and noisy: the converged host is converged ``--second-runs`` times (3 by
default, each with its own SSH handshake); every time is recorded, and the ratio uses their
median. Before each timed run the benchmark waits (at most ``--max-wait`` seconds) for the
1-minute load average to drop below the number of CPUs; the load before and after each run and
the time waited are recorded, so each time can be judged.

Run:  .venv/bin/python benchmarks/bench_host_baseline.py [--connection ssh|docker|both]
      [--second-runs 3] [--image local/debian12-systemd:latest] [--keep]
Needs a Docker daemon, the test-host image (scripts/build-test-images.sh) and an OpenSSH client.
The first run downloads packages from Debian's mirror, so its time includes the network.
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
# The one definition of a systemd test host (capabilities, security options, mounts).
BASE_CREATE = ROOT / "molecule" / "_base" / "create.yml"
RESULTS = ROOT / "benchmarks" / "results" / "host_baseline.json"
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)", re.M)


SSH_USER = "deploy"
# Ansible's own defaults, spelled out: they are what the benchmark measures.
SSH_ARGS = "-C -o ControlMaster=auto -o ControlPersist=60s"
SSH_COMMON_ARGS = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
CONNECTIONS = {
    "ssh": f"ssh as {SSH_USER} (key auth, become: sudo), pipelining, ControlMaster=auto ControlPersist=60s",
    "docker": "community.docker.docker (docker exec as root), pipelining",
}


def log(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check)


def base_platform() -> dict:
    """capabilities, security_opts, volumes and tmpfs of a test host, from molecule/_base/create.yml."""
    play = yaml.safe_load(BASE_CREATE.read_text())[0]
    (task,) = [t for t in play["tasks"] if "community.docker.docker_container" in t]
    container = task["community.docker.docker_container"]
    return {
        "capabilities": play["vars"]["_base_capabilities"],
        "security_opts": container["security_opts"],
        "volumes": play["vars"]["_base_volumes"],
        "tmpfs": container["tmpfs"],
    }


def start_host(image: str) -> None:
    """The scenarios' platform settings: systemd as PID 1 without --privileged."""
    platform_cfg = base_platform()
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


def bootstrap_ssh(public_key: str) -> str:
    """What a cloud image provides (not timed): sshd, and an account with a key and sudo.

    The package lists are removed afterwards, so the timed first run refreshes them as it does on
    the docker-connection host. Returns the host's address on the Docker network.
    """
    script = f"""
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -qq -y --no-install-recommends openssh-server >/dev/null
systemctl enable --now ssh
useradd --create-home --shell /bin/bash {SSH_USER}
install -d -m 0700 -o {SSH_USER} -g {SSH_USER} /home/{SSH_USER}/.ssh
printf '%s\\n' '{public_key}' > /home/{SSH_USER}/.ssh/authorized_keys
chown {SSH_USER}:{SSH_USER} /home/{SSH_USER}/.ssh/authorized_keys
chmod 0600 /home/{SSH_USER}/.ssh/authorized_keys
echo '{SSH_USER} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/90-cloud-init-users
chmod 0440 /etc/sudoers.d/90-cloud-init-users
apt-get clean
rm -rf /var/lib/apt/lists/*
"""
    proc = docker("exec", HOST, "sh", "-c", script, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"bootstrapping sshd on {HOST} failed:\n{proc.stdout}{proc.stderr}")
    address = docker("inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", HOST)
    return address.stdout.split()[0]


def make_key(directory: Path) -> Path:
    key = directory / "admin_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "mvp-hb-bench", "-f", str(key)], check=True)
    return key


def write_inventory(directory: Path, key: Path, connection: str, address: str = "") -> Path:
    """The scenario's group variables, with the test key generated for this run."""
    public_key = key.with_suffix(".pub").read_text().strip()
    group_vars = yaml.safe_load(SCENARIO.read_text())["provisioner"]["inventory"]["group_vars"]["baseline"]
    group_vars["hardening_admin_users"][0]["ssh_keys"] = [public_key]
    if connection == "ssh":
        # The role keeps the key Ansible logs in with (keys not listed are removed).
        group_vars["hardening_deploy_user_ssh_keys"] = [public_key]
        host_vars = {
            "ansible_connection": "ssh",
            "ansible_host": address,
            "ansible_user": SSH_USER,
            "ansible_ssh_private_key_file": str(key),
            "ansible_ssh_common_args": SSH_COMMON_ARGS,
            "ansible_become": True,
            "ansible_python_interpreter": "/usr/bin/python3",
        }
    else:
        host_vars = {"ansible_connection": "community.docker.docker", "ansible_python_interpreter": "/usr/bin/python3"}
    inventory = {
        "all": {
            "hosts": {HOST: host_vars},
            "children": {
                "baseline": {"hosts": {HOST: {}}, "vars": group_vars},
                "app": {"hosts": {HOST: {}}},
                "db": {"hosts": {HOST: {}}},
            },
        }
    }
    path = directory / f"inventory-{connection}.yml"
    path.write_text(yaml.safe_dump(inventory, sort_keys=False))
    return path


def wait_for_quiet(max_wait: float) -> float:
    """Wait until the 1-minute load is below the CPU count (other jobs share the machine)."""
    started = time.monotonic()
    while os.getloadavg()[0] >= (os.cpu_count() or 1) and time.monotonic() - started < max_wait:
        time.sleep(5)
    return round(time.monotonic() - started, 1)


def converge(inventory: Path, control_path_dir: Path, max_wait: float) -> dict:
    control_path_dir.mkdir(mode=0o700)
    waited = wait_for_quiet(max_wait)
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_PIPELINING": "1",
        "ANSIBLE_SSH_ARGS": SSH_ARGS,
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(control_path_dir),
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
    # The run's master connection is closed here, outside the timing: the next run opens its own.
    for socket in control_path_dir.iterdir():
        subprocess.run(["ssh", "-O", "exit", "-o", f"ControlPath={socket}", "x"], capture_output=True, check=False)
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
        "waited_for_load_seconds": waited,
    }


def measure(connection: str, image: str, tmp: Path, second_runs: int, max_wait: float) -> dict:
    """A fresh host for this connection, then its first and second converge."""
    key = make_key(tmp / connection)
    log(f"[{connection}] starting a fresh host {HOST} from {image}")
    start_host(image)
    address = ""
    if connection == "ssh":
        log(f"[{connection}] bootstrapping sshd and the {SSH_USER} account (not timed)")
        address = bootstrap_ssh(key.with_suffix(".pub").read_text().strip())
    inventory = write_inventory(tmp / connection, key, connection, address)
    log(f"[{connection}] first converge (fresh host)")
    first = converge(inventory, tmp / connection / "cp-first", max_wait)
    log(f"[{connection}] first converge: {first['seconds']} s, {first['changed']} changed")
    seconds = []
    for number in range(1, second_runs + 1):
        log(f"[{connection}] second converge #{number} (idempotent)")
        seconds.append(converge(inventory, tmp / connection / f"cp-second-{number}", max_wait))
        log(f"[{connection}] second converge #{number}: {seconds[-1]['seconds']} s, {seconds[-1]['changed']} changed")
    median = sorted(seconds, key=lambda run: run["seconds"])[(len(seconds) - 1) // 2]
    return {
        "connection": CONNECTIONS[connection],
        "first_run": first,
        # The median of the second runs (all of them in second_runs).
        "second_run": median,
        "second_runs_seconds": [run["seconds"] for run in seconds],
        "second_runs": seconds,
        "second_to_first_ratio": round(median["seconds"] / first["seconds"], 3),
        "idempotent": all(run["changed"] == 0 for run in seconds),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", default="local/debian13-systemd:latest", help="test-host image (fresh host)")
    parser.add_argument(
        "--connection",
        choices=["ssh", "docker", "both"],
        default="both",
        help="connection(s) to measure (both: ssh, then docker)",
    )
    parser.add_argument("--second-runs", type=int, default=3, help="converges of the converged host (median used)")
    parser.add_argument("--max-wait", type=float, default=60, help="seconds to wait for a quiet machine per run")
    parser.add_argument("--keep", action="store_true", help="leave the (last) container running afterwards")
    options = parser.parse_args()

    if docker("image", "inspect", options.image, check=False).returncode != 0:
        raise SystemExit(f"{options.image} is missing: run scripts/build-test-images.sh first")
    connections = ["ssh", "docker"] if options.connection == "both" else [options.connection]
    runs = {}
    try:
        with tempfile.TemporaryDirectory(prefix="mvp-hb-bench-") as tmp:
            for connection in connections:
                (Path(tmp) / connection).mkdir()
                runs[connection] = measure(
                    connection, options.image, Path(tmp), max(1, options.second_runs), options.max_wait
                )
    finally:
        if not options.keep:
            docker("rm", "-f", HOST, check=False)

    headline = runs.get("ssh") or runs[connections[0]]
    result = {
        "benchmark": "host_baseline",
        "description": "hardening + docker roles (molecule/host_baseline/converge.yml) on a fresh systemd test host, "
        "then the converged host again (second runs: median); one fresh host per connection, all measured in this run",
        "image": options.image,
        # The headline: the connection production uses when it was measured.
        "connection": headline["connection"],
        "first_run": headline["first_run"],
        "second_run": headline["second_run"],
        "second_to_first_ratio": headline["second_to_first_ratio"],
        "idempotent": all(run["idempotent"] for run in runs.values()),
        "by_connection": runs,
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if result["idempotent"] else 1


if __name__ == "__main__":
    sys.exit(main())
