"""The example inventories of docs/scaling.md are valid and compute what the document says.

Each example is laid over a copy of the production inventory (its hosts.yml replaces production's,
its group_vars/*.yml go beside group_vars/all/), as docs/scaling.md tells operators to do. The
firewall and address variables are then evaluated per host by Ansible itself (debug runs on the
control node: no host is contacted).
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "inventories" / "examples"


def overlay(tmp_path: Path, example: str) -> Path:
    inv = tmp_path / example
    shutil.copytree(ROOT / "inventories" / "production" / "group_vars", inv / "group_vars")
    shutil.copy(EXAMPLES / example / "hosts.yml", inv / "hosts.yml")
    for extra in (EXAMPLES / example / "group_vars").glob("*.yml"):
        shutil.copy(extra, inv / "group_vars" / extra.name)
    return inv


def ansible(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    return subprocess.run(list(args), capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False)


def host_value(inv: Path, host: str, expression: str):
    proc = ansible(
        "ansible", host, "-i", str(inv), "-m", "ansible.builtin.debug", "-a", f"msg={{{{ {expression} | to_json }}}}",
        "-o",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(json.loads(proc.stdout.split("=>", 1)[1])["msg"])


@pytest.mark.parametrize("example", ["multi-host", "managed-db"])
def test_site_yml_accepts_the_example(tmp_path, example):
    inv = overlay(tmp_path, example)
    proc = ansible("ansible-playbook", "-i", str(inv), str(ROOT / "site.yml"), "--syntax-check")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_multi_host_firewall_lets_only_the_app_hosts_reach_the_database(tmp_path):
    inv = overlay(tmp_path, "multi-host")
    allowed = host_value(inv, "db-1", "hardening_firewall_published_ports_allowed")
    assert allowed == [{"port": 5432, "sources": ["10.0.0.11", "10.0.0.12"]}]


def test_multi_host_colour_ports_answer_the_proxy_only(tmp_path):
    inv = overlay(tmp_path, "multi-host")
    for host, address in (("app-1", "10.0.0.11"), ("app-2", "10.0.0.12")):
        assert host_value(inv, host, "app_stack_bind_address") == address
        allowed = host_value(inv, host, "hardening_firewall_published_ports_allowed")
        assert allowed == [{"port": p, "sources": ["10.0.0.10"]} for p in (3100, 3101, 3200, 3201)]


def test_managed_db_example_uses_the_external_database(tmp_path):
    inv = overlay(tmp_path, "managed-db")
    assert host_value(inv, "app-1", "app_stack_database") == "external"
    # The db group only names the host of the database jobs (logical dumps): no data project.
    assert host_value(inv, "app-1", "groups['db']") == ["app-1"]


def test_multi_host_pool_as_the_proxy_reaches_it(tmp_path):
    # The pool_members filter over Ansible's real (lazily templated) hostvars: the app hosts'
    # app_stack_bind_address is "{{ platform_private_address }}" in group_vars/app.yml.
    inv = overlay(tmp_path, "multi-host")
    members = host_value(inv, "edge-1", "groups['app'] | mvp_platform.infra.pool_members(hostvars, inventory_hostname)")
    assert members == [
        {"name": "app-1", "address": "10.0.0.11", "host": "app-1"},
        {"name": "app-2", "address": "10.0.0.12", "host": "app-2"},
    ]
