"""Zero-downtime releases (issue 5) on the converged test host, in order.

The host was converged at 1.0.0 (site.yml's app_stack + nginx plays). While a load generator
inside the test host sends steady HTTPS requests through nginx to / and /api/health:
deploy.yml 1.0.0 and 2.0.0 -> zero failed requests; deploy.yml 3.0.0 (its backend's health
check fails) -> the play fails as designed, nginx stays on 2.0.0, zero failed requests;
rollback.yml (previous release, 1.0.0) -> zero failed requests. The release log then holds the
four events. Then bad input, the deploy lock, and site.yml idempotence after releases.
The tests depend on each other's order (pytest runs them in file order).
"""

import json
import os
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest
from mvp_molecule import Load, assert_no_failed_requests, out, output, sh
from mvp_molecule import playbook as run_playbook

testinfra_hosts = ["all"]

ROOT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
SCENARIO = Path(os.environ.get("MOLECULE_SCENARIO_DIRECTORY", Path(__file__).resolve().parents[1]))
MVP = "/opt/mvp"
RESULTS = {}


def playbook(name: str, *extra: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return run_playbook(name, *extra, timeout=timeout, actor="molecule-release")


def read_json(host, path: str):
    return json.loads(sh(host, f"cat {path}"))


def live(host) -> dict:
    return read_json(host, f"{MVP}/current.json")


def upstream_colour(host) -> str:
    """The colour nginx sends this host's requests to: its marker file (green present, blue absent)."""
    return "green" if host.file("/etc/nginx/mvp/live/mvp-rel-release.green").exists else "blue"


def nginx_workers(host) -> list[str]:
    """nginx's worker processes: a reload replaces them all."""
    return sorted(sh(host, "pgrep -P $(cat /run/nginx.pid)").split())


def running(host, colour: str) -> list[str]:
    return sh(host, f"docker ps --filter label=mvp.colour={colour} --format '{{{{.Names}}}}'").split()


def under_load(host, name: str) -> Load:
    return Load(host, name, prefix="mvp-rel", results=RESULTS)


def test_release_1_0_0_again_under_load(host):
    assert live(host)["version"] == "1.0.0"
    before = live(host)["colour"]
    with under_load(host, "v1") as load:
        proc = playbook("deploy.yml", "-e", "app_version=1.0.0")
    assert proc.returncode == 0, out(proc)
    assert_no_failed_requests(load)
    assert live(host)["version"] == "1.0.0"
    assert live(host)["colour"] != before
    assert upstream_colour(host) == live(host)["colour"]


def test_release_2_0_0_under_load_has_zero_failed_requests(host):
    old = live(host)["colour"]
    workers = nginx_workers(host)
    with under_load(host, "v2") as load:
        proc = playbook("deploy.yml", "-e", "app_version=2.0.0")
    assert proc.returncode == 0, out(proc)
    RESULTS["v2_wall_s"] = proc.wall_s
    assert_no_failed_requests(load)
    # The switch needs no nginx reload: the same workers, and no keep-alive connection closed idle
    # (neither a retry by the retrying clients nor a failure of the ones that never retry).
    assert nginx_workers(host) == workers
    assert load.result["stale_keepalive_retries"] == 0, load.result
    now = live(host)
    assert now["version"] == "2.0.0"
    assert upstream_colour(host) == now["colour"] != old
    # Both versions answered during the release; the new one last.
    for path in ("/", "/api/health"):
        seen = load.result["versions"][path]
        assert set(seen) == {"1.0.0", "2.0.0"}, seen
        assert seen["2.0.0"]["last_s"] > seen["1.0.0"]["last_s"]
    # The old colour is stopped (kept for a quick rollback), the new one runs.
    assert running(host, old) == []
    assert len(running(host, now["colour"])) == 2
    page = sh(host, "curl -fsSk https://mvp-release.test/")
    assert "frontend version 2.0.0" in page


def test_release_3_0_0_fails_its_health_gate_and_nginx_stays_on_2_0_0(host):
    before = live(host)
    with under_load(host, "v3") as load:
        proc = playbook("deploy.yml", "-e", "app_version=3.0.0")
    text = output(proc)
    assert proc.returncode != 0, out(proc)
    assert "Release 3.0.0 FAILED" in text, out(proc)
    assert "nginx was never switched" in text, out(proc)
    assert re.search(r"Failing checks of the health gate: backend", text), out(proc)
    assert "status=503" in text, out(proc)
    # The new containers' last log lines are in the message.
    assert "backend-1" in text and "/api/health" in text, out(proc)
    assert_no_failed_requests(load)
    for path in ("/", "/api/health"):
        assert set(load.result["versions"][path]) == {"2.0.0"}, load.result["versions"]
    assert live(host) == before
    assert upstream_colour(host) == before["colour"]
    new = "green" if before["colour"] == "blue" else "blue"
    assert running(host, new) == [], "the failed colour must be stopped"
    assert not host.file(f"{MVP}/deploy.lock").exists


def test_rollback_returns_to_the_previous_release_with_zero_failed_requests(host):
    with under_load(host, "rollback") as load:
        proc = playbook("rollback.yml")
    assert proc.returncode == 0, out(proc)
    assert_no_failed_requests(load)
    assert live(host)["version"] == "1.0.0"
    assert upstream_colour(host) == live(host)["colour"]
    assert "frontend version 1.0.0" in sh(host, "curl -fsSk https://mvp-release.test/")


def test_release_log_holds_the_four_events(host):
    log = read_json(host, f"{MVP}/releases.json")
    events = [(e["action"], e["version"], e["result"]) for e in log]
    assert events == [
        ("deploy", "1.0.0", "success"),
        ("deploy", "2.0.0", "success"),
        ("deploy", "3.0.0", "failed"),
        ("rollback", "1.0.0", "success"),
    ], events
    for event in log:
        assert event["actor"] == "molecule-release"
        assert event["images"]["frontend"]["ref"] == f"local/mvp-frontend:{event['version']}"
        assert event["images"]["backend"]["id"].startswith("sha256:")
        assert event["started_at"] <= event["finished_at"]
    failed = log[2]
    assert "health" in failed["error"].lower() and failed["live_after"]["version"] == "2.0.0"
    assert log[3]["migrated"] is False and log[1]["migrated"] is True


def test_images_beyond_the_retained_releases_are_pruned(host):
    tags = sh(host, "docker image ls --format '{{.Repository}}:{{.Tag}}' 'local/mvp-*'").split()
    assert "local/mvp-backend:3.0.0" not in tags and "local/mvp-frontend:3.0.0" not in tags, tags
    for v in ("1.0.0", "2.0.0"):
        assert f"local/mvp-backend:{v}" in tags and f"local/mvp-frontend:{v}" in tags, tags


def test_rollback_refuses_an_unknown_version_listing_the_retained_ones(host):
    before, colour = live(host), upstream_colour(host)
    proc = playbook("rollback.yml", "-e", "app_version=0.9.0")
    assert proc.returncode != 0
    assert "app_version=0.9.0 is not a retained release" in output(proc), out(proc)
    assert "Retained (newest first): 1.0.0, 2.0.0" in output(proc), out(proc)
    assert live(host) == before and upstream_colour(host) == colour


def test_deploy_of_an_image_that_does_not_exist_switches_nothing(host):
    before, colour = live(host), upstream_colour(host)
    proc = playbook("deploy.yml", "-e", "app_version=9.9.9")
    text = output(proc)
    assert proc.returncode != 0
    assert "image(s) local/mvp-frontend:9.9.9, local/mvp-backend:9.9.9" in text, out(proc)
    assert "nginx was never switched" in text, out(proc)
    assert live(host) == before and upstream_colour(host) == colour
    assert not host.file(f"{MVP}/deploy.lock").exists


def test_deploy_without_app_version_is_refused(host):
    before = live(host)
    proc = playbook("deploy.yml")
    assert proc.returncode != 0
    assert "app_version is required" in output(proc), out(proc)
    assert live(host) == before


def test_a_concurrent_deploy_waits_for_the_lock_then_fails_clearly(host):
    results = {}
    first = threading.Thread(target=lambda: results.update(first=playbook("deploy.yml", "-e", "app_version=2.0.0")))
    first.start()
    for _ in range(240):
        if host.file(f"{MVP}/deploy.lock").exists:
            break
        time.sleep(0.5)
    second = playbook("deploy.yml", "-e", "app_version=2.0.0", "-e", "release_lock_wait=5")
    first.join(900)
    assert second.returncode != 0
    assert re.search(r"deploy lock /opt/mvp/deploy.lock is held by molecule-release .*waited 5 s", out(second)), out(
        second
    )
    assert "deploy_break_lock=true" in output(second)
    assert results["first"].returncode == 0, out(results["first"])
    assert live(host)["version"] == "2.0.0"
    assert not host.file(f"{MVP}/deploy.lock").exists


def test_a_stale_lock_is_broken_only_on_request(host):
    stale = {"owner": "ci-run-that-died", "pid": 999999, "since": "2026-01-01T00:00:00Z", "token": "dead"}
    sh(host, f"echo '{json.dumps(stale)}' > {MVP}/deploy.lock")
    proc = playbook("rollback.yml", "-e", "release_lock_wait=2")
    assert proc.returncode != 0 and "held by ci-run-that-died" in output(proc), out(proc)
    proc = playbook("rollback.yml", "-e", "release_lock_wait=2", "-e", "deploy_break_lock=true")
    assert proc.returncode == 0, out(proc)
    assert "Broke the deploy lock" in output(proc)
    assert live(host)["version"] == "1.0.0"
    assert not host.file(f"{MVP}/deploy.lock").exists


def test_site_yml_follows_the_live_release_and_is_idempotent(host):
    before, colour = live(host), upstream_colour(host)
    proc = playbook(str(SCENARIO / "converge.yml"))
    assert proc.returncode == 0, out(proc)
    recap = re.search(r"changed=(\d+)", proc.stdout)
    assert recap and recap.group(1) == "0", out(proc)
    assert live(host) == before and upstream_colour(host) == colour
    assert f"frontend version {before['version']}" in sh(host, "curl -fsSk https://mvp-release.test/")


@pytest.fixture(scope="session", autouse=True)
def _write_results():
    yield
    path = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", SCENARIO)) / "release-load.json"
    path.write_text(json.dumps(RESULTS, indent=2))


def test_healthcheck_yml_reports_every_endpoint(host):
    proc = playbook("healthcheck.yml", "-e", "healthcheck_from=host", "-e", "healthcheck_monitoring=false")
    text = output(proc)
    assert proc.returncode == 0, out(proc)
    assert "Every endpoint is healthy." in text, out(proc)
    for name in (
        "public site https://mvp-release.test/",
        "public API https://mvp-release.test/api/health",
        "HTTP redirect http://mvp-release.test/",
        "postgresql",
        "backend",
    ):
        assert re.search(rf"OK\s+mvp-rel-release\s+{re.escape(name)}", text), out(proc)
