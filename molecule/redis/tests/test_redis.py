"""The redis scenario (issue 8, HOST-3): Redis with a password, its settings, persistence, the
exporter scraped by Prometheus, the Redis backup checked with redis-check-rdb, check/diff stable."""

import json
import os
import re
import subprocess
import time
from pathlib import Path

import yaml

testinfra_hosts = ["ansible://mvp-redis-host"]

SCENARIO = Path(__file__).resolve().parents[1]
CONTAINER = "mvp-redis-redis-1"
# The scenario's test-only password (vault_redis_password in real inventories).
PASSWORD = yaml.safe_load((SCENARIO / "group_vars/all/main.yml").read_text())["vault_redis_password"]


def cli(host, *args, auth=True):
    env = f"REDISCLI_AUTH={PASSWORD} " if auth else ""
    quoted = " ".join(f"'{a}'" for a in args)
    return host.run(f"{env}docker exec -e REDISCLI_AUTH {CONTAINER} redis-cli --no-auth-warning -h 127.0.0.1 {quoted}")


def test_converge_is_stable_in_check_diff_mode(check_diff_run):
    assert check_diff_run["rc"] == 0, check_diff_run["output"]
    assert not check_diff_run["changed"], check_diff_run["output"]
    assert PASSWORD not in check_diff_run["output"]


def test_container_healthy_and_published_on_loopback_only(host):
    fmt = "{{.State.Health.Status}} {{.HostConfig.RestartPolicy.Name}}"
    state = host.check_output("docker inspect -f %s %s", fmt, CONTAINER)
    assert state == "healthy unless-stopped"
    ports = json.loads(host.check_output("docker inspect -f '{{json .HostConfig.PortBindings}}' %s", CONTAINER))
    assert ports == {"6379/tcp": [{"HostIp": "127.0.0.1", "HostPort": "6379"}]}
    memory = int(host.check_output("docker inspect -f '{{.HostConfig.Memory}}' %s", CONTAINER))
    assert memory == 192 * 1024 * 1024
    listeners = host.check_output("ss -Hltn")
    assert "127.0.0.1:6379" in listeners
    assert "0.0.0.0:6379" not in listeners


def test_password_required_and_never_on_a_command_line(host):
    refused = cli(host, "SET", "k", "v", auth=False)
    assert "NOAUTH" in refused.stdout + refused.stderr
    wrong = host.run(
        "REDISCLI_AUTH=wrong-password-123456 docker exec -e REDISCLI_AUTH %s redis-cli --no-auth-warning PING",
        CONTAINER,
    )
    assert "WRONGPASS" in wrong.stdout + wrong.stderr or "invalid" in (wrong.stdout + wrong.stderr).lower()
    assert cli(host, "PING").stdout.strip() == "PONG"
    inspect = host.check_output("docker inspect %s", CONTAINER)
    assert PASSWORD not in inspect
    assert PASSWORD not in host.check_output("ps -eo args")
    assert PASSWORD not in host.check_output("cat /opt/mvp/redis/compose.yml /opt/mvp/redis/conf/redis.conf")
    secret = host.file("/opt/mvp/redis/conf/secret.conf")
    assert secret.mode == 0o600
    assert secret.uid == 999
    assert host.file("/opt/mvp/redis/conf").mode == 0o700


def test_memory_limit_and_eviction_policy_applied(host):
    lines = cli(host, "CONFIG", "GET", "maxmemory*").stdout.split()
    settings = dict(zip(lines[0::2], lines[1::2], strict=False))
    assert settings["maxmemory"] == str(64 * 1024 * 1024)
    assert settings["maxmemory-policy"] == "allkeys-lfu"


def test_persistence_file_written(host):
    assert cli(host, "SET", "mvp:persist", "yes").stdout.strip() == "OK"
    before = int(cli(host, "LASTSAVE").stdout)
    time.sleep(1.1)
    assert "Background saving" in cli(host, "BGSAVE").stdout
    for _ in range(60):
        if int(cli(host, "LASTSAVE").stdout) > before:
            break
        time.sleep(0.5)
    saved = cli(host, "CONFIG", "GET", "save").stdout.splitlines()
    assert saved == ["save", "3600 1 300 100 60 10000"]
    assert host.run("docker exec %s test -s /data/dump.rdb", CONTAINER).rc == 0
    # The data survives a restart of the container.
    host.check_output("docker restart %s", CONTAINER)
    for _ in range(60):
        if cli(host, "GET", "mvp:persist").stdout.strip() == "yes":
            break
        time.sleep(0.5)
    assert cli(host, "GET", "mvp:persist").stdout.strip() == "yes"


def test_backends_reach_redis_on_the_shared_network(host):
    network = json.loads(host.check_output("docker network inspect mvp-redis"))[0]
    assert network["Internal"] is True
    aliases = host.check_output(
        "docker inspect -f '{{json (index .NetworkSettings.Networks \"mvp-redis\").Aliases}}' %s", CONTAINER
    )
    assert "redis" in json.loads(aliases)
    probe = host.run(
        "REDISCLI_AUTH=%s docker run --rm --network mvp-redis -e REDISCLI_AUTH --entrypoint redis-cli local/redis:8 "
        "--no-auth-warning -h redis PING",
        PASSWORD,
    )
    assert probe.stdout.strip() == "PONG", probe.stderr


def test_exporter_answers_and_prometheus_scrapes_it(host):
    exporter = host.service("prometheus-redis-exporter")
    assert exporter.is_running and exporter.is_enabled
    assert host.file("/etc/prometheus/secrets/redis-exporter-password.json").mode == 0o640
    assert PASSWORD not in host.check_output("cat /etc/default/prometheus-redis-exporter")
    metrics = host.check_output("curl -fsS http://127.0.0.1:9121/metrics")
    assert re.search(r"^redis_up 1$", metrics, re.M), metrics[-2000:]
    assert re.search(r"^redis_memory_max_bytes 6.7108864e\+07$", metrics, re.M)
    query = "curl -fsS 'http://127.0.0.1:9090/api/v1/query?query=redis_up%7Bjob%3D%22redis%22%7D'"
    for _ in range(30):
        result = json.loads(host.check_output(query))["data"]["result"]
        if result:
            break
        time.sleep(2)
    assert result and result[0]["value"][1] == "1", result
    rules = json.loads(host.check_output("curl -fsS http://127.0.0.1:9090/api/v1/rules"))
    names = {r["name"] for g in rules["data"]["groups"] for r in g["rules"]}
    assert {"RedisDown", "RedisMemoryNearLimit"} <= names


def test_redis_backup_is_written_checked_and_reported(host):
    timer = host.service("mvp-backup-redis.timer")
    assert timer.is_enabled and timer.is_running
    for job in ("full", "incremental", "verify"):
        assert not host.service(f"mvp-backup-{job}.timer").is_enabled, job
    assert host.file("/etc/mvp-backup/redis-password").mode == 0o600
    cli(host, "SET", "mvp:backup", "present")
    run = host.run("systemctl start mvp-backup-redis.service")
    assert run.rc == 0, host.check_output("journalctl -u mvp-backup-redis.service --no-pager -n 40")
    listing = json.loads(host.check_output("/usr/local/sbin/mvp-backup list"))
    backups = listing["redis"]
    assert backups and backups[-1]["status"] == "complete" and backups[-1]["verified_by"] == "redis-check-rdb"
    latest = backups[-1]["id"]
    bdir = f"/var/backups/mvp/redis/{latest}"
    assert host.file(f"{bdir}/dump.rdb").size > 0
    assert host.run("cd %s && sha256sum -c --quiet SHA256SUMS", bdir).rc == 0
    check = host.run(
        "docker run --rm --network none --entrypoint redis-check-rdb -v %s:/b:ro local/redis:8 /b/dump.rdb", bdir
    )
    assert check.rc == 0 and "RDB looks OK" in check.stdout, check.stdout + check.stderr
    assert host.run("/usr/local/sbin/mvp-backup check-backup --id %s", latest).rc == 0
    metrics = host.check_output("cat /var/lib/prometheus/node-exporter/mvp_backup_redis.prom")
    assert 'mvp_backup_last_status{kind="redis"} 1' in metrics
    assert 'mvp_backup_last_success_timestamp_seconds{kind="redis"}' in metrics
    # Never the password in the journal or the metadata.
    assert PASSWORD not in host.check_output("journalctl -u mvp-backup-redis.service --no-pager")
    assert PASSWORD not in host.check_output("cat %s/backup.json", bdir)


def test_backup_refuses_a_wrong_password(host):
    """A corrupted password file makes the job fail, record the failure and leave no partial backup."""
    host.check_output("cp -a /etc/mvp-backup/redis-password /tmp/rp")
    host.check_output("echo wrong-password-1234567 > /etc/mvp-backup/redis-password")
    try:
        assert host.run("/usr/local/sbin/mvp-backup redis").rc != 0
        metrics = host.check_output("cat /var/lib/prometheus/node-exporter/mvp_backup_redis.prom")
        assert 'mvp_backup_last_status{kind="redis"} 0' in metrics
        leftovers = host.check_output('grep -l \'"running"\\|"failed"\' /var/backups/mvp/redis/*/backup.json || true')
        assert leftovers == ""
    finally:
        host.check_output("cp -a /tmp/rp /etc/mvp-backup/redis-password")
    assert host.run("/usr/local/sbin/mvp-backup redis").rc == 0


def test_config_validation_rejects_a_bad_setting():
    """redis-server itself refuses a bad directive before it reaches the running container."""
    proc = subprocess.run(
        [
            "ansible-playbook",
            "-i",
            os.environ["MOLECULE_INVENTORY_FILE"],
            str(SCENARIO / "converge.yml"),
            "--tags",
            "redis",
            "-e",
            '{"redis_extra_settings": {"hz": "not-a-number"}}',
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1"},
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert "failed to validate" in out, out[-3000:]
    assert "hz" in out, out[-3000:]
    assert PASSWORD not in out
