"""The one Ansible runner of the tests: ansible-playbook for the bad-input tests (tests/roles) and
the alert-rules harness, ``ansible localhost -m`` for the module tests (``run_module``).

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
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# How the Docker connection reports a host it cannot reach: the container is missing, or (when
# no daemon runs, e.g. before `make molecule` starts one) the daemon itself is.
HOST_CONTACTED = re.compile(r"No such container|Cannot connect to the Docker daemon")
TIMEOUT = 300


def ansible_env(**extra: str) -> dict:
    """The environment of every run: the collection's ansible.cfg, the venv's tools, quiet warnings."""
    return {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
        **extra,
    }


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
    path.write_text(json.dumps(role_play(role, name=name, hosts=hosts)))
    return path


def ansible_playbook(
    playbook: Path, *args: str, inventory: Path | str = "localhost,", extra_vars: dict | None = None, tmp_path=None
) -> subprocess.CompletedProcess:
    """ansible-playbook of the venv with the collection's ansible.cfg and no colour; never raises on failure.

    inventory: a file or a host list; extra_vars: written to <tmp_path>/vars.json and passed with
    -e @file (not passed when empty); args: further options (-c local, --check, -e k=v, --tags ...).
    """
    env = ansible_env(ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    cmd = ["ansible-playbook", "-i", str(inventory), *args]
    if extra_vars:
        if tmp_path is None:
            raise ValueError("extra_vars need a tmp_path to be written to")
        (tmp_path / "vars.json").write_text(json.dumps(extra_vars))
        cmd += ["-e", f"@{tmp_path / 'vars.json'}"]
    return subprocess.run(
        [*cmd, str(playbook)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def run_module(
    module: str, args: dict, *, check: bool = False, diff: bool = False, timeout: int = TIMEOUT, **env: str
) -> tuple[int, dict]:
    """Run one module on localhost with ``ansible -m`` (this Python), in check mode or not.

    Returns (ansible's exit code, the module's result); env: further environment variables.
    """
    cmd = ["ansible", "localhost", "-i", "localhost,", "-c", "local"]
    cmd += ["-e", f"ansible_python_interpreter={sys.executable}", "-m", module, "-a", json.dumps(args)]
    cmd += (["--check"] if check else []) + (["--diff"] if diff else [])
    run_env = ansible_env(
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_NOCOLOR="1", **env
    )
    proc = subprocess.run(cmd, cwd=ROOT, env=run_env, capture_output=True, text=True, timeout=timeout, check=False)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError(f"ansible printed no JSON (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}") from None
    return proc.returncode, report["plays"][0]["tasks"][0]["hosts"]["localhost"]


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


# --- batches: many cases in one ansible-playbook run, one inventory host per case -------------
#
# Starting ansible-playbook costs seconds; the bad-input tests have hundreds of cases. A batch puts
# each case's variables on its own inventory host (host variables: above role defaults and group
# variables, below the role's own vars/ which hold only `_` internals) and reads each host's
# result from the ansible.posix.json callback.


@dataclass
class HostRun:
    """What one case's host did in a batch."""

    host: str
    tasks: list  # names of the tasks that ran (ok or changed) on the host, in order
    failed_task: str | None
    result: dict | None  # the failed task's result
    stats: dict  # the host's recap: ok, changed, unreachable, failures, ...
    output: str  # the failed result folded: its msg, the task's name, the whole result as JSON
    everything: str = ""  # the whole run's stdout and stderr (every host), for secrets that must not show

    def assert_failed_before_the_host(self) -> str:
        """One task failed on the controller: nothing changed, the host never contacted."""
        assert self.result is not None, f"{self.host}: nothing failed (tasks: {self.tasks[-8:]})"
        assert not self.stats.get("changed"), f"{self.host} changed something: {self.stats}"
        assert not self.stats.get("unreachable"), f"{self.host} was contacted: {self.output[:3000]}"
        assert self.stats.get("failures") == 1, self.stats
        assert not HOST_CONTACTED.search(self.output), self.output[:3000]
        return self.output

    def ran(self, task_name: str) -> bool:
        """The host ran a task of this name (with or without its role prefix)."""
        return any(name == task_name or name.endswith(f" : {task_name}") for name in self.tasks)


def _substitute(value, old: str, new: str):
    """value with every string equal to old replaced by new, in lists and mappings too."""
    if isinstance(value, str):
        return new if value == old else value
    if isinstance(value, list):
        return [_substitute(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, old, new) for k, v in value.items()}
    return value


def role_play(role: str, *, name: str = "Bad input", **play) -> list:
    """A play running the collection's role without facts, on the batch's hosts (group `cases`)
    unless play names others (hosts=...)."""
    return [{"name": name, "hosts": "cases", "gather_facts": False, "roles": [f"mvp_platform.infra.{role}"], **play}]


# The control node itself as a case's host (check-mode runs of the host-baseline roles).
LOCAL_HOST_VARS = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}


def local_role_play(role: str, *, gather_facts: bool = True, name: str = "Bad input on the control node") -> list:
    """A play including the role on the batch's hosts; the include runs under any --tags."""
    return [
        {
            "name": name,
            "hosts": "cases",
            "gather_facts": gather_facts,
            "tasks": [
                {
                    "name": "Run the role under test",
                    "ansible.builtin.include_role": {"name": f"mvp_platform.infra.{role}"},
                    "tags": ["always"],
                }
            ],
        }
    ]


def run_batch(
    workdir: Path,
    play: list | Path,
    cases: dict,
    *args: str,
    prefix: str = "mvp-case",
    groups: tuple = (),
    hosts: dict | None = None,
    common: dict | None = None,
    host_vars: dict | None = None,
    rename: str | None = None,
) -> dict:
    """Run play once with one host per case; returns {case: HostRun}.

    cases: {case: variables}; common: variables of every host (group `all`, below a case's own);
    host_vars: connection variables of each case's host (default: a missing Docker container);
    groups: groups every case host is in besides `cases`; hosts: other (never contacted) hosts;
    rename: a host name the cases' values use for their own host (replaced by the case's host).
    """
    names = {case: f"{prefix}-{index:03d}" for index, case in enumerate(cases)}
    inventory_hosts = dict(hosts or {})
    for case, host in names.items():
        variables = cases[case] if rename is None else _substitute(cases[case], rename, host)
        inventory_hosts[host] = {**(host_vars if host_vars is not None else fake_host_vars(host)), **variables}
    members = {host: {} for host in names.values()}
    inventory = {
        "all": {
            "vars": common or {},
            "hosts": inventory_hosts,
            "children": {group: {"hosts": members} for group in ("cases", *groups)},
        }
    }
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "inventory.json").write_text(json.dumps(inventory))
    if not isinstance(play, Path):
        (workdir / "play.json").write_text(json.dumps(play))
        play = workdir / "play.json"
    env = ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
    proc = subprocess.run(
        ["ansible-playbook", "-f", "16", "-i", str(workdir / "inventory.json"), *args, str(play)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 3,
        check=False,
    )
    (workdir / "stdout.json").write_text(proc.stdout)
    (workdir / "stderr.txt").write_text(proc.stderr)
    assert "{" in proc.stdout, f"ansible-playbook printed no report (rc {proc.returncode}): {proc.stderr[-3000:]}"
    report = json.loads(proc.stdout[proc.stdout.index("{") :])
    ran, failed = {}, {}
    for play_report in report["plays"]:
        for task in play_report["tasks"]:
            for host, result in task["hosts"].items():
                if result.get("failed") or result.get("unreachable"):
                    failed.setdefault(host, (task["task"]["name"], result))
                elif not result.get("skipped"):
                    ran.setdefault(host, []).append(task["task"]["name"])
    runs = {}
    for case, host in names.items():
        task, result = failed.get(host, (None, None))
        output = ""
        if result is not None:
            # The task's name too: a no_log assert names its variable there only.
            output = re.sub(r"\s+", " ", f"{result.get('msg', '')} [{task}] {json.dumps(result)}")
        stats = report["stats"].get(host, {})
        runs[case] = HostRun(host, ran.get(host, []), task, result, stats, output, proc.stdout + proc.stderr)
    return runs
