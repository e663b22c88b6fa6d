# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""mvp_backup.dump: logical dumps of a managed PostgreSQL (URL parsing, sslmode, secrets never in
argv, metrics) with the fake docker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import docker_calls, make_config
from mvp_backup import cli, dump
from mvp_backup.common import JobError
from mvp_backup.config import Config
from mvp_backup.sums import check_sums


def config(tmp_path):
    return make_config(tmp_path, mode="logical")


def test_database_env_from_a_full_url():
    env, ignored = dump.database_env(
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
        "PGSSLROOTCERT": dump.CA_IN_CONTAINER,
        "PGCONNECT_TIMEOUT": "7",
        "PGAPPNAME": "mvp",
    }
    assert ignored == ["connection_limit", "schema"]


def test_database_env_defaults_port_and_forces_verify_full():
    env, ignored = dump.database_env("postgres://u:pw@10.0.0.5/mvp\n")
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
def test_database_env_refuses(url, message):
    with pytest.raises(JobError, match=message) as exc:
        dump.database_env(url)
    assert "pw@" not in str(exc.value)


def test_logical_dump_runs_pg_dump_with_verify_full_and_no_secret_in_argv(tmp_path, fake_docker, monkeypatch):
    monkeypatch.delenv("FAKE_FAIL", raising=False)
    cfg = Config(config(tmp_path))
    meta = dump.logical_dump(cfg)
    assert meta["status"] == "complete"
    assert meta["pg_version"] == "17.6"
    assert meta["toc_entries"] == 2
    assert meta["sslmode"] == "verify-full"
    assert meta["server"] == "db.example.net:5432"
    bdir = Path(meta["_path"])
    assert (bdir / "dump.pgc").read_bytes() == b"PGDMP-fake-archive"
    assert check_sums(bdir, json.loads((bdir / "backup.json").read_text())) == []
    calls = docker_calls(fake_docker)
    call = next(c for c in calls if "pg_dump" in c["argv"])
    argv = " ".join(call["argv"])
    assert "s3cret-pw" not in argv
    assert "--network bridge" in argv
    assert f"{tmp_path / 'ca.pem'}:{dump.CA_IN_CONTAINER}:ro" in call["argv"]
    assert call["env"]["PGPASSWORD"] == "s3cret-pw"
    assert call["env"]["PGSSLMODE"] == "verify-full"
    assert call["env"]["PGSSLROOTCERT"] == dump.CA_IN_CONTAINER
    for name in ("PGHOST", "PGPASSWORD", "PGSSLMODE", "PGSSLROOTCERT"):
        assert name in call["argv"]
    check = next(c for c in calls if "pg_restore" in c["argv"])
    assert "none" in check["argv"] and "PGPASSWORD" not in check["env"]
    assert "s3cret-pw" not in (bdir / "backup.json").read_text()


def test_logical_dump_failure_leaves_nothing_behind(tmp_path, fake_docker, monkeypatch):
    monkeypatch.setenv("FAKE_FAIL", "1")
    cfg = Config(config(tmp_path))
    with pytest.raises(JobError, match="certificate verify failed"):
        dump.logical_dump(cfg)
    assert not any(p for p in cfg.dump_dir.iterdir() if not p.name.startswith("."))


def test_dump_job_records_metrics_and_rotates(tmp_path, fake_docker, monkeypatch):
    monkeypatch.delenv("FAKE_FAIL", raising=False)
    data = config(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(data))
    assert cli.main(["--config", str(tmp_path / "config.json"), "dump"]) == 0
    prom = (tmp_path / "metrics" / "mvp_backup_dump.prom").read_text()
    assert 'mvp_backup_last_status{kind="dump"} 1' in prom
    assert 'mvp_backup_last_success_timestamp_seconds{kind="dump"}' in prom
    monkeypatch.setenv("FAKE_FAIL", "1")
    assert cli.main(["--config", str(tmp_path / "config.json"), "dump"]) == 1
    prom = (tmp_path / "metrics" / "mvp_backup_dump.prom").read_text()
    assert 'mvp_backup_last_status{kind="dump"} 0' in prom
