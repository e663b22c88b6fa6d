"""The colour-switch entry points a release uses (app_stack colour.yml, nginx upstream.yml).

Runs after test_platform.py: blue 1.0.0 -> green 2.0.0 -> blue 1.0.0 again, so the converged
state (and current.json) is the same at the end.
"""

import json
import os
import re
import subprocess
from pathlib import Path

testinfra_hosts = ["proxy"]
# The upstreams, the pool entries and the colour switches nginx reads.
NGINX_POOL_FILES = "/etc/nginx/mvp/upstream.conf /etc/nginx/mvp/pool/*/*.conf /etc/nginx/mvp/switch/*.conf"

DOMAIN = "mvp-platform.test"


def switch(colour, version, old):
    playbook = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"]) / "switch_colour.yml"
    extra = json.dumps({"pf_colour": colour, "pf_version": version, "pf_old_colour": old})
    proc = subprocess.run(
        ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], str(playbook), "-e", extra],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]


def served(host):
    with host.sudo():
        page = host.run(f"curl -kfsS https://{DOMAIN}/").stdout
        health = json.loads(host.run(f"curl -kfsS https://{DOMAIN}/api/health").stdout)
        upstream = host.run(f"cat {NGINX_POOL_FILES}").stdout
        # The colour is a marker file per app host (green present, blue absent): no reload.
        upstream += "\nmarkers: " + host.run("ls /etc/nginx/mvp/live").stdout.replace("\n", " ")
        projects = host.run("docker ps --format '{{.Label \"com.docker.compose.project\"}}'").stdout.split()
    return page, health, upstream, set(projects)


def test_switch_to_green_2_and_back_to_blue_1(host):
    switch("green", "2.0.0", "blue")
    page, health, upstream, projects = served(host)
    assert "frontend version 2.0.0" in page
    assert health["version"] == "2.0.0" and health["database"]["schema_version"] == "2.0.0"
    assert re.search(r"markers: \S+\.green", upstream) and "127.0.0.1:3201" in upstream, upstream
    assert projects == {"mvp-data", "mvp-green"}

    switch("blue", "1.0.0", "green")
    page, health, upstream, projects = served(host)
    assert "frontend version 1.0.0" in page and health["version"] == "1.0.0"
    assert ".green" not in upstream.split("markers:")[1], upstream
    assert projects == {"mvp-data", "mvp-blue"}
