"""Fleet monitoring refuses bad input in site.yml's first play, before any host is touched.

Two hosts that do not exist (Docker connections to missing containers): an app host and the
monitoring host. Each case sets one bad variable; site.yml must fail in its preflight play with a
message naming the variable, with nothing changed and neither host contacted. Run: .venv/bin/pytest tests/roles
"""

import json
import re
from pathlib import Path

import pytest
from _runner import ROOT, ansible_playbook, assert_failed_before_the_host, fake_host_vars

APP, MON = "mvp-fleet-bad-app", "mvp-fleet-bad-mon"
BASE = {
    "platform_env": "production",
    "platform_domain": "shop.example.com",
    "platform_admin_email": "ops@example.com",
    "platform_vault_required": False,
    "monitoring_exporter_password": "a-long-enough-exporter-password",
}
HOSTVARS = {APP: {"platform_private_address": "10.0.0.11"}, MON: {"platform_private_address": "10.0.0.13"}}

CASES = {
    "exporter on a public address": (
        {APP: {"monitoring_node_exporter_listen_address": "203.0.113.5"}},
        {},
        r"monitoring_node_exporter_listen_address is '203\.0\.113\.5': it must be loopback or a private address",
    ),
    "exporter on every address": (
        {APP: {"monitoring_node_exporter_listen_address": "0.0.0.0"}},
        {},
        r"monitoring_node_exporter_listen_address is '0\.0\.0\.0'.*never a public or wildcard one",
    ),
    "exporter beyond loopback without auth": (
        {},
        {"monitoring_exporter_password": ""},
        r"node_exporter listens beyond loopback \(10\.0\.0\.11\) and requires basic auth there: "
        r"monitoring_exporter_password \(default vault_monitoring_exporter_password\) needs at least 16 characters "
        r"\(0 given\)",
    ),
    "monitoring host without a private address": (
        {MON: {"platform_private_address": None}},
        {},
        rf"set platform_private_address of {MON} to a private IP address .* \(got '\(unset\)'\)",
    ),
    "scraped host with a public address": (
        {APP: {"platform_private_address": "198.51.100.7"}},
        {},
        rf"{APP} is scraped by the monitoring hosts \({MON}\) over its private address: set "
        r"platform_private_address to a private IP address .* \(got '198\.51\.100\.7'\)",
    ),
    "bad access log buckets": (
        {},
        {"monitoring_access_metrics_enabled": True, "monitoring_access_metrics_buckets": [1, 0.5]},
        r"monitoring_access_metrics_buckets \(positive seconds in ascending order",
    ),
}


def write_inventory(tmp_path: Path, overrides: dict) -> Path:
    hosts = {}
    for host in (APP, MON):
        merged = {**fake_host_vars(host), **HOSTVARS[host], **overrides.get(host, {})}
        hosts[host] = {k: v for k, v in merged.items() if v is not None}
    inventory = {
        "all": {
            "hosts": hosts,
            "children": {"app": {"hosts": {APP: {}}}, "db": {"hosts": {MON: {}}}, "monitoring": {"hosts": {MON: {}}}},
        }
    }
    path = tmp_path / "inventory.yml"
    path.write_text(json.dumps(inventory))
    return path


@pytest.mark.parametrize("case", sorted(CASES), ids=sorted(CASES))
def test_site_refuses_bad_fleet_input_before_any_host(tmp_path: Path, case: str) -> None:
    host_overrides, extra, needle = CASES[case]
    proc = ansible_playbook(
        ROOT / "playbooks" / "site.yml",
        inventory=write_inventory(tmp_path, host_overrides),
        extra_vars={**BASE, **extra},
        tmp_path=tmp_path,
    )
    failing = [
        h for h in (APP, MON) if re.search(rf"{h}\s*:\s*ok=\d+\s+changed=0\s+unreachable=0\s+failed=1", proc.stdout)
    ]
    assert failing, proc.stdout[-3000:]
    output = assert_failed_before_the_host(proc, failing[0])
    assert re.search(needle, output), f"{needle!r} not in:\n{output[-3000:]}"
