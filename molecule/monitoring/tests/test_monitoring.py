"""The monitoring scenario: scrape targets up, alerts delivered to the test peers, 0 changes.

The tests run in file order: first the steady state, then the failure drills (backend down and
back, stale backup), then check mode. Arrival times are printed (pytest -s / molecule -v shows
them) and written to /var/log/mvp-mon-test/timings.json on the test host and to
tests/output/molecule-monitoring-timings.json on the control node.
"""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import testinfra.utils.ansible_runner

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts(
    "monitoring"
)

ROOT = Path(__file__).resolve().parents[3]
PROM = "http://127.0.0.1:9090"
TEST_DIR = "/var/log/mvp-mon-test"
TEXTFILE_DIR = "/var/lib/prometheus/node-exporter"
EXPECTED_JOBS = {
    "prometheus",
    "alertmanager",
    "node",
    "blackbox_exporter",
    "blackbox",
    "postgres",
    "nginx",
    "docker",
    "backend",
}
TIMINGS: dict[str, float] = {}


def prom_get(host, path: str) -> dict:
    out = host.check_output("curl -fsS --max-time 5 %s", PROM + path)
    return json.loads(out)


def query(host, promql: str) -> list:
    out = host.check_output(
        "curl -fsS --max-time 5 --get --data-urlencode %s %s", f"query={promql}", PROM + "/api/v1/query"
    )
    return json.loads(out)["data"]["result"]


def wait_for(predicate, timeout: float, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    return last


def jsonl(host, name: str) -> list:
    f = host.file(f"{TEST_DIR}/{name}")
    if not f.exists:
        return []
    return [json.loads(line) for line in f.content_string.splitlines() if line.strip()]


def webhook_alerts(host, since: float) -> list:
    """(received, status, alert) for every alert in the webhook notifications received after `since`."""
    found = []
    for entry in jsonl(host, "webhook.jsonl"):
        if entry["received"] >= since:
            found.extend((entry["received"], a["status"], a) for a in entry["body"].get("alerts", []))
    return found


def host_time(host) -> float:
    return float(host.check_output("date +%s.%N"))


def record(host, name: str, seconds: float) -> None:
    """Keep an arrival time: on the test host, and on the control node in tests/output/."""
    TIMINGS[name] = round(seconds, 1)
    print(f"\n[timing] {name}: {seconds:.1f} s")
    host.run("echo %s > %s/timings.json", json.dumps(TIMINGS), TEST_DIR)
    out = ROOT / "tests" / "output" / "molecule-monitoring-timings.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(TIMINGS, indent=2) + "\n")


def backend_container(host) -> str:
    ids = host.check_output(
        "docker ps -a --quiet --filter label=com.docker.compose.service=backend --filter status=running"
    ).split()
    assert len(ids) == 1, ids
    return ids[0]


def healthcheck_report() -> dict:
    """playbooks/healthcheck.yml from the proxy host itself: public check name -> ok."""
    env = {**os.environ, "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_NOCOLOR": "1"}
    proc = subprocess.run(
        [
            "ansible-playbook",
            "-i",
            os.environ["MOLECULE_INVENTORY_FILE"],
            str(ROOT / "playbooks" / "healthcheck.yml"),
            "-e",
            "healthcheck_from=host",
            "-e",
            "healthcheck_fail=false",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = {}
    for play in json.loads(proc.stdout)["plays"]:
        for task in play["tasks"]:
            for result in task["hosts"].values():
                for check in result.get("checks") or []:
                    report[check["name"]] = check["ok"]
    return report


def prometheus_probes(host) -> dict:
    """endpoint -> probe_success as Prometheus sees it now."""
    return {r["metric"]["endpoint"]: r["value"][1] == "1" for r in query(host, 'probe_success{job="blackbox"}')}


def assert_agree(host, report: dict, expected: dict) -> None:
    """healthcheck.yml's public checks and Prometheus's probes say the same, and what is expected."""
    seen = {
        "frontend": report["public site https://mvp.localhost/"],
        "api": report["public API https://mvp.localhost/api/health"],
    }
    assert seen == expected, report
    assert prometheus_probes(host) == expected


def test_every_scrape_target_is_up(host):
    # The backend's idle colour has not started (or was stopped by a release): only the live one counts.
    live = json.loads(host.run("cat /opt/mvp/current.json").stdout)["colour"]

    def all_up():
        targets = prom_get(host, "/api/v1/targets")["data"]["activeTargets"]
        targets = [t for t in targets if t["labels"]["job"] != "backend" or t["labels"]["colour"] == live]
        jobs = {t["labels"]["job"] for t in targets}
        down = [(t["labels"]["job"], t["scrapeUrl"], t["lastError"]) for t in targets if t["health"] != "up"]
        return (jobs >= EXPECTED_JOBS and not down, jobs, down)

    result = wait_for(lambda: all_up() if all_up()[0] else None, timeout=120, interval=2)
    assert result, f"targets not all up: {all_up()}"


def test_every_probe_and_exporter_sees_its_service(host):
    checks = {
        'probe_success{job="blackbox"}': 2,  # frontend and API through nginx over HTTPS
        "pg_up": 1,  # postgres_exporter logged in as the read-only role
        "nginx_up": 1,  # stub_status on loopback
        'mvp_container_running{service="backend"}': 1,  # container metrics timer
        "engine_daemon_engine_info": 1,  # Docker daemon metrics
    }
    for promql, count in checks.items():
        result = wait_for(lambda q=promql: [r for r in query(host, q) if float(r["value"][1]) >= 1] or None, 60, 2)
        assert result and len(result) >= count, f"{promql}: {query(host, promql)}"
    expiry = query(host, 'probe_ssl_earliest_cert_expiry{job="blackbox"} - time()')
    assert expiry and float(expiry[0]["value"][1]) > 86400, expiry


def test_healthcheck_report_and_prometheus_agree(host):
    assert_agree(host, healthcheck_report(), {"frontend": True, "api": True})


def test_postgres_role_is_read_only(host):
    pg = host.check_output("docker ps --quiet --filter label=com.docker.compose.service=postgres")
    cmd = host.run(
        "docker exec -e PGPASSWORD=dev-monitoring-not-a-secret %s psql -h 127.0.0.1 -U mvp_monitoring -d mvp -XtAc %s",
        pg,
        "CREATE TABLE mvp_monitoring_probe (x int)",
    )
    assert cmd.rc != 0 and "read-only transaction" in cmd.stderr, cmd.stderr


def test_daemons_listen_on_loopback_only(host):
    sockets = host.check_output("ss -Hltn").splitlines()
    for port in (9090, 9093, 9100, 9115, 9187, 9113, 8089, 9323):
        bound = [line.split()[3] for line in sockets if line.split()[3].endswith(f":{port}")]
        assert bound, f"nothing listens on {port}"
        assert all(addr.startswith(("127.0.0.1:", "[::1]:")) for addr in bound), (port, bound)
    assert not [line for line in sockets if line.split()[3].endswith(":9094")], "Alertmanager cluster port open"


def test_configs_are_valid_on_the_host(host):
    for cmd in (
        "promtool check config /etc/prometheus/prometheus.yml",
        "amtool check-config /etc/prometheus/alertmanager.yml",
        "logrotate --debug /etc/logrotate.d/nginx",
        "nginx -t -q",
    ):
        result = host.run(cmd)
        assert result.rc == 0, (cmd, result.stdout, result.stderr)


def test_admin_ui_needs_basic_auth(host):
    def status(url: str, *auth: str) -> str:
        return host.run(
            "curl -sk -o /dev/null -w '%%{http_code}' " + " ".join(["%s"] * (len(auth) + 1)), *auth, url
        ).stdout

    base = "https://127.0.0.1:9443/monitoring"
    assert status(f"{base}/prometheus/-/ready") == "401"
    assert status(f"{base}/prometheus/-/ready", "-u", "admin:mon-admin-test-password") == "200"
    assert status(f"{base}/alertmanager/-/ready", "-u", "admin:mon-admin-test-password") == "200"
    assert status(f"{base}/prometheus/-/ready", "-u", "admin:wrong-password") == "401"


def test_nginx_json_access_log_is_shipped(host):
    marker = f"mvp-mon-ship-{time.time_ns()}"
    host.run("curl -sk -o /dev/null https://127.0.0.1/%s", marker)
    line = host.check_output("grep -h %s /var/log/nginx/access.log | tail -n 1", marker)
    assert json.loads(line)["uri"] == f"/{marker}"
    shipped = wait_for(lambda: marker in host.file(f"{TEST_DIR}/syslog.log").content_string, timeout=30)
    assert shipped, "the access log line did not reach the syslog sink"


def test_backend_json_logs_are_shipped_through_dockers_rotation(host):
    """The backend's JSON log line, as Docker's json-file driver wrote it, reaches the syslog sink."""
    marker = f"mvp-mon-backend-{time.time_ns()}"
    host.run("curl -sk -o /dev/null 'https://127.0.0.1/api/health?%s'", marker)

    def shipped_line():
        lines = [x for x in host.file(f"{TEST_DIR}/syslog.log").content_string.splitlines() if marker in x]
        return [x for x in lines if " docker " in x or "docker[" in x or "docker:" in x]

    lines = wait_for(shipped_line, timeout=60)
    assert lines, "the backend's log line did not reach the syslog sink with the docker tag"
    # The payload is Docker's JSON envelope around the backend's own JSON line.
    envelope = json.loads(lines[-1][lines[-1].index("{") :])
    assert json.loads(envelope["log"])["level"], envelope


def test_backend_down_alert_reaches_webhook_and_resolves(host):
    backend = backend_container(host)
    started = host_time(host)
    host.check_output("docker stop %s", backend)
    try:

        def firing():
            return [
                r
                for r in webhook_alerts(host, started)
                if r[1] == "firing" and r[2]["labels"]["alertname"] == "EndpointDown"
            ]

        fired = wait_for(firing, timeout=180, interval=1)
        assert fired, f"no EndpointDown at the webhook: {webhook_alerts(host, started)}"
        assert fired[0][2]["labels"]["endpoint"] == "api"
        assert fired[0][2]["labels"]["severity"] == "critical"
        record(host, "endpoint_down_to_webhook", fired[0][0] - started)
        assert_agree(host, healthcheck_report(), {"frontend": True, "api": False})
    finally:
        host.check_output("docker start %s", backend)
    restarted = host_time(host)

    def resolved():
        return [
            r
            for r in webhook_alerts(host, restarted)
            if r[1] == "resolved" and r[2]["labels"]["alertname"] == "EndpointDown"
        ]

    done = wait_for(resolved, timeout=240, interval=1)
    assert done, f"no resolved EndpointDown at the webhook: {webhook_alerts(host, restarted)}"
    record(host, "backend_back_to_resolved_webhook", done[0][0] - restarted)


def test_email_alert_reaches_smtp_sink(host):
    mails = wait_for(lambda: [m for m in jsonl(host, "mail.jsonl") if "EndpointDown" in m["data"]], timeout=120)
    assert mails, f"no EndpointDown e-mail at the SMTP sink: {jsonl(host, 'mail.jsonl')}"
    assert mails[0]["to"] == ["<ops@mvp.localhost>"]
    assert "alertmanager@mvp.localhost" in mails[0]["from"]
    assert any("[RESOLVED]" in m["data"] for m in mails), "no resolved e-mail (send_resolved)"


def test_stale_backup_raises_alert(host):
    now = int(host_time(host))
    fresh = "\n".join(
        f'mvp_backup_last_success_timestamp_seconds{{kind="{k}"}} {now}\nmvp_backup_last_status{{kind="{k}"}} 1'
        for k in ("full", "incremental", "files", "offsite")
    )
    prom = f"{TEXTFILE_DIR}/mvp_backup.prom"
    host.run("printf '%%s\\n' %s > %s.tmp && mv %s.tmp %s", fresh, prom, prom, prom)
    assert wait_for(lambda: query(host, 'mvp_backup_last_success_timestamp_seconds{kind="full"}'), 30)
    assert not query(host, 'ALERTS{alertname="BackupStale"}')
    # The last full backup is set back two days.
    stale = fresh.replace(
        f'mvp_backup_last_success_timestamp_seconds{{kind="full"}} {now}',
        f'mvp_backup_last_success_timestamp_seconds{{kind="full"}} {now - 2 * 86400}',
    )
    started = host_time(host)
    host.run("printf '%%s\\n' %s > %s.tmp && mv %s.tmp %s", stale, prom, prom, prom)
    try:

        def arrived():
            return [
                r
                for r in webhook_alerts(host, started)
                if r[1] == "firing" and r[2]["labels"]["alertname"] == "BackupStale"
            ]

        fired = wait_for(arrived, timeout=120)
        assert fired, f"no BackupStale at the webhook: {query(host, 'ALERTS')}"
        assert fired[0][2]["labels"]["kind"] == "full"
        record(host, "stale_backup_to_webhook", fired[0][0] - started)
    finally:
        host.run("rm -f %s", prom)


@pytest.mark.parametrize("unit", ["prometheus", "prometheus-alertmanager", "mvp-container-metrics.timer"])
def test_units_running(host, unit):
    assert host.service(unit).is_running


def test_check_mode_reports_no_change(check_diff_run):
    assert check_diff_run["rc"] == 0, check_diff_run["output"]
    assert not check_diff_run["changed"], check_diff_run["output"]
