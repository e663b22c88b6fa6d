"""Shared testinfra fixtures for every molecule scenario."""

import os
import re
import subprocess
from pathlib import Path

import pytest
from mvp_molecule import playbook


def run_playbook_check_diff(playbook: Path) -> dict:
    """Run `ansible-playbook --check --diff` on the scenario's converged hosts and parse the recap."""
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    proc = subprocess.run(
        ["ansible-playbook", "--check", "--diff", "-i", inventory, str(playbook)],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"},
    )
    recap = {}
    for m in re.finditer(
        r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout, re.M
    ):
        recap[m.group(1)] = {"ok": int(m.group(2)), "changed": int(m.group(3)), "failed": int(m.group(5))}
    changed = {h: r["changed"] for h, r in recap.items() if r["changed"]}
    # The tasks that reported a change, with their host lines, lead the output: a long run's
    # tail alone does not show which task it was.
    changed_tasks, task = [], ""
    for line in proc.stdout.splitlines():
        if line.startswith(("TASK [", "RUNNING HANDLER [")):
            task = line.rstrip(" *")
        elif line.startswith("changed: ["):
            changed_tasks.append(f"{task} / {line}")
    return {
        "rc": proc.returncode,
        "recap": recap,
        "changed": changed,
        "output": "\n".join(changed_tasks) + "\n...\n" + proc.stdout[-6000:] + proc.stderr[-3000:],
    }


@pytest.fixture(scope="session")
def check_diff_run():
    """The converge playbook in check+diff mode on the converged host (run once per session)."""
    scenario = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
    return run_playbook_check_diff(scenario / "converge.yml")


@pytest.fixture(scope="session")
def run_playbook():
    """Run one of the collection's root playbooks (deploy.yml, site.yml...) on the scenario's hosts."""
    return playbook
