"""Shape (c): the app host uses a managed PostgreSQL (a stand-in host) over verified TLS.

The stand-in is Debian's postgresql-17 on its own host with a certificate from its own CA
(prepare.yml); the app host got app_stack_database: external, the URL and that CA.
"""

import json
import os
from pathlib import Path

import testinfra
import yaml

APP = "docker://mvp-ext-app"
PG = "docker://mvp-ext-pg"
PG_ADDRESS = "10.78.0.20"
DOMAIN = "mvp-ext.test"
SCENARIO = Path(__file__).resolve().parents[1]


def run(target: str, cmd: str, *args):
    return testinfra.get_host(target).run(cmd, *args)


def backend_container() -> str:
    names = run(APP, "docker ps --filter label=com.docker.compose.service=backend --format '{{.Names}}'").stdout.split()
    assert len(names) == 1, names
    return names[0]


def test_no_data_project_on_the_app_host():
    projects = run(APP, "docker ps -a --format '{{.Label \"com.docker.compose.project\"}}'").stdout.split()
    assert "mvp-data" not in projects and projects, projects


def test_backend_url_verifies_the_managed_server():
    env = run(APP, "cat /opt/mvp/env/backend.env").stdout
    url = next(line for line in env.splitlines() if line.startswith("DATABASE_URL="))
    assert f"@{PG_ADDRESS}:5432/mvp?" in url
    assert "sslmode=verify-full" in url and "sslrootcert=/run/mvp/db-ca.crt" in url
    ca = run(APP, "cat /opt/mvp/env/db-ca.crt").stdout
    provider_ca = (Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "managed-ca.crt").read_text()
    assert ca.strip() == provider_ca.strip()


def test_health_through_nginx_reports_the_managed_database():
    health = json.loads(run(APP, f"curl -kfsS --resolve {DOMAIN}:443:127.0.0.1 https://{DOMAIN}/api/health").stdout)
    assert health["database"]["status"] == "up", health
    assert health["database"]["version"].startswith("17."), health


def test_every_connection_of_the_app_host_is_encrypted():
    run(APP, f"curl -kfsS --resolve {DOMAIN}:443:127.0.0.1 https://{DOMAIN}/api/health")
    rows = run(
        PG,
        "runuser -u postgres -- psql -X -At -c "
        '"SELECT s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) '
        "WHERE host(a.client_addr) = '10.78.0.11'\"",
    ).stdout.split()
    assert rows and set(rows) == {"t"}, rows


def test_a_server_the_ca_does_not_vouch_for_is_refused():
    """verify-full is real: the same URL checked against the system CAs fails verification."""
    password = yaml.safe_load((SCENARIO / "group_vars/all/main.yml").read_text())["managed_db_password"]
    script = (
        "import sys, psycopg2\n"
        "try:\n"
        "    psycopg2.connect(host=sys.argv[1], dbname='mvp', user='mvp', password=sys.argv[2], connect_timeout=5,\n"
        "                     sslmode='verify-full', sslrootcert='/etc/ssl/certs/ca-certificates.crt')\n"
        "except psycopg2.OperationalError as exc:\n"
        "    print(exc); sys.exit(3)\n"
    )
    result = testinfra.get_host(APP).run(
        f"docker exec -i {backend_container()} python3 -c %s %s %s", script, PG_ADDRESS, password
    )
    assert result.rc == 3, result.stdout + result.stderr
    assert "certificate verify failed" in result.stdout, result.stdout


def test_backups_are_logical_dumps_of_the_managed_database():
    job = json.loads(run(APP, "/usr/local/sbin/mvp-backup dump").stdout)
    # A dump stands alone (kind "full" for retention) in the dump area.
    assert job["status"] == "complete" and job["_path"].startswith("/var/backups/mvp/dump/"), job
    check = run(APP, "/usr/local/sbin/mvp-backup check-backup --id %s", job["id"])
    assert check.rc == 0, check.stdout + check.stderr
    timers = run(APP, "systemctl list-timers --no-legend 'mvp-backup-*'").stdout
    assert "mvp-backup-dump.timer" in timers, timers
    assert "mvp-backup-full.timer" not in timers and "mvp-backup-incremental.timer" not in timers, timers
    metrics = run(APP, "cat /var/lib/prometheus/node-exporter/mvp_backup_dump.prom").stdout
    assert 'mvp_backup_last_status{kind="dump"} 1' in metrics, metrics


def test_check_diff_on_converged_hosts_changes_nothing(check_diff_run):
    assert check_diff_run["rc"] == 0, check_diff_run["output"]
    assert check_diff_run["changed"] == {}, check_diff_run["output"]
