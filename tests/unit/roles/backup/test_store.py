# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""mvp_backup.store: local backups, chains (the retention library's model) and the life cycle."""

from __future__ import annotations

import json

import _retention
import pytest
from conftest import write_backup
from mvp_backup import store
from mvp_backup.common import JobError


@pytest.fixture
def db_dir(tmp_path):
    root = tmp_path / "db"
    root.mkdir()
    write_backup(root, "20261201T021500Z-full")
    write_backup(root, "20261201T081500Z-incr", "incremental", "20261201T021500Z-full")
    write_backup(root, "20261201T141500Z-incr", "incremental", "20261201T081500Z-incr")
    return root


def test_local_backups_skip_hidden_symlinks_and_unreadable(db_dir):
    (db_dir / ".20261130T000000Z-full.removing").mkdir()
    (db_dir / "junk").mkdir()
    (db_dir / "link").symlink_to(db_dir / "20261201T021500Z-full")
    found = store.local_backups(db_dir)
    assert sorted(found) == ["20261201T021500Z-full", "20261201T081500Z-incr", "20261201T141500Z-incr"]
    assert found["20261201T021500Z-full"]["_path"] == str(db_dir / "20261201T021500Z-full")
    assert store.local_backups(db_dir / "absent") == {}


def test_chain_of_walks_to_the_full(db_dir):
    backups = store.local_backups(db_dir)
    chain = store.chain_of(backups, "20261201T141500Z-incr")
    assert [m["id"] for m in chain] == ["20261201T021500Z-full", "20261201T081500Z-incr", "20261201T141500Z-incr"]
    assert store.newest_complete(backups)["id"] == "20261201T141500Z-incr"


@pytest.mark.parametrize(
    ("change", "target", "message"),
    [
        (
            lambda b: b.pop("20261201T081500Z-incr"),
            "20261201T141500Z-incr",
            "needs 20261201T081500Z-incr, which is missing",
        ),
        (
            lambda b: b["20261201T081500Z-incr"].update(status="failed"),
            "20261201T141500Z-incr",
            "is failed, not complete",
        ),
        (
            lambda b: b["20261201T141500Z-incr"].update(status="running"),
            "20261201T141500Z-incr",
            "is running, not complete",
        ),
        (
            lambda b: b["20261201T021500Z-full"].update(kind="incremental", parent="20261201T141500Z-incr"),
            "20261201T141500Z-incr",
            "loops at",
        ),
        (lambda b: b["20261201T081500Z-incr"].update(parent=None), "20261201T141500Z-incr", "has no parent"),
        (lambda b: None, "20261231T000000Z-full", "unknown backup id"),
    ],
)
def test_chain_of_names_what_breaks_the_chain(db_dir, change, target, message):
    backups = store.local_backups(db_dir)
    change(backups)
    with pytest.raises(JobError, match=message):
        store.chain_of(backups, target)


def test_chain_model_is_the_retention_librarys(db_dir):
    """The job and retention agree on which backups are restorable: both use walk_chain."""
    backups = store.local_backups(db_dir)
    backups.pop("20261201T081500Z-incr")
    by_id = store.model(backups)
    assert isinstance(by_id["20261201T141500Z-incr"], _retention.Backup)
    _chain, brk = _retention.walk_chain(by_id["20261201T141500Z-incr"], by_id)
    assert brk == _retention.ChainBreak("missing", "20261201T081500Z-incr", "20261201T141500Z-incr")
    plan = _retention.plan_retention(list(by_id.values()))
    assert "orphan" not in json.dumps(plan.kept)  # the newest is kept although unusable, and says so
    assert any("unusable" in r for _i, reasons in plan.kept for r in reasons)


def test_start_finish_and_failure(tmp_path):
    directory = tmp_path / "files"
    store.kind_dir(directory)
    assert directory.stat().st_mode & 0o777 == 0o700
    bdir, meta = store.start_backup(directory, "files", type="files")
    assert meta["status"] == "running" and meta["kind"] == "full" and meta["parent"] is None
    (bdir / "v.tar").write_bytes(b"tar")
    store.finish_backup(bdir, meta, ["v.tar"])
    stored = json.loads((bdir / "backup.json").read_text())
    assert stored["status"] == "complete" and stored["size"] >= 3
    assert stored["checksums"]["sums_file"] == "SHA256SUMS"
    bdir2, meta2 = store.start_backup(directory, "dump", timings={})
    with pytest.raises(RuntimeError), store.removed_on_failure(directory, meta2, end=None):
        raise RuntimeError("disk full")
    assert not bdir2.exists() and meta2["status"] == "failed" and meta2["error"] == "disk full"


def test_kind_dir_removes_unfinished_backups(tmp_path):
    root = tmp_path / "db"
    root.mkdir()
    write_backup(root, "20261201T021500Z-full")
    write_backup(root, "20261201T081500Z-incr", "incremental", "20261201T021500Z-full", status="running")
    write_backup(root, "20261201T091500Z-incr", "incremental", "20261201T021500Z-full", status="failed")
    store.kind_dir(root)
    assert sorted(p.name for p in root.iterdir()) == ["20261201T021500Z-full"]


def test_rotate_keeps_chains(db_dir):
    policy = _retention.Policy.from_options(keep_last=1)
    assert store.rotate(db_dir, policy) == []
    write_backup(db_dir, "20261202T021500Z-full")
    removed = store.rotate(db_dir, policy)
    assert removed == ["20261201T141500Z-incr", "20261201T081500Z-incr", "20261201T021500Z-full"]
