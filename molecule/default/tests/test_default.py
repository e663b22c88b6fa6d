"""Full-stack checks of the default scenario: the development platform answers end to end.

Run by testinfra inside the test host, against the real nginx, containers and PostgreSQL.
"""

import json

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


def test_check_diff_on_converged_host_changes_nothing(check_diff_run):
    assert check_diff_run["rc"] == 0, check_diff_run["output"]
    assert check_diff_run["recap"], check_diff_run["output"]
    assert not check_diff_run["changed"], check_diff_run["output"]
