# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The WAL archive off-site: each push copies what pg_receivewal has written, the segment being
written too, to the restic repository. A host lost for good then loses at most about one push
interval of commits (the off-site RPO), not everything since the last backup.

A push snapshots a mirror of the archive (<root>/wal-offsite: hard links of the completed
segments, a copy of the ``.partial`` one taken at push time, so restic never reads a file that
pg_receivewal is writing). restic deduplicates: a push uploads only the new WAL. Each snapshot
holds the whole archive, so only the newest few are kept (per cluster: a restored or rebuilt
host is a new cluster, its pushes never make the old cluster's WAL disappear).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from . import wal
from .common import JobError, log, read_json, write_json_atomic
from .metrics import record_wal_push
from .offsite import Restic, snapshot_tags

TAG = "mvp-wal"
MIRROR = "wal-offsite"
# The mirror's record: the archive it mirrors (its start), that archive's cluster, pushes so far.
RECORD = ".mvp-push.json"
KEEP_SNAPSHOTS = 3
FORGET_EVERY = 20


def mirror(archive: Path, target: Path) -> dict:
    """Make target hold exactly the archive's segments; returns {'segments', 'newest_write'}.

    Completed segments never change: hard-linked (copied across file systems). The partial one is
    copied whole on every call, with its time, and renamed into place.
    """
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    wanted = {s[3].name: s for s in wal.scan(archive)}
    for entry in target.iterdir():
        if entry.name not in wanted and wal.parse_segment(entry.name):
            entry.unlink()
    newest = None
    for name, (_tli, _num, partial, path, mtime) in wanted.items():
        dest = target / name
        try:
            if partial:
                tmp = target / f".{name}.tmp"
                shutil.copy2(path, tmp)
                os.replace(tmp, dest)
            elif not dest.exists():
                try:
                    os.link(path, dest)
                except OSError:
                    shutil.copy2(path, dest)
        except FileNotFoundError:
            # pg_receivewal completed (renamed) the partial segment meanwhile: the next push has it.
            continue
        newest = mtime if newest is None else max(newest, mtime)
    return {"segments": len(wanted), "newest_write": newest}


def push_tags(sysid: str, since: str) -> list:
    return [TAG, f"sysid={sysid}", f"since={since}"]


def cluster_of(record: dict, since: str, query) -> str:
    """The archive's cluster (system identifier): remembered per archive, asked once."""
    if record.get("since") == since and record.get("sysid"):
        return record["sysid"]
    sysid = query("select system_identifier from pg_control_system()").strip()
    if not sysid.isdigit():
        raise JobError(f"cannot read the database's system identifier (got {sysid!r})")
    return sysid


class NothingYet(Exception):
    """The archive has not started or holds no segment yet (a new install, a restore): not a failure."""


def push(cfg, query, record: dict, restic: Restic | None = None) -> dict:
    """Mirror the archive and snapshot it off-site; returns the new record (what was pushed)."""
    archive = Path(cfg.wal["dir"])
    since_file = archive / wal.SINCE_FILE
    if not since_file.exists():
        raise NothingYet(f"the WAL archive {archive} has not started yet (no {wal.SINCE_FILE}): nothing to push")
    since = since_file.read_text().strip()
    sysid = cluster_of(record, since, query)
    state = mirror(archive, cfg.root / MIRROR)
    if state["newest_write"] is None:
        raise NothingYet(f"the WAL archive {archive} holds no segment yet: nothing to push")
    restic = restic or Restic(cfg)
    restic.backup_dir(cfg.root / MIRROR, push_tags(sysid, since))
    pushes = int(record.get("pushes", 0)) + 1 if record.get("since") == since else 1
    if pushes % FORGET_EVERY == 0:
        # Each snapshot holds the whole archive: the newest few are enough (prune reclaims the rest).
        restic("forget", "--tag", f"{TAG},sysid={sysid}", "--host", restic.host, "--keep-last", str(KEEP_SNAPSHOTS))
    return {
        "since": since,
        "sysid": sysid,
        "pushes": pushes,
        "segments": state["segments"],
        "last_write": int(state["newest_write"]),
    }


def newest_snapshot(snapshots: list, sysid: str) -> dict | None:
    """The newest pushed archive of that cluster."""
    mine = [s for s in snapshots if snapshot_tags(s).get("sysid") == str(sysid)]
    return max(mine, key=lambda s: s.get("time", "")) if mine else None


def fetch(restic: Restic, host: str, sysid: str, dest: Path) -> Path:
    """Restore the newest pushed archive of the cluster into dest (its segments directly in it)."""
    snap = newest_snapshot(restic.snapshots(TAG, host), sysid)
    if snap is None:
        raise JobError(
            f"the off-site copy holds no WAL of database cluster {sysid} from host {host}: restore the backup as it "
            "was with -e restore_target_time=none"
        )
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True, mode=0o700)
    path = (snap.get("paths") or [""])[0]
    restic.restore_path(snap["id"], path, dest)
    log(f"fetched the off-site WAL archive of {host} pushed at {snap.get('time', '?')} ({snap['id'][:8]})")
    return dest


def run_push(cfg, query) -> dict:
    """One push, its record (<root>/wal-offsite/.mvp-push.json) and metrics; a failure keeps the
    last success in both, then raises. Nothing to push yet is not a failure: said, nothing recorded."""
    path = cfg.root / MIRROR / RECORD
    record = read_json(path) or {}
    started = time.monotonic()
    try:
        result = push(cfg, query, record)
    except NothingYet as exc:
        log(str(exc))
        return {"skipped": str(exc)}
    except Exception:
        _keep(cfg, path, {**record, "last_status": 0}, started)
        raise
    _keep(cfg, path, {**record, **result, "last_status": 1, "last_success": int(time.time())}, started)
    return result


def _keep(cfg, path: Path, record: dict, started: float) -> None:
    record["duration"] = round(time.monotonic() - started, 3)
    if path.parent.is_dir():
        write_json_atomic(path, record, 0o600)
    record_wal_push(cfg, record)
