# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The local backup store: <root>/<kind>/<id>/backup.json directories, their life cycle, chains.

Backups and chains are the retention library's model (``_retention.Backup``,
``_retention.walk_chain``): this module reads metadata into it and words the job's errors.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import _retention

from .common import META_FILE, SUMS_FILE, JobError, iso, log, now_utc, read_json, write_json_atomic
from .sums import dir_size, write_sums


def local_backups(directory: Path) -> dict:
    """id -> metadata (with '_path') of every backup directory with readable metadata."""
    found = {}
    if not directory.is_dir():
        return found
    for entry in sorted(directory.iterdir()):
        if entry.name.startswith(".") or entry.is_symlink() or not entry.is_dir():
            continue
        meta = read_json(entry / META_FILE)
        if meta and isinstance(meta.get("id"), str):
            meta["_path"] = str(entry)
            found[meta["id"]] = meta
    return found


def model(backups: dict) -> dict:
    """id -> _retention.Backup of the metadata that the retention library accepts."""
    by_id = {}
    for backup_id, meta in backups.items():
        with contextlib.suppress(ValueError):
            by_id[backup_id] = _retention.Backup.from_metadata(meta, path=meta.get("_path"))
    return by_id


def newest_complete(backups: dict) -> dict | None:
    newest = _retention.newest_complete(model(backups).values())
    return backups[newest.id] if newest else None


def chain_of(backups: dict, backup_id: str) -> list:
    """[full, incr, ..., backup_id] of complete backups; JobError naming what breaks the chain."""
    meta = backups.get(backup_id)
    if meta is None:
        known = ", ".join(sorted(backups)[-8:]) or "none"
        raise JobError(f"unknown backup id {backup_id!r} (newest known: {known})")
    if meta.get("status") != "complete":
        raise JobError(f"backup {backup_id} is {meta.get('status')}, not complete: it cannot be restored")
    by_id = model(backups)
    if backup_id not in by_id:
        raise JobError(f"backup {backup_id} has invalid metadata: it cannot be restored")
    chain, brk = _retention.walk_chain(by_id[backup_id], by_id)
    if brk is not None:
        if brk.reason == "missing":
            raise JobError(f"backup {backup_id} needs {brk.at}, which is missing: the chain is broken")
        if brk.reason == "incomplete":
            raise JobError(f"backup {brk.at} is {brk.status}, not complete: it cannot be restored")
        if brk.reason == "loop":
            raise JobError(f"backup chain of {backup_id} loops at {brk.at}")
        raise JobError(f"incremental backup {brk.at} has no parent")
    return [backups[b.id] for b in reversed(chain)]


def cleanup_unfinished(directory: Path) -> None:
    """Remove failed/running backups left behind (we hold the lock: none is in progress)."""
    for backup_id, meta in local_backups(directory).items():
        if meta.get("status") in ("failed", "running"):
            log(f"removing unfinished backup {backup_id} (status {meta.get('status')})", "warning")
            _retention.remove_tree(meta["_path"])


def rotate(directory: Path, policy: _retention.Policy) -> list:
    try:
        plan = _retention.rotate(str(directory), policy)
    except _retention.RetentionError as exc:
        raise JobError(f"retention in {directory} failed: {exc}") from exc
    for backup_id, reasons in plan.removed:
        log(f"retention removed {backup_id}: {'; '.join(reasons)}")
    for path, reason in plan.ignored:
        log(f"retention ignored {path}: {reason}", "warning")
    return plan.removed_ids


def claim_dir(directory: Path, suffix: str) -> tuple:
    """(a new empty directory <directory>/<UTC second>-<suffix> (mode 0700), its time).

    Ids name the second a backup started; a second backup of the same kind in the same second
    (a refused incremental retried as a full, a manual run beside the timer) waits for the next.
    """
    for _attempt in range(3):
        start = now_utc()
        bdir = directory / f"{start.strftime('%Y%m%dT%H%M%SZ')}-{suffix}"
        try:
            bdir.mkdir(mode=0o700)
        except FileExistsError:
            time.sleep(1.05 - start.microsecond / 1e6)
            continue
        return bdir, start
    raise JobError(f"no free backup id in {directory} for {suffix} after 3 seconds")


def start_backup(directory: Path, suffix: str, **fields) -> tuple:
    """(bdir, meta) of a new backup <directory>/<UTC time>-<suffix>, its metadata written "running".

    fields: the kind's own metadata (type, host, ...); kind "full" and no parent unless given.
    """
    bdir, start = claim_dir(directory, suffix)
    backup_id = bdir.name
    meta = {
        "id": backup_id,
        "kind": "full",
        "parent": None,
        "start": iso(start),
        "end": None,
        "status": "running",
        "size": None,
        **fields,
    }
    write_json_atomic(bdir / META_FILE, meta, 0o600)
    return bdir, meta


def kind_dir(directory: Path) -> None:
    """The directory of one kind of backup (mode 0700), without unfinished backups."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    cleanup_unfinished(directory)


@contextlib.contextmanager
def removed_on_failure(directory: Path, meta: dict, **failed):
    """On any exception in the block: metadata marked failed (plus ``failed`` fields) and written,
    the backup directory <directory>/<meta id> removed, the exception re-raised."""
    try:
        yield
    except BaseException as exc:
        meta.update({"status": "failed", "error": str(exc)[:2000], **failed})
        bdir = directory / meta["id"]
        with contextlib.suppress(OSError):
            write_json_atomic(bdir / META_FILE, meta, 0o600)
            _retention.remove_tree(str(bdir))
        raise


def finish_backup(
    bdir: Path,
    meta: dict,
    parts: list,
    *,
    sums_first: bool = False,
    sums_sha: str | None = None,
    checksums=None,
    **fields,
):
    """Mark a backup complete: SHA256SUMS of parts, end, status, size, checksums and the kind's own
    fields in the metadata, written atomically.

    The size is measured before SHA256SUMS is written, except with sums_first (database backups:
    SHA256SUMS written and timed first, so the size counts it), or when sums_sha says SHA256SUMS is
    already written (database backups: beside pg_verifybackup). checksums: extra checksum entries.
    """
    if sums_sha is None and sums_first:
        started = time.monotonic()
        sums_sha = write_sums(bdir, parts)
        meta["timings"]["sha256sums"] = round(time.monotonic() - started, 3)
    end, size = iso(now_utc()), dir_size(bdir)
    if sums_sha is None and not sums_first:
        sums_sha = write_sums(bdir, parts)
    meta.update(
        {
            **fields,
            "end": end,
            "status": "complete",
            "size": size,
            "checksums": {"algorithm": "sha256", "sums_file": SUMS_FILE, "sums_sha256": sums_sha, **(checksums or {})},
        }
    )
    write_json_atomic(bdir / META_FILE, meta, 0o600)


def done(meta: dict, bdir: Path, message: str) -> dict:
    """Log the completed backup; its metadata with '_path'."""
    log(message)
    meta["_path"] = str(bdir)
    return meta
