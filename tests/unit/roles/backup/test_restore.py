# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""mvp_backup.restore: resolve, prepare_restore (checksums, pg_verifybackup, combine) and swap_volume."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import make_config, write_backup
from mvp_backup import restore
from mvp_backup.common import JobError
from mvp_backup.config import Config
from mvp_backup.files import files_backup
from mvp_backup.offsite import backup_tags

FULL, INCR1, INCR2 = "20261201T021500Z-full", "20261201T081500Z-incr", "20261201T141500Z-incr"


@pytest.fixture
def cfg(tmp_path, fake_docker, monkeypatch):
    monkeypatch.delenv("FAKE_VERIFY_FAIL", raising=False)
    monkeypatch.delenv("FAKE_BUSY", raising=False)
    c = Config(make_config(tmp_path))
    write_backup(c.db_dir, FULL)
    write_backup(c.db_dir, INCR1, "incremental", FULL)
    write_backup(c.db_dir, INCR2, "incremental", INCR1)
    return c


def test_resolve(cfg):
    backups = restore.catalogue(cfg, "local", None)[0]
    assert restore.resolve(backups, "latest", "database") == INCR2
    assert restore.resolve(backups, INCR1, "database") == INCR1
    with pytest.raises(JobError, match="is not of the form"):
        restore.resolve(backups, "yesterday", "database")
    with pytest.raises(JobError, match=r"unknown database backup id .*newest known: .*20261201T141500Z-incr"):
        restore.resolve(backups, "20261111T000000Z-full", "database")
    with pytest.raises(JobError, match="there is no complete files backup to restore"):
        restore.resolve({}, "latest", "files")


def test_offsite_needs_the_offsite_copy(cfg):
    with pytest.raises(JobError, match="off-site copy is not configured"):
        restore.catalogue(cfg, "offsite", None)


def test_prepare_restore_combines_the_chain(cfg):
    result = restore.prepare_restore(cfg, "latest", "local", None, force=False)
    assert result["chain"] == [FULL, INCR1, INCR2] and result["verified"] and result["problems"] == {}
    combined = Path(result["staging"])
    assert {p.name for p in combined.iterdir()} >= {f"file-of-{FULL}", f"file-of-{INCR1}", f"file-of-{INCR2}"}
    assert not (combined / "backup_manifest").exists()
    assert combined.stat().st_mode & 0o777 == 0o700
    assert json.loads((cfg.restore_dir / "db" / "prepared.json").read_text())["id"] == INCR2
    earlier = restore.prepare_restore(cfg, INCR1, "local", None, force=False)
    assert earlier["chain"] == [FULL, INCR1]
    assert not (Path(earlier["staging"]) / f"file-of-{INCR2}").exists()


def test_prepare_restore_refuses_a_damaged_chain_unless_forced(cfg):
    (cfg.db_dir / INCR1 / "data" / "PG_VERSION").write_text("16\n")
    with pytest.raises(JobError, match=r"failed verification, refusing to restore it \(force_restore=yes overrides\)"):
        restore.prepare_restore(cfg, "latest", "local", None, force=False)
    forced = restore.prepare_restore(cfg, "latest", "local", None, force=True)
    assert not forced["verified"] and forced["problems"][INCR1] == ["checksum mismatch in data/PG_VERSION"]


def test_prepare_restore_reports_pg_verifybackup(cfg, monkeypatch):
    monkeypatch.setenv("FAKE_VERIFY_FAIL", "1")
    with pytest.raises(JobError, match="pg_verifybackup"):
        restore.prepare_restore(cfg, "latest", "local", None, force=False)


def test_prepare_restore_names_a_broken_chain(cfg):
    (cfg.db_dir / INCR1 / "backup.json").unlink()
    with pytest.raises(JobError, match=f"needs {INCR1}, which is missing: the chain is broken"):
        restore.prepare_restore(cfg, "latest", "local", None, force=False)


def test_prepare_restore_refused_in_logical_mode(tmp_path, fake_docker):
    c = Config(make_config(tmp_path, mode="logical"))
    with pytest.raises(JobError, match=r"docs/restore-runbook\.md"):
        restore.prepare_restore(c, "latest", "local", None, force=False)
    with pytest.raises(JobError, match="backup_database_mode=logical"):
        restore.verify(c, "latest", "local", None)


def _volume(tmp_path, name, files):
    path = tmp_path / "volumes" / name
    path.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        (path / rel).write_text(text)
    return path


def test_swap_volume_keeps_the_replaced_data(cfg, tmp_path):
    live = _volume(tmp_path, "mvp-pgdata", {"PG_VERSION": "17\n", "old-row": "old"})
    os.chmod(live, 0o755)  # noqa: S103 (a volume root as Docker creates it)
    staged = cfg.restore_dir / "db" / "combined"
    staged.mkdir(parents=True)
    (staged / "PG_VERSION").write_text("17\n")
    (staged / "new-row").write_text("new")
    os.chmod(staged, 0o700)
    result = restore.swap_volume(cfg, "mvp-pgdata", str(staged), "mvp-pgdata-replaced-x", labels=[], force_full=True)
    assert result == {"volume": "mvp-pgdata", "replaced_volume": "mvp-pgdata-replaced-x", "mountpoint": str(live)}
    assert sorted(p.name for p in live.iterdir()) == ["PG_VERSION", "new-row"]
    assert live.stat().st_mode & 0o777 == 0o700
    kept = tmp_path / "volumes" / "mvp-pgdata-replaced-x"
    assert sorted(p.name for p in kept.iterdir()) == ["PG_VERSION", "old-row"]
    assert kept.stat().st_mode & 0o777 == 0o755
    assert not staged.exists()
    assert "a restore replaced the data of mvp-pgdata" in (cfg.root / ".force-full").read_text()
    # The undo is the same command the other way round.
    back = restore.swap_volume(cfg, "mvp-pgdata", str(kept), "mvp-pgdata-replaced-y", labels=[], force_full=False)
    assert sorted(p.name for p in live.iterdir()) == ["PG_VERSION", "old-row"] and back["replaced_volume"]


def test_swap_volume_into_a_missing_or_empty_volume(cfg, tmp_path):
    staged = tmp_path / "staged"
    staged.mkdir()
    (staged / "a").write_text("a")
    result = restore.swap_volume(
        cfg, "mvp-uploads", str(staged), "keep", labels=["mvp.platform=data"], force_full=False
    )
    assert result["replaced_volume"] is None
    assert (tmp_path / "volumes" / "mvp-uploads" / "a").read_text() == "a"
    assert staged.exists()  # outside the restore directory: left where it is
    assert not (cfg.root / ".force-full").exists()


def test_swap_volume_refusals(cfg, tmp_path, monkeypatch):
    with pytest.raises(JobError, match=r"nothing staged at .*: run the prepare step first"):
        restore.swap_volume(cfg, "mvp-pgdata", str(tmp_path / "none"), "k", labels=[], force_full=False)
    staged = tmp_path / "staged"
    staged.mkdir()
    _volume(tmp_path, "mvp-pgdata", {"x": "x"})
    monkeypatch.setenv("FAKE_BUSY", "abc123")
    with pytest.raises(JobError, match=r"still used by running container\(s\) abc123: stop them first"):
        restore.swap_volume(cfg, "mvp-pgdata", str(staged), "k", labels=[], force_full=False)
    assert (tmp_path / "volumes" / "mvp-pgdata" / "x").exists()


def test_files_restore_extracts_each_volume(cfg, tmp_path):
    _volume(tmp_path, "mvp-uploads", {"avatar.png": "png"})
    meta = files_backup(cfg)
    result = restore.prepare_files_restore(cfg, "latest", "local", None, force=False)
    assert result["id"] == meta["id"] and result["verified"]
    assert (Path(result["volumes"]["mvp-uploads"]) / "avatar.png").read_text() == "png"
    tar = cfg.files_dir / meta["id"] / "mvp-uploads.tar"
    tar.write_bytes(tar.read_bytes()[:-10] + b"x" * 10)
    with pytest.raises(JobError, match="failed verification, refusing"):
        restore.prepare_files_restore(cfg, "latest", "local", None, force=False)


def test_combine_script():
    assert restore.combine_script(["/chain/0/data"], True).startswith("set -e; cp -a /chain/0/data /work/combined;")
    two = restore.combine_script(["/chain/0/data", "/chain/1/data"], False)
    assert "pg_combinebackup -o /work/combined /chain/0/data /chain/1/data;" in two
    assert "pg_verifybackup" not in two


def test_offsite_files_backups_resolve_to_the_newest():
    """The off-site files catalogue (restic snapshots by their tags) yields restorable entries."""

    def snapshot(backup_id, start):
        meta = {"id": backup_id, "kind": "full", "start": start}
        return {"id": backup_id[:8], "time": start, "paths": ["/x"], "tags": backup_tags("mvp-files", meta)}

    found = restore.files_entries(
        [
            snapshot("20261201T021500Z-files", "2026-12-01T02:15:00Z"),
            snapshot("20261202T021500Z-files", "2026-12-02T02:15:00Z"),
            {"id": "untagged", "tags": ["mvp-files"]},
        ]
    )
    assert sorted(found) == ["20261201T021500Z-files", "20261202T021500Z-files"]
    assert restore.resolve(found, "latest", "files") == "20261202T021500Z-files"
    assert restore.resolve(found, "20261201T021500Z-files", "files") == "20261201T021500Z-files"
