# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""mvp_backup.wal: segment names and LSNs, the recoverable window, pruning, target times, the
receiver's command line, and the point-in-time restore staging (restore.prepare_restore)."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest
from conftest import make_config, write_backup
from hypothesis import given
from hypothesis import strategies as st
from mvp_backup import restore, wal
from mvp_backup.common import UTC, JobError
from mvp_backup.config import Config, check_config

SEG = 16 * 1024 * 1024


@given(st.integers(min_value=1, max_value=0xFF), st.integers(min_value=0, max_value=2**40 - 1))
def test_segment_names_round_trip(timeline, number):
    name = wal.segment_name(timeline, number)
    assert len(name) == 24
    assert wal.parse_segment(name) == (timeline, number, False)
    assert wal.parse_segment(name + ".partial") == (timeline, number, True)


def test_lsn_to_segment():
    assert wal.parse_lsn("0/2000028") == 0x2000028
    assert wal.segment_name(1, wal.segment_number(wal.parse_lsn("1/3000000"))) == "000000010000000100000003"
    with pytest.raises(ValueError, match="not an LSN"):
        wal.parse_lsn("12345")
    assert wal.parse_segment("000000010000000000000003.history") is None


def archive(directory: Path, timeline: int, numbers, partial_last=True, mtime=None):
    directory.mkdir(parents=True, exist_ok=True)
    for n in numbers:
        last = n == max(numbers)
        path = directory / (wal.segment_name(timeline, n) + (".partial" if last and partial_last else ""))
        path.write_bytes(b"\0" * 8)
        if mtime:
            os.utime(path, (mtime, mtime))


def meta(backup_id, start_segment, end, timeline=1, status="complete"):
    lsn = start_segment * SEG + 0x28
    return {
        "id": backup_id,
        "status": status,
        "end": end,
        "wal_ranges": [{"Timeline": timeline, "Start-LSN": f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"}],
    }


def test_window_starts_at_the_oldest_backup_whose_wal_is_all_there(tmp_path):
    archive(tmp_path / "wal", 1, [3, 4, 6, 7, 8], mtime=1_800_000_000)
    segments = wal.scan(tmp_path / "wal")
    backups = [
        meta("a-full", 3, "2026-12-01T02:16:00Z"),  # before the gap at 5: not restorable forward
        meta("b-incr", 6, "2026-12-01T08:16:00Z"),
        meta("c-incr", 7, "2026-12-01T14:16:00Z"),
        meta("d-fail", 7, "2026-12-01T15:00:00Z", status="failed"),
    ]
    win = wal.window(backups, segments)
    assert win["start"] == "2026-12-01T08:16:00Z" and win["base"] == "b-incr"
    assert win["first_segment"].endswith("06") and win["last_segment"].endswith("08")
    assert win["end"] == "2027-01-15T08:00:00Z"
    assert wal.window(backups[:1], segments) is None
    assert wal.window(backups, []) is None
    assert [p.name[-10:] for p in wal.needed_segments(backups[2], segments)] == ["0000000007", "08.partial"]


def test_prune_removes_what_no_backup_needs(tmp_path):
    archive(tmp_path / "wal", 1, [1, 2, 3, 4])
    removed = wal.prune(tmp_path / "wal", [meta("x", 3, "2026-12-01T00:00:00Z"), meta("y", 1, None, status="failed")])
    assert removed == [wal.segment_name(1, 1), wal.segment_name(1, 2)]
    assert wal.prune(tmp_path / "wal", []) == []


def test_target_times():
    now = datetime.datetime(2026, 12, 1, 14, 0, 0, tzinfo=UTC)
    assert wal.parse_target_time("latest", now) is None
    assert wal.parse_target_time("2026-12-01T13:58:30Z", now) == datetime.datetime(2026, 12, 1, 13, 58, 30, tzinfo=UTC)
    assert wal.parse_target_time("2026-12-01T16:58:30+03:00", now).hour == 13
    with pytest.raises(JobError, match="in the future"):
        wal.parse_target_time("2026-12-01T14:00:01Z", now)
    for bad in ("yesterday", "2026-12-01 13:58", "2026-13-01T00:00:00Z"):
        with pytest.raises(JobError, match="restore_target_time="):
            wal.parse_target_time(bad, now)


def wal_config(tmp_path):
    data = make_config(tmp_path)
    data["wal"] = {"enabled": True, "dir": str(tmp_path / "backups" / "wal"), "slot": "mvp_backup"}
    return Config(data)


def test_receiver_runs_in_the_database_namespace_with_the_password_by_name(tmp_path):
    cfg = wal_config(tmp_path)
    argv = wal.receiver_argv(cfg)
    text = " ".join(argv)
    assert "--network container:mvp-data-postgres-1" in text and "-e PGPASSWORD" in text
    assert "pg_receivewal -h 127.0.0.1" in text and "--slot mvp_backup --synchronous --no-loop" in text
    assert "--cap-drop ALL --security-opt no-new-privileges:true --read-only" in text and "--memory 256m" in text
    create = wal.create_slot_argv(cfg)
    assert create[-3:] == ["--create-slot", "--if-not-exists", "--no-password"] and "mvp-backup-wal-slot" in create


def test_check_config_of_the_wal_section(tmp_path):
    cfg = wal_config(tmp_path)
    assert check_config(cfg) == {"config": "ok"}
    cfg.wal["slot"] = "Bad-Slot"
    with pytest.raises(JobError, match=r"wal\.slot"):
        check_config(cfg)


FULL, INCR = "20261201T021500Z-full", "20261201T081500Z-incr"


@pytest.fixture
def pitr(tmp_path, fake_docker, monkeypatch):
    monkeypatch.setenv("FAKE_EXEC_OUT", "0")
    monkeypatch.delenv("FAKE_VERIFY_FAIL", raising=False)
    cfg = wal_config(tmp_path)
    lsn = [{"Timeline": 1, "Start-LSN": "0/3000028"}]
    write_backup(cfg.db_dir, FULL, wal_ranges=lsn)
    write_backup(cfg.db_dir, INCR, "incremental", FULL, wal_ranges=[{"Timeline": 1, "Start-LSN": "0/5000028"}])
    archive(Path(cfg.wal["dir"]), 1, [3, 4, 5, 6], mtime=datetime.datetime(2026, 12, 1, 13, 0, tzinfo=UTC).timestamp())
    return cfg


def test_pitr_stages_the_chain_below_the_target_and_its_wal(pitr):
    result = restore.prepare_restore(pitr, "latest", "local", None, False, target_time="2026-12-01T05:00:00Z")
    assert result["id"] == FULL and result["target_time"] == "2026-12-01T05:00:00Z"
    assert result["window"]["start"] == "2026-12-01T02:15:00Z" and result["wal_segments"] == 4
    combined = Path(result["staging"])
    copied = sorted(p.name for p in (combined / "mvp_restore_wal").iterdir())
    assert copied == [wal.segment_name(1, n) for n in (3, 4, 5, 6)]  # .partial renamed for recovery
    conf = (combined / "postgresql.auto.conf").read_text()
    assert "recovery_target_time = '2026-12-01 05:00:00+00'" in conf and "recovery_target_action = 'promote'" in conf
    assert "restore_command = 'cp mvp_restore_wal/%f \"%p\"'" in conf
    assert (combined / "recovery.signal").exists()
    latest = restore.prepare_restore(pitr, "latest", "local", None, False, target_time="latest")
    assert latest["id"] == INCR and latest["chain"] == [FULL, INCR] and latest["wal_segments"] == 2
    assert "recovery_target_time" not in (Path(latest["staging"]) / "postgresql.auto.conf").read_text()


def test_pitr_refuses_outside_the_window_and_prints_it(pitr):
    with pytest.raises(
        JobError, match=r"outside the recoverable window 2026-12-01T02:15:00Z \.\. 2026-12-01T13:00:00Z"
    ):
        restore.prepare_restore(pitr, "latest", "local", None, False, target_time="2026-11-30T00:00:00Z")
    with pytest.raises(JobError, match="outside the recoverable window"):
        restore.prepare_restore(pitr, "latest", "local", None, False, target_time="2026-12-01T13:30:00Z")
    with pytest.raises(JobError, match="off-site copy is not configured"):
        restore.prepare_restore(pitr, "latest", "offsite", None, False, target_time="latest")
    assert not (pitr.restore_dir / "db").exists()


def test_pitr_without_an_archive(pitr):
    for entry in Path(pitr.wal["dir"]).iterdir():
        entry.unlink()
    with pytest.raises(JobError, match="there is no recoverable window"):
        restore.prepare_restore(pitr, "latest", "local", None, False, target_time="latest")
    pitr.wal["enabled"] = False
    with pytest.raises(JobError, match="backup_wal_enabled"):
        restore.prepare_restore(pitr, "latest", "local", None, False, target_time="latest")
