# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""mvp_backup.common, .sums and .lock: commands, JSON files, SHA256SUMS, the host-wide lock."""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

import pytest
from mvp_backup import common, sums
from mvp_backup.common import JobError
from mvp_backup.lock import Lock


def test_run_raises_joberror_with_the_tail_of_stderr():
    with pytest.raises(JobError, match=r"sh -c echo boom.* failed \(exit 3\): boom"):
        common.run(["sh", "-c", "echo boom >&2; exit 3"])
    assert common.run(["sh", "-c", "exit 3"], check=False).returncode == 3
    assert common.run(["echo", "hi"]).stdout == "hi\n"


def test_json_files_are_written_atomically_with_their_mode(tmp_path):
    target = tmp_path / "sub" / "state.json"
    common.write_json_atomic(target, {"b": 1, "a": [1]}, 0o600)
    assert json.loads(target.read_text()) == {"a": [1], "b": 1}
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["state.json"]
    assert common.read_json(target) == {"a": [1], "b": 1}
    (tmp_path / "list.json").write_text("[1]")
    (tmp_path / "bad.json").write_text("{")
    assert common.read_json(tmp_path / "list.json") is None
    assert common.read_json(tmp_path / "bad.json") is None
    assert common.read_json(tmp_path / "missing.json") is None


def test_ids_and_times():
    assert common.ID_RE.match("20261201T131500Z-incr")
    assert not common.ID_RE.match("20261201T131500Z-weird")
    assert common.iso(common.now_utc()).endswith("Z")


def test_log_prefixes_warnings(capsys):
    common.log("careful", "warning")
    common.log("fine")
    err = capsys.readouterr().err
    assert "mvp-backup: warning: careful\n" in err
    assert "mvp-backup: fine\n" in err


def _sample(tmp_path):
    bdir = tmp_path / "b"
    (bdir / "data" / "base").mkdir(parents=True)
    (bdir / "data" / "PG_VERSION").write_text("17\n")
    (bdir / "data" / "base" / "1").write_bytes(b"\0" * 1000)
    (bdir / "data" / "link").symlink_to("PG_VERSION")
    (bdir / "dump.pgc").write_bytes(b"PGDMP")
    return bdir


def test_sums_cover_files_not_symlinks_and_find_every_kind_of_damage(tmp_path):
    bdir = _sample(tmp_path)
    digest = sums.write_sums(bdir, ["data", "dump.pgc"])
    listed = (bdir / "SHA256SUMS").read_text().splitlines()
    assert [line.split("  ")[1] for line in listed] == ["data/PG_VERSION", "data/base/1", "dump.pgc"]
    meta = {"checksums": {"sums_sha256": digest}}
    assert sums.check_sums(bdir, meta) == []
    (bdir / "data" / "base" / "1").write_bytes(b"\1" * 1000)
    (bdir / "dump.pgc").unlink()
    assert sums.check_sums(bdir, meta) == ["checksum mismatch in data/base/1", "missing file dump.pgc"]
    (bdir / "SHA256SUMS").write_text((bdir / "SHA256SUMS").read_text() + "\n")
    assert sums.check_sums(bdir, meta)[0] == "SHA256SUMS does not match the checksum recorded in backup.json"
    (bdir / "SHA256SUMS").unlink()
    assert sums.check_sums(bdir, meta) == ["SHA256SUMS is missing"]


def test_check_sums_caps_the_list(tmp_path):
    bdir = tmp_path / "b"
    bdir.mkdir()
    (bdir / "SHA256SUMS").write_text("".join(f"{'0' * 64}  f{i}\n" for i in range(40)))
    problems = sums.check_sums(bdir, {})
    assert len(problems) == 22 and problems[-1] == "(more problems not listed)"


def test_dir_size_counts_files(tmp_path):
    bdir = _sample(tmp_path)
    assert sums.dir_size(bdir) >= 1000 + 3 + 5


def _hold(path, seconds, ready):
    with Lock(path, 5):
        ready.set()
        time.sleep(seconds)


def test_lock_waits_for_the_holder_then_gives_up(tmp_path):
    path = str(tmp_path / "run" / "lock")
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(path, 1.5, ready))
    holder.start()
    try:
        assert ready.wait(10)
        with pytest.raises(JobError, match=r"holds .* for more than 0s; giving up"), Lock(path, 0, poll=0.1):
            pass
        started = time.monotonic()
        with Lock(path, 10, poll=0.1) as lock:
            assert time.monotonic() - started > 0.3
            assert Path(path).read_text().strip().isdigit()
            assert lock.fh is not None
    finally:
        holder.join(10)
