# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""mvp_backup.walpush (the WAL archive off-site, the off-site point-in-time restore) and
mvp_backup.hoststate (the host's own state: backup, --if-changed, restore), with the fake docker
and the fake restic of conftest. The real restic and S3 are the molecule `backup` scenario's."""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

import pytest
from conftest import offsite_cfg, write_backup
from mvp_backup import cli, hoststate, offsite, restore, wal, walpush
from mvp_backup.common import UTC, JobError
from mvp_backup.config import Config, check_config

SYSID = "7441234567890123456"
FULL, INCR = "20261201T021500Z-full", "20261201T081500Z-incr"
T13 = datetime.datetime(2026, 12, 1, 13, 0, tzinfo=UTC).timestamp()


def archive(directory: Path, numbers: list, mtime: float = T13, partial: bool = True) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / wal.SINCE_FILE).write_text("2026-12-01T00:00:00Z\n")
    for i, n in enumerate(numbers):
        name = wal.segment_name(1, n) + (".partial" if partial and i == len(numbers) - 1 else "")
        (directory / name).write_bytes(b"wal %d" % n)
        os.utime(directory / name, (mtime, mtime))


def calls(tmp_path: Path) -> list:
    return [json.loads(line)["argv"] for line in (tmp_path / "restic.log").read_text().splitlines()]


@pytest.fixture
def pushing(tmp_path, restic, fake_docker):
    cfg = offsite_cfg(tmp_path)
    cfg.wal = {"enabled": True, "dir": str(tmp_path / "backups" / "wal")}
    archive(Path(cfg.wal["dir"]), [3, 4, 5])
    return cfg


class Query:
    def __init__(self, answer: str = SYSID) -> None:
        self.answer = answer
        self.asked = 0

    def __call__(self, _sql: str) -> str:
        self.asked += 1
        return self.answer


def test_mirror_links_completed_segments_copies_the_partial_and_drops_pruned_ones(tmp_path):
    src, dst = tmp_path / "wal", tmp_path / "mirror"
    archive(src, [3, 4, 5])
    state = walpush.mirror(src, dst)
    assert state == {"segments": 3, "newest_write": T13}
    done = dst / wal.segment_name(1, 3)
    assert done.stat().st_ino == (src / done.name).stat().st_ino  # a hard link, not a copy
    partial = dst / (wal.segment_name(1, 5) + ".partial")
    assert partial.stat().st_ino != (src / partial.name).stat().st_ino and partial.read_bytes() == b"wal 5"
    # pg_receivewal completes 5 and starts 6; the backup job prunes 3.
    (src / partial.name).rename(src / wal.segment_name(1, 5))
    (src / wal.segment_name(1, 6)).with_suffix(".partial").write_bytes(b"wal 6")
    (src / wal.segment_name(1, 3)).unlink()
    walpush.mirror(src, dst)
    names = sorted(p.name for p in dst.iterdir())
    assert names == [wal.segment_name(1, n) for n in (4, 5)] + [wal.segment_name(1, 6) + ".partial"]


def test_push_tags_the_cluster_asks_it_once_per_archive_and_forgets_old_pushes(pushing, tmp_path):
    query, record = Query(), {}
    for _push in range(walpush.FORGET_EVERY):
        record = {**record, **walpush.push(pushing, query, record)}
    assert query.asked == 1 and record["pushes"] == walpush.FORGET_EVERY
    backups = [c for c in calls(tmp_path) if "backup" in c]
    assert len(backups) == walpush.FORGET_EVERY
    assert {"mvp-wal", f"sysid={SYSID}", "since=2026-12-01T00:00:00Z"} <= set(backups[0])
    forgets = [c for c in calls(tmp_path) if "forget" in c]
    assert len(forgets) == 1 and f"mvp-wal,sysid={SYSID}" in forgets[0] and "--keep-last" in forgets[0]
    # A new archive (after a restore): a new count, the cluster asked again.
    (Path(pushing.wal["dir"]) / wal.SINCE_FILE).write_text("2026-12-02T00:00:00Z\n")
    assert walpush.push(pushing, query, record)["pushes"] == 1 and query.asked == 2


def test_push_refusals(pushing):
    with pytest.raises(JobError, match="system identifier"):
        walpush.push(pushing, Query("psql: error"), {})
    for entry in Path(pushing.wal["dir"]).iterdir():
        if entry.name != wal.SINCE_FILE:
            entry.unlink()
    with pytest.raises(walpush.NothingYet, match="holds no segment yet"):
        walpush.push(pushing, Query(), {})
    (Path(pushing.wal["dir"]) / wal.SINCE_FILE).unlink()
    with pytest.raises(walpush.NothingYet, match="has not started yet"):
        walpush.push(pushing, Query(), {})
    # The timer's run: not a failure, nothing recorded.
    assert "has not started yet" in walpush.run_push(pushing, Query())["skipped"]
    assert not (pushing.metrics_dir / "mvp_backup_wal_offsite.prom").exists()


def test_run_push_records_metrics_and_keeps_the_last_success_on_failure(pushing):
    result = walpush.run_push(pushing, Query())
    prom = (pushing.metrics_dir / "mvp_backup_wal_offsite.prom").read_text()
    assert "mvp_backup_wal_offsite_last_status 1" in prom
    assert f"mvp_backup_wal_offsite_last_write_timestamp_seconds {int(T13)}" in prom
    assert result["last_write"] == int(T13)
    pushing.offsite["restic"] = "/bin/false"  # the S3 endpoint is gone
    with pytest.raises(JobError):
        walpush.run_push(pushing, Query())
    prom = (pushing.metrics_dir / "mvp_backup_wal_offsite.prom").read_text()
    assert "mvp_backup_wal_offsite_last_status 0" in prom and "last_success_timestamp_seconds" in prom


def test_cli_wal_push_needs_the_archive_and_off_site(tmp_path, capsys, restic, fake_docker):
    data = offsite_cfg(tmp_path).data
    data["wal"] = {"enabled": True, "dir": str(tmp_path / "wal")}
    data["offsite"]["enabled"] = False
    conf = tmp_path / "config.json"
    conf.write_text(json.dumps(data))
    assert cli.main(["--config", str(conf), "wal-push"]) == 1
    assert "needs the WAL archive and the off-site copy" in capsys.readouterr().err


def test_backup_tags_carry_what_a_point_in_time_restore_needs():
    meta = {
        "id": FULL,
        "kind": "full",
        "parent": None,
        "start": "2026-12-01T02:15:00Z",
        "end": "2026-12-01T02:16:40Z",
        "system_identifier": SYSID,
        "wal_ranges": [{"Timeline": 1, "Start-LSN": "0/3000028"}],
    }
    entry = offsite.catalogue_entry({"id": "x", "tags": offsite.backup_tags("mvp-db", meta), "paths": ["/b"]})
    assert entry["end"] == meta["end"] and entry["system_identifier"] == SYSID
    assert entry["wal_ranges"] == meta["wal_ranges"]
    old = offsite.catalogue_entry({"id": "y", "tags": ["mvp-db", f"id={FULL}", "start=2026-12-01T02:15:00Z"]})
    assert old["end"] == "2026-12-01T02:15:00Z" and "wal_ranges" not in old and "system_identifier" not in old


@pytest.fixture
def offsite_pitr(pushing, tmp_path, monkeypatch):
    """Two backups copied off-site and the archive pushed; then the host is gone (no local data)."""
    monkeypatch.setenv("FAKE_EXEC_OUT", "0")
    lsn = {"wal_ranges": [{"Timeline": 1, "Start-LSN": "0/3000028"}], "system_identifier": SYSID}
    full = write_backup(pushing.db_dir, FULL, **lsn)
    incr = write_backup(
        pushing.db_dir,
        INCR,
        "incremental",
        FULL,
        wal_ranges=[{"Timeline": 1, "Start-LSN": "0/5000028"}],
        system_identifier=SYSID,
    )
    for bdir in (full, incr):
        meta = json.loads((bdir / "backup.json").read_text())
        offsite.offsite_copy(pushing, "db", {**meta, "_path": str(bdir)}, pushing.db_dir)
    walpush.push(pushing, Query(), {})
    # A rebuilt host under the same name pushes its own, newer cluster's archive.
    other = tmp_path / "other-wal"
    archive(other, [1])
    walpush.push(Config({**pushing.data, "wal": {"enabled": True, "dir": str(other)}}), Query("999"), {})
    for path in (pushing.db_dir, Path(pushing.wal["dir"]), pushing.root / walpush.MIRROR):
        for entry in sorted(path.rglob("*"), reverse=True):
            entry.rmdir() if entry.is_dir() else entry.unlink()
    return pushing


def test_offsite_point_in_time_restore_replays_the_pushed_archive_of_the_right_cluster(offsite_pitr):
    result = restore.prepare_restore(offsite_pitr, "latest", "offsite", None, False, target_time="latest")
    assert result["id"] == INCR and result["chain"] == [FULL, INCR] and result["wal_segments"] == 1
    copied = sorted(p.name for p in (Path(result["staging"]) / restore.RESTORE_WAL_DIR).iterdir())
    assert copied == [wal.segment_name(1, 5)]  # the .partial, renamed for recovery
    early = restore.prepare_restore(offsite_pitr, "latest", "offsite", None, False, target_time="2026-12-01T05:00:00Z")
    assert early["id"] == FULL and early["window"]["start"] == "2026-12-01T02:15:00Z" and early["wal_segments"] == 3
    with pytest.raises(
        JobError, match=r"outside the recoverable window 2026-12-01T02:15:00Z \.\. 2026-12-01T13:00:00Z"
    ):
        restore.prepare_restore(offsite_pitr, "latest", "offsite", None, False, target_time="2026-11-30T00:00:00Z")
    assert not (offsite_pitr.restore_dir / "db").exists()


def test_offsite_point_in_time_restore_without_a_pushed_archive(offsite_pitr):
    with pytest.raises(JobError, match="holds no WAL of database cluster"):
        restore.offsite_archive(
            offsite.Restic(offsite_pitr),
            {FULL: {"system_identifier": "123", "status": "complete", "end": "x"}},
            "unit",
            offsite_pitr.restore_dir,
        )
    with pytest.raises(JobError, match="records its cluster"):
        restore.offsite_archive(offsite.Restic(offsite_pitr), {}, "unit", offsite_pitr.restore_dir)


@pytest.fixture
def state_cfg(tmp_path, restic, fake_docker):
    cfg = offsite_cfg(tmp_path)
    le = tmp_path / "etc" / "letsencrypt"
    (le / "archive" / "site").mkdir(parents=True)
    (le / "live" / "site").mkdir(parents=True)
    (le / "archive" / "site" / "privkey1.pem").write_text("KEY")
    os.chmod(le / "archive" / "site" / "privkey1.pem", 0o600)
    os.symlink("../../archive/site/privkey1.pem", le / "live" / "site" / "privkey.pem")
    (tmp_path / "releases.json").write_text("[]\n")
    cfg.state = {"enabled": True, "paths": [str(le), str(tmp_path / "releases.json"), str(tmp_path / "absent")]}
    return cfg


def test_digest_follows_content_mode_and_links(state_cfg, tmp_path):
    paths = hoststate.present(state_cfg.state["paths"])[0]
    first = hoststate.digest(paths)
    assert hoststate.digest(paths) == first
    key = tmp_path / "etc" / "letsencrypt" / "archive" / "site" / "privkey1.pem"
    os.chmod(key, 0o644)
    assert hoststate.digest(paths) != first
    os.chmod(key, 0o600)
    assert hoststate.digest(paths) == first
    (tmp_path / "releases.json").write_text('[{"version": "1.0.0"}]\n')
    assert hoststate.digest(paths) != first
    images = tmp_path / "etc" / "letsencrypt" / "images"
    images.mkdir()
    (images / "app.tar").write_text("big")
    without = hoststate.digest(paths, [str(images)])
    (images / "app.tar").write_text("bigger")
    assert hoststate.digest(paths, [str(images)]) == without != hoststate.digest(paths)


def test_state_backup_only_when_changed_and_restore_puts_it_back(state_cfg, tmp_path, monkeypatch):
    monkeypatch.setattr(hoststate, "extract", lambda archive, root="/": _extract_under(archive, tmp_path / "rebuilt"))
    (tmp_path / "etc" / "letsencrypt" / "images").mkdir()
    (tmp_path / "etc" / "letsencrypt" / "images" / "app.tar").write_text("big")
    state_cfg.state["exclude"] = [str(tmp_path / "etc" / "letsencrypt" / "images")]
    first = hoststate.state_backup(state_cfg, if_changed=True)
    (tmp_path / "etc" / "letsencrypt" / "images" / "app.tar").write_text("bigger")
    assert first["missing"] == [str(tmp_path / "absent")] and len(first["paths"]) == 2
    again = hoststate.state_backup(state_cfg, if_changed=True)
    assert again["unchanged"] and again["id"] == first["id"]
    (tmp_path / "releases.json").write_text('[{"version": "2.0.0"}]\n')
    second = hoststate.state_backup(state_cfg, if_changed=True)
    assert second["id"] != first["id"] and not second.get("unchanged")
    result = restore.restore_state(state_cfg, "latest", "local", None, False)
    assert result["id"] == second["id"] and result["verified"]
    rebuilt = tmp_path / "rebuilt" / str(tmp_path).lstrip("/")
    assert json.loads((rebuilt / "releases.json").read_text()) == [{"version": "2.0.0"}]
    link = rebuilt / "etc" / "letsencrypt" / "live" / "site" / "privkey.pem"
    assert link.is_symlink() and link.read_text() == "KEY"
    assert (rebuilt / "etc" / "letsencrypt" / "archive" / "site" / "privkey1.pem").stat().st_mode & 0o777 == 0o600
    assert not (rebuilt / "etc" / "letsencrypt" / "images").exists()


def _extract_under(archive: Path, root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    hoststate.run(["tar", "--same-permissions", "-C", str(root), "-xf", str(archive)])


def test_state_restore_from_offsite_and_its_refusals(state_cfg, tmp_path, monkeypatch):
    monkeypatch.setattr(hoststate, "extract", lambda archive, root="/": _extract_under(archive, tmp_path / "rebuilt"))
    with pytest.raises(JobError, match=r"no complete host-state backup to restore.*restore_host_state=false"):
        restore.restore_state(state_cfg, "latest", "offsite", None, False)
    meta = hoststate.state_backup(state_cfg)
    offsite.offsite_copy(state_cfg, "state", meta, state_cfg.state_dir)
    forget = [c for c in calls(tmp_path) if "forget" in c][-1]
    assert "mvp-state" in forget and "--keep-last" in forget
    result = restore.restore_state(state_cfg, "latest", "offsite", None, False)
    assert result["id"] == meta["id"] and result["source"] == "offsite"
    state_cfg.state["paths"] = [str(tmp_path / "absent")]
    with pytest.raises(JobError, match="none of the host-state paths exists"):
        hoststate.state_backup(state_cfg)


def test_check_config_of_the_state_section(tmp_path):
    data = offsite_cfg(tmp_path).data
    for paths in ([], ["relative/path"], "/etc"):
        cfg = Config({**data, "state": {"enabled": True, "paths": paths}})
        with pytest.raises(JobError, match=r"state\.paths"):
            check_config(cfg)
