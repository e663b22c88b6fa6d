"""Four hosts (issue 8, HOST-2): proxy, app1, app2 and db on a private network, converged by site.yml.

In order (pytest runs them in file order): the database answers the app hosts only, over TLS
with scram-sha-256; the proxy's pool lists both app hosts; under steady HTTPS load through the
proxy, stopping app1's containers fails no request after the first max_fails window, and a
release across both app hosts fails none; an app host removed from the inventory leaves the
pool on the next run (and comes back); check mode on the converged hosts changes nothing.
"""

import json
import os
import re
import time
from pathlib import Path

import pytest
import yaml
from fleet import ADDR, node, sh

DOMAIN = "mvp-multi.test"
MVP = "/opt/mvp"
# nginx_upstream_fail_timeout of the scenario: the window in which max_fails failures mark a host down.
FAIL_WINDOW_S = 5.0


def live(name: str) -> dict:
    return json.loads(sh(name, f"cat {MVP}/current.json").stdout)


def out(proc) -> str:
    return proc.stdout[-8000:] + proc.stderr[-3000:]


class Load:
    """The release scenario's load generator on the proxy, as a transient systemd unit (bounded)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.out = f"/root/mvp-mh-load-{name}.json"
        self.stop_file = f"/run/mvp-mh-load-{name}.stop"

    def __enter__(self):
        sh("proxy", f"rm -f {self.out} {self.stop_file}")
        sh(
            "proxy",
            f"systemd-run --unit=mvp-mh-load-{self.name} --collect /usr/local/bin/mvp-rel-loadgen --host {DOMAIN} "
            f"--out {self.out} --stop-file {self.stop_file} --threads 4 --interval 0.05 --max-seconds 900",
        )
        time.sleep(3)  # a steady state first
        return self

    def __exit__(self, *exc) -> None:
        time.sleep(3)
        sh("proxy", f"touch {self.stop_file}")
        for _ in range(60):
            if node("proxy").file(self.out).exists:
                break
            time.sleep(0.5)
        self.result = json.loads(sh("proxy", f"cat {self.out}").stdout)
        summary = {k: self.result[k] for k in ("requests", "failed", "stale_keepalive_retries", "longest_gap_ms")}
        print(f"\nLOAD {self.name}: {json.dumps(summary)}")


def tcp_probe(source: str, target: str, port: int) -> int:
    """rc of a TCP connect from one host to another: 0 answered, 1 refused, 124 no answer (dropped)."""
    return sh(source, f"timeout 4 bash -c '</dev/tcp/{target}/{port}'", ok=False).rc


@pytest.mark.parametrize("client", ["app1", "app2"])
def test_database_port_answers_the_app_hosts(client):
    assert tcp_probe(client, ADDR["db"], 5432) == 0


def test_database_port_is_dropped_for_the_proxy():
    assert tcp_probe("proxy", ADDR["db"], 5432) == 124  # no answer at all: dropped, not refused


def test_postgres_listens_on_no_public_address():
    ports = sh("db", "docker port mvp-data-postgres-1 5432/tcp").stdout.split()
    assert sorted(ports) == sorted(["127.0.0.1:5432", f"{ADDR['db']}:5432"]), ports


def test_backends_reach_the_database_over_verified_tls():
    for name in ("app1", "app2"):
        env = sh(name, f"cat {MVP}/env/backend.env").stdout
        url = next(line for line in env.splitlines() if line.startswith("DATABASE_URL="))
        assert f"@{ADDR['db']}:5432/" in url and "sslmode=verify-full" in url and "sslrootcert=" in url
        health = json.loads(
            sh("proxy", f"curl -kfsS --resolve {DOMAIN}:443:127.0.0.1 https://{DOMAIN}/api/health").stdout
        )
        assert health["database"]["status"] == "up", health
    # The database sees the app hosts' connections, every one encrypted.
    rows = sh(
        "db",
        "docker exec -u postgres mvp-data-postgres-1 psql -X -At -U mvp -d mvp -c "
        '"SELECT host(a.client_addr), s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) '
        "WHERE a.client_addr IS NOT NULL AND host(a.client_addr) <> '127.0.0.1'\"",
    ).stdout.split()
    seen = {row.split("|")[0]: row.split("|")[1] for row in rows}
    assert {ADDR["app1"], ADDR["app2"]} <= set(seen), rows
    assert all(seen[ADDR[h]] == "t" for h in ("app1", "app2")), rows


def test_plain_connections_from_an_app_host_are_refused():
    password = yaml.safe_load(
        (Path(__file__).resolve().parents[1] / "inventory/group_vars/all/app_stack.yml").read_text()
    )["app_stack_postgres_password"]
    result = node("app1").run(
        "PGPASSWORD=%s docker run --rm --network host -e PGPASSWORD --entrypoint psql local/postgres:17 "
        "'host=%s user=mvp dbname=mvp sslmode=disable connect_timeout=5' -c 'SELECT 1'",
        password,
        ADDR["db"],
    )
    assert result.rc != 0
    assert "no pg_hba.conf entry" in result.stderr and "no encryption" in result.stderr, result.stderr


def test_backups_follow_the_database_to_its_host():
    job = json.loads(sh("db", "/usr/local/sbin/mvp-backup db --kind full").stdout)
    assert job["kind"] == "full" and job["status"] == "complete", job
    timers = sh("db", "systemctl list-timers --all --no-legend 'mvp-backup-*'").stdout
    assert "mvp-backup-full.timer" in timers and "mvp-backup-incremental.timer" in timers, timers
    for name in ("proxy", "app1", "app2"):
        assert not node(name).file("/usr/local/sbin/mvp-backup").exists


def test_monitoring_on_the_db_host_sees_postgres_and_the_public_endpoints():
    deadline = time.time() + 120
    while True:
        targets = json.loads(sh("db", "curl -fsS http://127.0.0.1:9090/api/v1/targets").stdout)["data"]["activeTargets"]
        # The backend's idle colour is stopped between releases: test_fleet_monitoring checks the live one.
        health = {
            (t["labels"]["job"], t["labels"].get("instance", "")): t["health"]
            for t in targets
            if t["labels"]["job"] != "backend"
        }
        probes = sh("db", "curl -fsS 'http://127.0.0.1:9090/api/v1/query?query=probe_success'").stdout
        up = all(h == "up" for h in health.values()) and '"value"' in probes and '"0"]' not in probes
        if up or time.time() > deadline:
            break
        time.sleep(5)
    assert all(h == "up" for h in health.values()), health
    assert any(job == "postgres" for job, _ in health), health
    assert '"0"]' not in probes, probes


def test_the_pool_lists_every_app_host_on_its_private_address():
    markers = sh("proxy", "ls /etc/nginx/mvp/live").stdout.split()
    for service, port in (("frontend", 3100), ("backend", 3101)):
        pool = sh("proxy", f"cat /etc/nginx/mvp/pool/{service}/*.conf").stdout
        for name in ("app1", "app2"):
            host = f"mvp-mh-{name}"
            # The pool entry is the host's colour switch; the switch reaches both colours' ports on the
            # private address and picks the live one by the host's marker file.
            assert f"server unix:/run/mvp-nginx/{host}-{service}.sock max_fails=2 fail_timeout=5s;" in pool, pool
            switch = sh("proxy", f"cat /etc/nginx/mvp/switch/{host}.conf").stdout
            assert f"server {ADDR[name]}:{port};" in switch and f"server {ADDR[name]}:{port + 100};" in switch, switch
            assert (f"{host}.green" in markers) == (live(name)["colour"] == "green"), markers


def test_app_colour_ports_answer_the_proxy_only():
    port = 3100 if live("app1")["colour"] == "blue" else 3200
    assert tcp_probe("proxy", ADDR["app1"], port) == 0
    assert tcp_probe("db", ADDR["app1"], port) == 124


def test_stopping_app1_fails_no_request_after_the_first_max_fails_window():
    colour = live("app1")["colour"]
    with Load("app1-down") as load:
        stopped_at = time.time()
        sh("app1", f"docker compose -f {MVP}/{colour}/compose.yml stop")
        time.sleep(20)
    sh("app1", f"docker compose -f {MVP}/{colour}/compose.yml start")
    health = f"http://{ADDR['app1']}:{3101 if colour == 'blue' else 3201}/api/health"
    sh("app1", f"timeout 120 sh -c 'until curl -fsS {health}; do sleep 1; done'")
    result = load.result
    stop_rel = stopped_at - result["started_at"]
    before = [f for f in result["failures"] if f["t_s"] <= stop_rel + FAIL_WINDOW_S]
    after = [f for f in result["failures"] if f["t_s"] > stop_rel + FAIL_WINDOW_S]
    print(
        f"\nAPP1 DOWN: {result['requests']} requests, {len(before)} failed within the first max_fails window, "
        f"{len(after)} after it"
    )
    assert result["requests"] > 200, result
    assert result["failed"] == len(before) + len(after)
    assert after == [], json.dumps(after[:10], indent=1)


def test_release_across_both_app_hosts_fails_no_request(run_playbook):
    old = live("app1")["version"]
    new = "2.0.0" if old == "1.0.0" else "1.0.0"  # verify can run again on the same hosts
    with Load("release") as load:
        proc = run_playbook("deploy.yml", "-e", f"app_version={new}")
    assert proc.returncode == 0, out(proc)
    print(f"RELEASE {new} on app1 then app2: {proc.wall_s} s")
    # One host at a time, each switched by its colour marker: nginx is never reloaded.
    switches = re.findall(r"Set this host's colour marker on every proxy \(no reload\) to (?:blue|green)", proc.stdout)
    assert len(switches) == 2, out(proc)
    reloads = re.findall(r"Reload those proxies\].*?(?=\nTASK \[|\Z)", proc.stdout, re.S)
    assert reloads and not any("changed:" in r for r in reloads), out(proc)
    assert load.result["requests"] > 200, load.result
    assert load.result["failed"] == 0, json.dumps(load.result, indent=1)[:3000]
    for name in ("app1", "app2"):
        assert live(name)["version"] == new
    pool = sh("proxy", "cat /etc/nginx/mvp/pool/backend/*.conf").stdout
    assert "mvp-member-state: down" not in pool and " down;" not in pool, pool
    seen = load.result["versions"]["/api/health"]
    assert set(seen) >= {old, new}, seen


def test_a_host_removed_from_the_inventory_leaves_the_pool(run_playbook, tmp_path):
    inventory = Path(os.environ["MOLECULE_INVENTORY_FILE"])
    data = yaml.safe_load(inventory.read_text())
    # Molecule writes each group at the top level; the host stays in `all`, only `app` loses it.
    del data["app"]["hosts"]["mvp-mh-app2"]
    for linked in ("group_vars", "host_vars"):
        (tmp_path / linked).symlink_to(inventory.parent / linked)
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(data))
    try:
        proc = run_playbook(
            "site.yml", "--tags", "nginx", "--limit", "mvp-mh-proxy", inventory=str(tmp_path / "hosts.yml")
        )
        assert proc.returncode == 0, out(proc)
        # The pool's entries are the members' colour switches (a socket each); the switch holds the address.
        pool = sh("proxy", "cat /etc/nginx/mvp/pool/*/*.conf").stdout
        assert "# mvp-member: mvp-mh-app1" in pool and "mvp-mh-app2" not in pool, pool
        switches = sh("proxy", "ls /etc/nginx/mvp/switch").stdout.split()
        assert switches == ["mvp-mh-app1.conf"], switches
        assert sh("proxy", f"curl -kfsS --resolve {DOMAIN}:443:127.0.0.1 https://{DOMAIN}/api/health").rc == 0
    finally:
        # Back in the inventory, back in the pool (also after a failure: later tests need both hosts).
        proc = run_playbook("site.yml", "--tags", "nginx", "--limit", "mvp-mh-proxy")
    assert proc.returncode == 0, out(proc)
    assert "# mvp-member: mvp-mh-app2" in sh("proxy", "cat /etc/nginx/mvp/pool/*/*.conf").stdout
    assert ADDR["app2"] in sh("proxy", "cat /etc/nginx/mvp/switch/mvp-mh-app2.conf").stdout


def test_check_diff_on_converged_hosts_changes_nothing(check_diff_run):
    assert check_diff_run["rc"] == 0, check_diff_run["output"]
    assert check_diff_run["changed"] == {}, check_diff_run["output"]
