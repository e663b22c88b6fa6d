# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""mvp_backup.postgres: chain decisions and the base backup written straight to the host."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import docker_calls, make_config, write_backup
from mvp_backup import postgres, store
from mvp_backup.common import JobError
from mvp_backup.config import Config

INFO = {
    "pg_version": "17.6",
    "pg_version_num": 170006,
    "system_identifier": "7000",
    "timeline": 1,
    "summarize_wal": "on",
}


@pytest.fixture
def cfg(tmp_path, fake_docker, monkeypatch):
    monkeypatch.setenv("FAKE_EXEC_OUT", "17.6|170006|7000|1|on")
    for name in ("FAKE_INCR_FAIL", "FAKE_BASEBACKUP_FAIL", "FAKE_VERIFY_FAIL"):
        monkeypatch.delenv(name, raising=False)
    data = make_config(tmp_path)
    (tmp_path / "pg-password").write_text("pg-secret-pw\n")
    data["db"]["password_file"] = str(tmp_path / "pg-password")
    return Config(data)


def test_chain_problem_reasons(cfg):
    cfg.db_dir.mkdir(parents=True)
    parent = store.local_backups(cfg.db_dir).get("x")
    assert postgres.chain_problem(cfg, INFO, parent) == "no complete backup to take an incremental against"
    bdir = write_backup(cfg.db_dir, "20261201T021500Z-full", system_identifier="7000", timeline=1)
    parent = store.local_backups(cfg.db_dir)["20261201T021500Z-full"]
    assert postgres.chain_problem(cfg, INFO, parent) is None
    assert "summarize_wal is off" in postgres.chain_problem(cfg, {**INFO, "summarize_wal": "off"}, parent)
    assert "of another cluster" in postgres.chain_problem(cfg, {**INFO, "system_identifier": "1"}, parent)
    assert "is on timeline 1" in postgres.chain_problem(cfg, {**INFO, "timeline": 2}, parent)
    (bdir / "data" / "backup_manifest").unlink()
    assert "has no manifest" in postgres.chain_problem(cfg, INFO, parent)
    (cfg.root / ".force-full").write_text("a restore replaced the data of mvp-pgdata at X\n")
    assert postgres.chain_problem(cfg, INFO, parent) == "a restore replaced the data of mvp-pgdata at X"


def test_choose_parent(cfg):
    assert postgres.choose_parent(cfg, INFO, "full") == ("full", None, "requested")
    kind, parent, reason = postgres.choose_parent(cfg, INFO, "incremental")
    assert (kind, parent) == ("full", None) and reason.startswith("chain broken: no complete backup")
    write_backup(cfg.db_dir, "20261201T021500Z-full", system_identifier="7000", timeline=1)
    kind, parent, reason = postgres.choose_parent(cfg, INFO, "incremental")
    assert (kind, parent["id"], reason) == ("incremental", "20261201T021500Z-full", "scheduled")


def test_basebackup_runs_in_a_sidecar_into_the_backup_directory(cfg, tmp_path):
    parent = {"_path": str(tmp_path / "p")}
    argv = postgres.basebackup_argv(cfg, postgres.Db(cfg), tmp_path / "b", "mvp-backup b", parent)
    text = " ".join(argv)
    assert "--network container:mvp-data-postgres-1" in text
    assert f"-v {tmp_path / 'b'}:/backup " in text
    assert f"{tmp_path / 'p' / 'data' / 'backup_manifest'}:/parent/backup_manifest:ro" in text
    assert "-h 127.0.0.1" in text and "-D /backup/data -X stream" in text
    assert argv[-1] == "--incremental=/parent/backup_manifest"
    assert "-e PGPASSWORD" in text and "pg-secret-pw" not in text


def test_full_then_incremental(cfg, fake_docker):
    full = postgres.db_backup(cfg, "full")
    assert full["kind"] == "full" and full["status"] == "complete" and full["parent"] is None
    assert full["checksums"]["manifest_checksum"] == "f00d"
    assert set(full["timings"]) == {"pg_basebackup", "pg_verifybackup", "sha256sums"}
    incr = postgres.db_backup(cfg, "incremental")
    assert incr["kind"] == "incremental" and incr["parent"] == full["id"]
    stored = json.loads((Path(incr["_path"]) / "backup.json").read_text())
    assert stored["wal_ranges"] == [{"Timeline": 1, "Start-LSN": "0/2000028"}]
    basebackups = [c for c in docker_calls(fake_docker) if "pg_basebackup" in c["argv"]]
    assert all(c["env"].get("PGPASSWORD") == "pg-secret-pw" for c in basebackups)
    assert all("pg-secret-pw" not in " ".join(c["argv"]) for c in basebackups)


def test_refused_incremental_becomes_a_full(cfg, monkeypatch):
    postgres.db_backup(cfg, "full")
    monkeypatch.setenv("FAKE_INCR_FAIL", "1")
    meta = postgres.db_backup(cfg, "incremental")
    assert meta["kind"] == "full" and meta["id"].endswith("-full") and "WAL summaries" in meta["reason"]
    assert Path(meta["_path"]).name == meta["id"]


def test_failed_backup_leaves_nothing(cfg, monkeypatch):
    monkeypatch.setenv("FAKE_BASEBACKUP_FAIL", "1")
    with pytest.raises(JobError, match="connection refused"):
        postgres.db_backup(cfg, "full")
    assert store.local_backups(cfg.db_dir) == {}
    monkeypatch.delenv("FAKE_BASEBACKUP_FAIL")
    monkeypatch.setenv("FAKE_VERIFY_FAIL", "1")
    with pytest.raises(JobError, match="pg_verifybackup"):
        postgres.db_backup(cfg, "full")
    assert store.local_backups(cfg.db_dir) == {}


def test_a_full_clears_the_force_full_marker(cfg):
    cfg.root.mkdir(parents=True)
    (cfg.root / ".force-full").write_text("restored\n")
    assert postgres.db_backup(cfg, "incremental")["reason"] == "chain broken: restored"
    assert not (cfg.root / ".force-full").exists()


def test_missing_password_file_is_named(cfg, tmp_path):
    (tmp_path / "pg-password").unlink()
    with pytest.raises(JobError, match="cannot read the database password"):
        postgres.db_backup(cfg, "full")
