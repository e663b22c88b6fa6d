# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Continuous WAL archiving: pg_receivewal in a sidecar over a physical replication slot, the
archive directory, the recoverable window and the WAL a point-in-time restore needs.

The archive is a plain pg_receivewal directory (<root>/wal): segments named by timeline and
number, the one being written ends in ``.partial`` (pg_receivewal --synchronous flushes every
write, so it is seconds behind the server).
"""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path

from .common import UTC, JobError, iso, log, run

SEGMENT_RE = re.compile(r"^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})(\.partial)?$")
DEFAULT_SEGMENT_SIZE = 16 * 1024 * 1024
# When this archive started (a restore moves the archive aside and a new one starts).
SINCE_FILE = ".mvp-since"


def parse_lsn(text: str) -> int:
    """'16/B374D848' -> integer byte position."""
    high, sep, low = str(text).partition("/")
    if not sep:
        raise ValueError(f"not an LSN: {text!r}")
    return (int(high, 16) << 32) | int(low, 16)


def segment_number(lsn: int, segment_size: int = DEFAULT_SEGMENT_SIZE) -> int:
    return lsn // segment_size


def segment_name(timeline: int, number: int, segment_size: int = DEFAULT_SEGMENT_SIZE) -> str:
    per_id = 0x100000000 // segment_size
    return f"{timeline:08X}{number // per_id:08X}{number % per_id:08X}"


def parse_segment(name: str, segment_size: int = DEFAULT_SEGMENT_SIZE) -> tuple | None:
    """(timeline, number, partial) of a segment file name, None for anything else."""
    match = SEGMENT_RE.match(name)
    if not match:
        return None
    per_id = 0x100000000 // segment_size
    return int(match.group(1), 16), int(match.group(2), 16) * per_id + int(match.group(3), 16), bool(match.group(4))


def scan(directory: Path, segment_size: int = DEFAULT_SEGMENT_SIZE) -> list:
    """[(timeline, number, partial, path, mtime)] of the archive, oldest first."""
    found = []
    if not directory.is_dir():
        return found
    for entry in directory.iterdir():
        parsed = parse_segment(entry.name, segment_size)
        if parsed and entry.is_file():
            found.append((*parsed, entry, entry.stat().st_mtime))
    return sorted(found, key=lambda s: (s[0], s[1], s[2]))


def contiguous_run(segments: list) -> tuple | None:
    """(timeline, first, last) of the unbroken run of segments that ends with the newest one."""
    if not segments:
        return None
    timeline = segments[-1][0]
    numbers = sorted({s[1] for s in segments if s[0] == timeline})
    last = first = numbers[-1]
    present = set(numbers)
    while first - 1 in present:
        first -= 1
    return timeline, first, last


def backup_start_segment(meta: dict, segment_size: int = DEFAULT_SEGMENT_SIZE) -> tuple | None:
    """(timeline, segment number) where the backup's WAL starts, from its manifest's WAL-Ranges."""
    ranges = meta.get("wal_ranges") or []
    if not ranges:
        return None
    first = ranges[0]
    try:
        return int(first["Timeline"]), segment_number(parse_lsn(first["Start-LSN"]), segment_size)
    except (KeyError, ValueError, TypeError):
        return None


def window(backups: list, segments: list, segment_size: int = DEFAULT_SEGMENT_SIZE) -> dict | None:
    """The recoverable window: from the end of the oldest complete backup whose WAL is all in the
    archive, to the newest WAL received. backups: metadata dicts; None when there is none."""
    run_ = contiguous_run(segments)
    if run_ is None:
        return None
    timeline, first, last = run_
    usable = []
    for meta in backups:
        start = backup_start_segment(meta, segment_size)
        complete = meta.get("status") == "complete" and meta.get("end")
        if complete and start and start[0] == timeline and first <= start[1] <= last:
            usable.append(meta)
    if not usable:
        return None
    oldest = min(usable, key=lambda m: m["end"])
    newest_write = max(s[4] for s in segments if s[0] == timeline)
    return {
        "start": oldest["end"],
        "end": iso(datetime.datetime.fromtimestamp(int(newest_write), UTC)),
        "base": oldest["id"],
        "timeline": timeline,
        "first_segment": segment_name(timeline, first, segment_size),
        "last_segment": segment_name(timeline, last, segment_size),
    }


def needed_segments(meta: dict, segments: list, segment_size: int = DEFAULT_SEGMENT_SIZE) -> list:
    """Paths of the archive's segments a restore of ``meta`` replays (from its start, same timeline
    and later ones, plus timeline history files are not used: one timeline per chain)."""
    start = backup_start_segment(meta, segment_size)
    if start is None:
        raise JobError(f"backup {meta['id']} records no WAL range: it cannot be the base of a point-in-time restore")
    return [s[3] for s in segments if s[0] == start[0] and s[1] >= start[1]]


def prune(directory: Path, backups: list, segment_size: int = DEFAULT_SEGMENT_SIZE) -> list:
    """Remove archived segments older than the oldest complete backup's start (nothing needs them)."""
    starts = [backup_start_segment(m, segment_size) for m in backups if m.get("status") == "complete"]
    starts = [s for s in starts if s]
    if not starts:
        return []
    oldest = min(starts)
    removed = []
    for timeline, number, partial, path, _mtime in scan(directory, segment_size):
        if not partial and (timeline, number) < oldest:
            path.unlink()
            removed.append(path.name)
    if removed:
        log(f"WAL archive: removed {len(removed)} segment(s) older than the oldest backup ({removed[0]}..)")
    return removed


def parse_target_time(text: str, now: datetime.datetime | None = None) -> datetime.datetime | None:
    """The restore target: None for 'latest'; JobError for an unparsable or future time."""
    if text in ("", "latest"):
        return None
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(Z|[+-]\d{2}:?\d{2})$", text.strip())
    if not match:
        raise JobError(
            f"restore_target_time={text!r} is not a time like 2026-12-01T13:58:30Z (UTC, Z or an offset) or latest"
        )
    try:
        zone = match.group(7)
        tz = (
            UTC
            if zone == "Z"
            else datetime.timezone(
                (1 if zone[0] == "+" else -1) * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[-2:]))
            )
        )
        when = datetime.datetime(*(int(g) for g in match.groups()[:6]), tzinfo=tz).astimezone(UTC)
    except ValueError as exc:
        raise JobError(f"restore_target_time={text!r} is not a valid time: {exc}") from exc
    now = now or datetime.datetime.now(UTC)
    if when > now:
        raise JobError(f"restore_target_time={text} is in the future (now {iso(now)}): nothing can be restored to it")
    return when


LEAST_PRIVILEGE = (
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges:true",
    "--read-only",
    "--tmpfs",
    "/tmp",  # noqa: S108 (a tmpfs inside the container, not a path on the host)
    "--pids-limit",
    "64",
)


def receiver_argv(cfg, password_env: bool = True) -> list:
    """The sidecar running pg_receivewal into the archive (foreground; systemd restarts it)."""
    w = cfg.wal
    args = [cfg.docker, "run", "--rm", "--name", w.get("container_name", "mvp-backup-wal")]
    # Least privilege for a process that runs for months: no capabilities (root only as the owner
    # of the 0700 archive on the host), nothing to gain, read-only image, bounded processes.
    args += [*LEAST_PRIVILEGE, "--memory", w.get("memory", "256m")]
    args += ["--network", f"container:{cfg.db['container']}", "--entrypoint", ""]
    if password_env:
        args += ["-e", "PGPASSWORD"]
    args += ["-v", f"{w['dir']}:/wal", cfg.verify["image"]]
    args += ["pg_receivewal", "-h", "127.0.0.1", "-p", str(cfg.db.get("port", 5432)), "-U", cfg.db["user"]]
    args += ["-D", "/wal", "--slot", w.get("slot", "mvp_backup"), "--synchronous", "--no-loop", "--no-password"]
    return args


def create_slot_argv(cfg) -> list:
    argv = receiver_argv(cfg)
    argv[argv.index("--name") + 1] += "-slot"
    cut = argv.index("--synchronous")
    return [*argv[:cut], "--create-slot", "--if-not-exists", "--no-password"]


def exec_receiver(cfg, env: dict) -> None:
    """Create the slot if it is missing, then become the receiver (systemd supervises it)."""
    directory = Path(cfg.wal["dir"])
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    since = directory / SINCE_FILE
    if not since.exists():
        since.write_text(iso(datetime.datetime.now(UTC)) + "\n")
    name = cfg.wal.get("container_name", "mvp-backup-wal")
    run([cfg.docker, "rm", "-f", name, f"{name}-slot"], check=False)
    run(create_slot_argv(cfg), env=env, timeout=120)
    argv = [str(a) for a in receiver_argv(cfg)]
    os.execve(argv[0], argv, env)  # noqa: S606 (argv built above; systemd supervises the receiver)


def status(cfg, db, backups: list) -> dict:
    """The archive's state for metrics and `mvp-backup wal-status`."""
    slot = cfg.wal.get("slot", "mvp_backup")
    sql = (
        "select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint, "
        "(select pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint from pg_replication_slots "
        " where slot_name = 'SLOT'), "
        "(select wal_status from pg_replication_slots where slot_name = 'SLOT'), "
        "(select pg_wal_lsn_diff(pg_current_wal_lsn(), flush_lsn)::bigint from pg_stat_replication "
        " where application_name = 'pg_receivewal' and state = 'streaming' limit 1), "
        "(select coalesce(extract(epoch from flush_lag), 0) from pg_stat_replication "
        " where application_name = 'pg_receivewal' and state = 'streaming' limit 1), "
        "(select setting::bigint from pg_settings where name = 'max_slot_wal_keep_size'), "
        "(select setting::bigint from pg_settings where name = 'wal_segment_size')"
    )
    # slot: a name check_config allows ([a-z0-9_]), so it cannot break out of the quotes.
    row = db.query(sql.replace("SLOT", slot)).split("|")
    current, retained, slot_state, lag_bytes, lag_seconds, cap_mb, segment_size = row
    segment_size = int(segment_size or DEFAULT_SEGMENT_SIZE)
    segments = scan(Path(cfg.wal["dir"]), segment_size)
    now = datetime.datetime.now(UTC).timestamp()
    receiving = lag_bytes != ""
    newest_write = max((s[4] for s in segments), default=None)
    if not receiving and newest_write is not None:
        lag_seconds = str(max(0.0, now - newest_write))
    win = window(backups, segments, segment_size)
    completed = [s[4] for s in segments if not s[2]]
    return {
        "receiving": receiving,
        "slot": slot,
        "slot_state": slot_state or "missing",
        "current_lsn_bytes": int(current),
        "slot_retained_bytes": int(retained) if retained else None,
        "slot_cap_bytes": int(cap_mb) * 1024 * 1024 if cap_mb and int(cap_mb) >= 0 else None,
        "lag_bytes": int(lag_bytes) if receiving else (int(retained) if retained else None),
        "lag_seconds": round(float(lag_seconds), 3) if lag_seconds not in ("", None) else None,
        "last_segment_timestamp": int(max(completed)) if completed else None,
        "last_write_timestamp": int(newest_write) if newest_write else None,
        "segments": len(segments),
        "window": win,
        "since_timestamp": int(since.stat().st_mtime)
        if (since := Path(cfg.wal["dir"]) / SINCE_FILE).exists()
        else None,
    }
