"""Full-stack checks of the default scenario: the development platform answers end to end.

Run by testinfra inside the test host, against the real nginx, containers and PostgreSQL.
"""

import json
import time
import urllib.parse

import pytest

testinfra_hosts = ["all"]

DOMAIN = "mvp.localhost"


def curl(host, *args):
    return host.run("curl -sS --max-time 10 " + " ".join(args))


def test_systemd_is_pid1_and_running(host):
    assert host.run("cat /proc/1/comm").stdout.strip() == "systemd"
    state = host.run("systemctl is-system-running").stdout.strip()
    assert state in {"running", "degraded"}, state
    failed = host.run("systemctl --failed --no-legend --plain").stdout.strip()
    assert failed == "", f"failed units: {failed}"


@pytest.mark.parametrize("group", ["app", "proxy", "db", "monitoring"])
def test_host_is_in_every_group_of_a_single_host_environment(host, group):
    assert host.backend.get_hostname() in host.ansible.get_variables()["groups"][group]


def test_frontend_answers_through_nginx_over_https(host):
    # Development uses a self-signed certificate, hence -k.
    r = curl(host, "-k", "-o", "/dev/null", "-w", "%{http_code}", f"https://{DOMAIN}/")
    assert r.stdout == "200", r.stdout + r.stderr


def test_backend_reports_the_database_through_nginx(host):
    r = curl(host, "-k", f"https://{DOMAIN}/api/health")
    assert r.rc == 0, r.stderr
    health = json.loads(r.stdout)
    assert health["status"] == "ok", health
    assert health["database"]["status"] == "up", health


def test_http_redirects_to_https(host):
    r = curl(host, "-o", "/dev/null", "-w", "'%{http_code} %{redirect_url}'", f"http://{DOMAIN}/")
    code, url = r.stdout.split(" ", 1)
    assert code in {"301", "308"}, r.stdout
    assert url.startswith(f"https://{DOMAIN}/"), r.stdout


@pytest.mark.parametrize(("port", "path"), [(5000, "/"), (5001, "/api/health")])
def test_development_ports_answer(host, port, path):
    r = curl(host, "-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{port}{path}")
    assert r.stdout == "200", r.stdout + r.stderr


def test_postgres_is_published_on_the_development_port(host):
    assert host.socket("tcp://0.0.0.0:5432").is_listening or host.socket("tcp://5432").is_listening


def test_the_page_is_the_reference_application(host):
    """The Next.js frontend of app/ (not a stand-in) shows its version and the backend's health."""
    page = curl(host, "-k", f"https://{DOMAIN}/").stdout
    assert "MVP Platform" in page and "1.0.0" in page, page[:2000]
    health = json.loads(curl(host, "-k", f"https://{DOMAIN}/api/health").stdout)
    # The NestJS backend reports the schema its migrations (the runner of app/backend) applied.
    assert health["database"]["schema_version"] == health["database"]["expected_schema_version"], health
    assert health["database"]["schema_version"], health


def prometheus(host, expr: str) -> list:
    url = "http://127.0.0.1:9090/api/v1/query?query=" + urllib.parse.quote(expr)
    return json.loads(curl(host, f"'{url}'").stdout)["data"]["result"]


def wait_for_series(host, expr: str, timeout: float = 180) -> list:
    deadline = time.time() + timeout
    while not (series := prometheus(host, expr)) and time.time() < deadline:
        time.sleep(5)
    return series


def test_api_requests_show_per_route_series_from_the_backend_and_nginx(host):
    """MON-1 on the reference application: after requests through nginx, Prometheus has per-route
    rate, latency and error series from the backend's own metrics listener and from nginx's log."""
    host.run(
        f"for i in $(seq 1 40); do curl -ks -o /dev/null https://{DOMAIN}/api/health; "
        f"curl -ks -o /dev/null https://{DOMAIN}/api/no-such-thing/$i; done"
    )
    for expr in (
        'mvp_backend_http_requests_total{route="/api/health",status="200"}',
        'mvp_backend_http_requests_total{route="unmatched",status="404"}',
        'mvp_backend_info{version="1.0.0"}',
        'mvp_http_requests_total{route="/api/health",status="200"}',
        'mvp:backend_request_duration_seconds:p95{route="/api/health"} >= 0',
        'mvp:backend_errors:ratio_rate5m{route="/api/health"} == 0',
        'mvp:http_errors:ratio_rate5m{route="/api/health"} == 0',
    ):
        assert wait_for_series(host, expr), expr
    # The live colour's target is up; BackendDown is quiet.
    live = json.loads(host.run("cat /opt/mvp/current.json").stdout)["colour"]
    up = {s["metric"]["colour"]: s["value"][1] for s in prometheus(host, 'up{job="backend"}')}
    assert up.get(live) == "1", up
    assert not prometheus(host, 'ALERTS{alertname="BackendDown"}')


def test_backend_metrics_are_not_served_through_nginx(host):
    page = curl(host, "-k", f"https://{DOMAIN}/metrics").stdout
    assert "mvp_backend_" not in page, page[:500]
    # Its own listener answers on the host's loopback (the colour's metrics port).
    live = json.loads(host.run("cat /opt/mvp/current.json").stdout)["colour"]
    port = {"blue": 3102, "green": 3202}[live]
    assert "mvp_backend_http_requests_total" in curl(host, f"http://127.0.0.1:{port}/metrics").stdout


# Containers that may lack one of the least-privilege settings, and why (SEC-2). Each entry is
# {container name: {setting: reason}}; none may be missing without one.
EXCEPTIONS: dict = {
    "mvp-backup-wal": {
        "non-root user": "pg_receivewal runs as root without any capability (CapEff 0, no-new-privileges), only so "
        "that the WAL archive it writes on the host stays root's, mode 0700, like every other backup",
    },
}


def status_fields(host, pid: str) -> dict:
    lines = host.run(f"cat /proc/{pid}/status").stdout.splitlines()
    return dict(line.split(":\t", 1) for line in lines if ":\t" in line)


def test_every_container_runs_with_least_privilege(host):
    with host.sudo():
        names = host.run("docker ps --format '{{.Names}}'").stdout.split()
        assert names, "no container runs"
        problems = []
        for name in names:
            info = json.loads(host.run(f"docker inspect {name}").stdout)[0]
            hc, pid = info["HostConfig"], str(info["State"]["Pid"])
            proc = status_fields(host, pid)
            checks = {
                # The main process holds no capability and can gain none (cap_drop, no-new-privileges).
                "no capabilities": int(proc.get("CapEff", "1").strip(), 16) == 0,
                "no-new-privileges": proc.get("NoNewPrivs", "0").strip() == "1",
                "non-root user": proc.get("Uid", "0").split()[0] != "0",
                "read-only root": hc.get("ReadonlyRootfs") is True,
                "memory limit": (hc.get("Memory") or 0) > 0,
                "pids limit": (hc.get("PidsLimit") or 0) > 0,
                "all capabilities dropped": "ALL" in (hc.get("CapDrop") or []),
            }
            allowed = EXCEPTIONS.get(name, {})
            problems += [f"{name}: {what}" for what, ok in checks.items() if not ok and what not in allowed]
    assert not problems, "containers without least privilege:\n" + "\n".join(problems)


def test_check_diff_on_converged_host_changes_nothing(check_diff_run):
    assert check_diff_run["rc"] == 0, check_diff_run["output"]
    assert check_diff_run["recap"], check_diff_run["output"]
    assert not check_diff_run["changed"], check_diff_run["output"]
