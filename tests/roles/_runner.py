"""The one ansible-playbook runner of the bad-input tests (tests/roles) and the alert-rules harness.

Bad-input tests run a role or playbook against a host that does not exist (a Docker connection to
a missing container, FAKE_HOST_VARS) or against localhost, and check that the play fails on the
controller, naming the variable, before anything changes. Each test file keeps its own cases; this
module writes the inventory, play and variables, runs ansible-playbook and reads the recap.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# How the Docker connection reports a host it cannot reach: the container is missing, or (when
# no daemon runs, e.g. before `make molecule` starts one) the daemon itself is.
HOST_CONTACTED = re.compile(r"No such container|Cannot connect to the Docker daemon")
TIMEOUT = 300


def fake_host_vars(host: str) -> dict:
    """Connection variables of a host that does not exist: a Docker connection to a missing container."""
    return {
        "ansible_connection": "community.docker.docker",
        "ansible_host": host,
        "ansible_python_interpreter": "/usr/bin/python3",
    }


def write_inventory(tmp_path: Path, host: str, groups: dict | None = None, hosts: dict | None = None) -> Path:
    """inventory.yml with the fake host, other (never contacted) hosts and groups {name: [members]}."""
    inventory = {
        "all": {
            "hosts": {host: fake_host_vars(host), **(hosts or {})},
            "children": {
                group: {"hosts": {member: {} for member in members}} for group, members in (groups or {}).items()
            },
        }
    }
    path = tmp_path / "inventory.yml"
    path.write_text(json.dumps(inventory))
    return path


def write_role_play(tmp_path: Path, role: str, hosts: str, name: str = "Bad input") -> Path:
    """play.yml running the collection's role on hosts, without gathering facts."""
    path = tmp_path / "play.yml"
    path.write_text(
        json.dumps([{"name": name, "hosts": hosts, "gather_facts": False, "roles": [f"mvp_platform.infra.{role}"]}])
    )
    return path


def ansible_playbook(
    playbook: Path, *args: str, inventory: Path | str = "localhost,", extra_vars: dict | None = None, tmp_path=None
) -> subprocess.CompletedProcess:
    """ansible-playbook of the venv with the collection's ansible.cfg and no colour; never raises on failure.

    inventory: a file or a host list; extra_vars: written to <tmp_path>/vars.json and passed with
    -e @file (not passed when empty); args: further options (-c local, --check, -e k=v, --tags ...).
    """
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
    }
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}:{env.get('PATH', '')}"
    cmd = ["ansible-playbook", "-i", str(inventory), *args]
    if extra_vars:
        if tmp_path is None:
            raise ValueError("extra_vars need a tmp_path to be written to")
        (tmp_path / "vars.json").write_text(json.dumps(extra_vars))
        cmd += ["-e", f"@{tmp_path / 'vars.json'}"]
    return subprocess.run(
        [*cmd, str(playbook)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def flat_output(proc: subprocess.CompletedProcess) -> str:
    """stdout and stderr with every run of white space folded into one space."""
    return re.sub(r"\s+", " ", proc.stdout + proc.stderr)


def recap(output: str, host: str) -> re.Match | None:
    """The PLAY RECAP line of host (folded output or not): groups ok, changed, unreachable, failed."""
    return re.search(rf"{re.escape(host)}\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", output)


def assert_failed_before_the_host(proc: subprocess.CompletedProcess, host: str) -> str:
    """The play failed on one task on the controller: nothing changed, the host never contacted.

    Returns the folded output for the case's own checks.
    """
    output = flat_output(proc)
    assert proc.returncode != 0, output[-3000:]
    line = recap(output, host)
    assert line, output[-3000:]
    assert line.group(2) == "0" and line.group(3) == "0" and line.group(4) == "1", line.group(0)
    assert not HOST_CONTACTED.search(output), output[-3000:]  # the host was never contacted
    return output
