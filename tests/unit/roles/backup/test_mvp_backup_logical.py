# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of the host job ``roles/backup/files/mvp-backup.py``: logical dumps of a managed
PostgreSQL (URL parsing, sslmode, secrets never in argv) and the Redis backup's BGSAVE wait.

Docker is replaced by a fake ``docker`` executable that records its arguments and the PG*/REDIS*
variables it was given, and answers like the real commands would.
"""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[4]
SCRIPT = REPO / "roles" / "backup" / "files" / "mvp-backup.py"


@pytest.fixture(scope="module")
def mb():
    """The job script as a module (its _retention import resolved from plugins/module_utils)."""
    sys.path.insert(0, str(REPO / "plugins" / "module_utils"))
    try:
        spec = importlib.util.spec_from_file_location("mvp_backup_under_test", SCRIPT)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(REPO / "plugins" / "module_utils"))
    return module


# ------------------------------------------------------------------------------------------------
# database_env
# ------------------------------------------------------------------------------------------------


def test_database_env_from_a_full_url(mb):
    env, ignored = mb.database_env(
        "postgresql://app%40user:p%2Fss%3Aw0rd@db.example.net:6432/mvp_prod?sslmode=verify-full"
        "&connect_timeout=7&application_name=mvp&schema=public&connection_limit=5"
    )
    assert env == {
        "PGHOST": "db.example.net",
        "PGPORT": "6432",
        "PGDATABASE": "mvp_prod",
        "PGUSER": "app@user",
        "PGPASSWORD": "p/ss:w0rd",
        "PGSSLMODE": "verify-full",
        "PGSSLROOTCERT": mb.CA_IN_CONTAINER,
        "PGCONNECT_TIMEOUT": "7",
        "PGAPPNAME": "mvp",
    }
    assert ignored == ["connection_limit", "schema"]


def test_database_env_defaults_port_and_forces_verify_full(mb):
    env, ignored = mb.database_env("postgres://u:pw@10.0.0.5/mvp\n")
    assert env["PGPORT"] == "5432"
    assert env["PGSSLMODE"] == "verify-full"
    assert env["PGHOST"] == "10.0.0.5"
    assert ignored == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://u:pw@db:5432/mvp?sslmode=require", "sslmode=require"),
        ("postgresql://u:pw@db:5432/mvp?sslmode=disable", "verify-full only"),
        ("mysql://u:pw@db:3306/mvp", "must start with postgresql://"),
        ("postgresql://u:pw@db:5432/", "names no database"),
        ("postgresql://u:pw@db:5432", "names no database"),
        ("postgresql:///mvp", "names no host"),
        ("postgresql://u:pw@db:99999/mvp", "malformed"),
    ],
)
def test_database_env_refuses(mb, url, message):
    with pytest.raises(mb.JobError, match=message) as exc:
        mb.database_env(url)
    assert "pw@" not in str(exc.value)


# ------------------------------------------------------------------------------------------------
# Configuration and mode guards
# ------------------------------------------------------------------------------------------------


def config(tmp_path: Path, mode: str = "logical", redis: dict | None = None) -> dict:
    (tmp_path / "database-url").write_text("postgresql://app:s3cret-pw@db.example.net:5432/mvp\n")
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    (tmp_path / "redis-password").write_text("rd-unit-password-0123456789\n")
    return {
        "host": "unit",
        "root": str(tmp_path / "backups"),
        "docker": str(tmp_path / "docker"),
        "metrics_dir": str(tmp_path / "metrics"),
        "state_file": str(tmp_path / "state.json"),
        "lock_file": str(tmp_path / "lock"),
        "db": {
            "container": "mvp-data-postgres-1",
            "user": "mvp",
            "database": "mvp",
            "staging": "/var/lib/postgresql/mvp-backup-staging",
            "retention": {"keep_within": "7d"},
            "mode": mode,
            "logical": {
                "url_file": str(tmp_path / "database-url"),
                "ca_file": str(tmp_path / "ca.pem"),
                "image": "local/postgres:17",
                "network": "bridge",
                "timeout": 60,
            },
        },
        "files": {"enabled": False, "volumes": [], "retention": {"keep_within": "7d"}},
        "redis": redis
        or {
            "enabled": True,
            "container": "mvp-redis-redis-1",
            "password_file": str(tmp_path / "redis-password"),
            "image": "local/redis:8",
            "bgsave_timeout": 5,
            "timeout": 60,
            "retention": {"keep_within": "7d"},
        },
        "offsite": {"enabled": False, "retention_db": {"keep_within": "30d"}, "retention_files": {}},
        "verify": {"image": "local/postgres:17", "queries": []},
    }


def test_check_config_accepts_logical_mode_and_redis(mb, tmp_path):
    assert mb.check_config(mb.Config(config(tmp_path))) == {"config": "ok"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["db"].update(mode="snapshot"), "db.mode must be physical or logical"),
        (lambda c: c["db"]["logical"].update(url_file=""), "db.logical.url_file is empty"),
        (lambda c: c["db"]["logical"].update(image=""), "db.logical.image is empty"),
        (lambda c: c["redis"].update(container=""), "redis.container is empty"),
        (lambda c: c["redis"].update(retention={"keep_within": "7x"}), "invalid retention policy"),
    ],
)
def test_check_config_refuses(mb, tmp_path, change, message):
    data = config(tmp_path)
    change(data)
    with pytest.raises(mb.JobError, match=message):
        mb.check_config(mb.Config(data))


def test_physical_commands_refused_in_logical_mode(mb, tmp_path):
    cfg = mb.Config(config(tmp_path))
    with pytest.raises(mb.JobError, match=r"docs/restore-runbook\.md"):
        mb.prepare_restore(cfg, "latest", "local", None, force=False)
    with pytest.raises(mb.JobError, match="backup_database_mode=logical"):
        mb.verify(cfg, "latest", "local", None)


def test_dump_refused_in_physical_mode(mb, tmp_path):
    data = config(tmp_path, mode="physical")
    cfg = mb.Config(data)
    job = mb.Job(cfg, mb._parser().parse_args(["dump"]))
    with pytest.raises(mb.JobError, match="database mode logical only"):
        job.dump()


# ------------------------------------------------------------------------------------------------
# logical_dump with a fake docker
# ------------------------------------------------------------------------------------------------

FAKE_DOCKER = """#!{python}
import json, os, sys
log = os.path.join(os.path.dirname(os.path.abspath(__file__)), "docker.log")
with open(log, "a") as fh:
    fh.write(json.dumps({{"argv": sys.argv[1:], "env": {{k: v for k, v in os.environ.items()
                        if k.startswith(("PG", "REDISCLI"))}}}}) + "\\n")
args = sys.argv[1:]
if "pg_dump" in args:
    if os.environ.get("FAKE_FAIL"):
        sys.stderr.write("pg_dump: error: connection failed: certificate verify failed\\n")
        sys.exit(1)
    sys.stdout.buffer.write(b"PGDMP-fake-archive")
elif "pg_restore" in args:
    print(";\\n; Archive created at 2026-11-26\\n; Dumped from database version: 17.6\\n;")
    print("215; 1259 16385 TABLE public items mvp")
    print("3350; 0 16385 TABLE DATA public items mvp")
"""


@pytest.fixture
def fake_docker(tmp_path):
    path = tmp_path / "docker"
    path.write_text(FAKE_DOCKER.format(python=sys.executable))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return tmp_path / "docker.log"


def test_logical_dump_runs_pg_dump_with_verify_full_and_no_secret_in_argv(mb, tmp_path, fake_docker, monkeypatch):
    monkeypatch.delenv("FAKE_FAIL", raising=False)
    cfg = mb.Config(config(tmp_path))
    meta = mb.logical_dump(cfg)
    assert meta["status"] == "complete"
    assert meta["pg_version"] == "17.6"
    assert meta["toc_entries"] == 2
    assert meta["sslmode"] == "verify-full"
    assert meta["server"] == "db.example.net:5432"
    bdir = Path(meta["_path"])
    assert (bdir / "dump.pgc").read_bytes() == b"PGDMP-fake-archive"
    assert mb.check_sums(bdir, json.loads((bdir / "backup.json").read_text())) == []
    calls = [json.loads(line) for line in fake_docker.read_text().splitlines()]
    dump = next(c for c in calls if "pg_dump" in c["argv"])
    argv = " ".join(dump["argv"])
    assert "s3cret-pw" not in argv
    assert "--network bridge" in argv
    assert f"{tmp_path / 'ca.pem'}:{mb.CA_IN_CONTAINER}:ro" in dump["argv"]
    assert dump["env"]["PGPASSWORD"] == "s3cret-pw"
    assert dump["env"]["PGSSLMODE"] == "verify-full"
    assert dump["env"]["PGSSLROOTCERT"] == mb.CA_IN_CONTAINER
    for name in ("PGHOST", "PGPASSWORD", "PGSSLMODE", "PGSSLROOTCERT"):
        assert name in dump["argv"]
    check = next(c for c in calls if "pg_restore" in c["argv"])
    assert "none" in check["argv"] and "PGPASSWORD" not in check["env"]
    assert "s3cret-pw" not in (bdir / "backup.json").read_text()


def test_logical_dump_failure_leaves_nothing_behind(mb, tmp_path, fake_docker, monkeypatch):
    monkeypatch.setenv("FAKE_FAIL", "1")
    cfg = mb.Config(config(tmp_path))
    with pytest.raises(mb.JobError, match="certificate verify failed"):
        mb.logical_dump(cfg)
    assert not any(p for p in cfg.dump_dir.iterdir() if not p.name.startswith("."))


def test_dump_job_records_metrics_and_rotates(mb, tmp_path, fake_docker, monkeypatch):
    monkeypatch.delenv("FAKE_FAIL", raising=False)
    data = config(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(data))
    assert mb.main(["--config", str(tmp_path / "config.json"), "dump"]) == 0
    prom = (tmp_path / "metrics" / "mvp_backup_dump.prom").read_text()
    assert 'mvp_backup_last_status{kind="dump"} 1' in prom
    assert 'mvp_backup_last_success_timestamp_seconds{kind="dump"}' in prom
    monkeypatch.setenv("FAKE_FAIL", "1")
    assert mb.main(["--config", str(tmp_path / "config.json"), "dump"]) == 1
    prom = (tmp_path / "metrics" / "mvp_backup_dump.prom").read_text()
    assert 'mvp_backup_last_status{kind="dump"} 0' in prom


# ------------------------------------------------------------------------------------------------
# Redis: the BGSAVE wait
# ------------------------------------------------------------------------------------------------


class FakeCli:
    """Answers like redis-cli: LASTSAVE moves after a few polls; INFO persistence reports the save."""

    def __init__(self, polls_until_saved: int = 3, status: str = "ok", now: int = 1_800_000_000) -> None:
        self.polls = polls_until_saved
        self.status = status
        self.now = now
        self.commands: list = []

    def __call__(self, *args) -> str:
        self.commands.append(args)
        if args[0] == "LASTSAVE":
            saved = sum(1 for c in self.commands if c[0] == "LASTSAVE") > self.polls
            return str(self.now + 5 if saved else self.now - 100)
        if args[0] == "TIME":
            return f"{self.now}\n123"
        if args[0] == "BGSAVE":
            return "Background saving started"
        raise AssertionError(args)

    def info(self, section: str) -> dict:
        assert section == "persistence"
        saving = sum(1 for c in self.commands if c[0] == "LASTSAVE") <= self.polls
        return {"rdb_bgsave_in_progress": "1" if saving else "0", "rdb_last_bgsave_status": self.status}


def test_bgsave_waits_for_lastsave_to_change(mb, monkeypatch):
    monkeypatch.setattr(mb.time, "sleep", lambda _s: None)
    cli = FakeCli(polls_until_saved=3)
    assert mb._bgsave(cli, timeout=30) == cli.now + 5
    assert ("BGSAVE", "SCHEDULE") in cli.commands
    assert sum(1 for c in cli.commands if c[0] == "LASTSAVE") >= 4


def test_bgsave_reports_a_failed_save(mb, monkeypatch):
    monkeypatch.setattr(mb.time, "sleep", lambda _s: None)
    with pytest.raises(mb.JobError, match="rdb_last_bgsave_status=err"):
        mb._bgsave(FakeCli(polls_until_saved=1, status="err"), timeout=30)


def test_bgsave_times_out(mb, monkeypatch):
    monkeypatch.setattr(mb.time, "sleep", lambda _s: None)
    with pytest.raises(mb.JobError, match="did not finish within 0s"):
        mb._bgsave(FakeCli(polls_until_saved=10**6), timeout=0)


def test_redis_cli_passes_the_password_by_environment_only(mb, tmp_path, fake_docker):
    cfg = mb.Config(config(tmp_path))
    cli = mb.RedisCli(cfg)
    cli("PING")
    call = json.loads(fake_docker.read_text().splitlines()[-1])
    assert "rd-unit-password-0123456789" not in " ".join(call["argv"])
    assert call["argv"][:4] == ["exec", "-e", "REDISCLI_AUTH", "mvp-redis-redis-1"]
    assert call["env"]["REDISCLI_AUTH"] == "rd-unit-password-0123456789"
    assert os.environ.get("REDISCLI_AUTH") is None
