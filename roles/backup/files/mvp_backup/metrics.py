# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Job results: the state file and node_exporter textfile-collector metrics, written atomically.

The names are the ones the monitoring role's alert rules expect.
"""

from __future__ import annotations

import datetime
import os
import tempfile
import time

from .common import UTC, read_json, write_json_atomic

_HELP = {
    "mvp_backup_last_success_timestamp_seconds": ("gauge", "Unix time of the last successful backup job of this kind."),
    "mvp_backup_last_status": ("gauge", "Result of the last backup job of this kind (1 ok, 0 failed)."),
    "mvp_backup_duration_seconds": ("gauge", "Duration of the last backup job of this kind."),
    "mvp_backup_size_bytes": ("gauge", "Size of the last successful backup of this kind."),
    "mvp_backup_verify_last_status": ("gauge", "Result of the last restore verification (1 ok, 0 failed)."),
    "mvp_backup_verify_last_timestamp_seconds": ("gauge", "Unix time of the last restore verification."),
    "mvp_backup_wal_receiving": ("gauge", "1 while pg_receivewal streams from the server over its slot."),
    "mvp_backup_wal_lag_bytes": ("gauge", "WAL the server has written that the archive has not flushed yet."),
    "mvp_backup_wal_lag_seconds": ("gauge", "How far the archive is behind the server, in seconds."),
    "mvp_backup_wal_slot_retained_bytes": ("gauge", "WAL the replication slot holds back on the server."),
    "mvp_backup_wal_slot_cap_bytes": ("gauge", "max_slot_wal_keep_size: beyond it the server drops the slot."),
    "mvp_backup_wal_slot_lost": ("gauge", "1 when the server has invalidated the slot (the archive has a gap)."),
    "mvp_backup_wal_last_segment_timestamp_seconds": ("gauge", "Unix time of the newest completed WAL segment."),
    "mvp_backup_wal_last_write_timestamp_seconds": ("gauge", "Unix time of the newest write to the archive."),
    "mvp_backup_wal_window_start_timestamp_seconds": ("gauge", "Oldest point a restore can reach (Unix time)."),
    "mvp_backup_wal_window_promised_seconds": ("gauge", "How far back point-in-time restores should reach."),
    "mvp_backup_wal_offsite_last_status": ("gauge", "Result of the last WAL push off-site (1 ok, 0 failed)."),
    "mvp_backup_wal_offsite_last_success_timestamp_seconds": ("gauge", "Unix time of the last successful WAL push."),
    "mvp_backup_wal_offsite_last_write_timestamp_seconds": (
        "gauge",
        "Unix time of the newest archive write the off-site copy holds (a lost host loses what came after).",
    ),
    "mvp_backup_wal_offsite_duration_seconds": ("gauge", "Duration of the last WAL push."),
}


def render(samples: list) -> str:
    """Text exposition of (metric, labels, value) samples; None values are left out."""
    lines = []
    seen = set()
    for metric, labels, value in samples:
        if value is None:
            continue
        if metric not in seen:
            mtype, text = _HELP[metric]
            lines += [f"# HELP {metric} {text}", f"# TYPE {metric} {mtype}"]
            seen.add(metric)
        label_text = ",".join(f'{k}="{v}"' for k, v in labels.items())
        lines.append(f"{metric}{{{label_text}}} {value}" if label_text else f"{metric} {value}")
    return "\n".join(lines) + "\n"


def prom_file(cfg, name: str, samples: list) -> None:
    """Write <metrics_dir>/<name>.prom atomically."""
    cfg.metrics_dir.mkdir(parents=True, exist_ok=True)
    target = cfg.metrics_dir / f"{name}.prom"
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=cfg.metrics_dir)
    with os.fdopen(fd, "w") as fh:
        fh.write(render(samples))
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)


def record_result(cfg, kind: str, ok: bool, duration: float, size: int | None) -> None:
    """The result of one job of a kind: state file entry and metrics (a failure keeps the last success)."""
    state = read_json(cfg.state_file) or {}
    entry = state.get(kind, {})
    entry.update({"last_status": 1 if ok else 0, "last_run": int(time.time()), "duration": round(duration, 3)})
    if ok:
        entry["last_success"] = int(time.time())
        if size is not None:
            entry["size"] = int(size)
    state[kind] = entry
    write_json_atomic(cfg.state_file, state, 0o644)
    if kind == "verify":
        prom_file(
            cfg,
            "mvp_backup_verify",
            [
                ("mvp_backup_verify_last_status", {}, entry["last_status"]),
                ("mvp_backup_verify_last_timestamp_seconds", {}, entry["last_run"]),
            ],
        )
        return
    labels = {"kind": kind}
    prom_file(
        cfg,
        f"mvp_backup_{kind}",
        [
            ("mvp_backup_last_success_timestamp_seconds", labels, entry.get("last_success")),
            ("mvp_backup_last_status", labels, entry["last_status"]),
            ("mvp_backup_duration_seconds", labels, entry["duration"]),
            ("mvp_backup_size_bytes", labels, entry.get("size")),
        ],
    )


def record_wal(cfg, state: dict, promised_seconds: int | None) -> None:
    """mvp_backup_wal.prom from the archive's state (wal.status)."""
    win = state.get("window")
    start = None
    if win:
        start = int(datetime.datetime.strptime(win["start"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())
    prom_file(
        cfg,
        "mvp_backup_wal",
        [
            ("mvp_backup_wal_receiving", {}, 1 if state["receiving"] else 0),
            ("mvp_backup_wal_lag_bytes", {}, state.get("lag_bytes")),
            ("mvp_backup_wal_lag_seconds", {}, state.get("lag_seconds")),
            ("mvp_backup_wal_slot_retained_bytes", {}, state.get("slot_retained_bytes")),
            ("mvp_backup_wal_slot_cap_bytes", {}, state.get("slot_cap_bytes")),
            ("mvp_backup_wal_slot_lost", {}, 1 if state.get("slot_state") in ("lost", "missing") else 0),
            ("mvp_backup_wal_last_segment_timestamp_seconds", {}, state.get("last_segment_timestamp")),
            ("mvp_backup_wal_last_write_timestamp_seconds", {}, state.get("last_write_timestamp")),
            ("mvp_backup_wal_window_start_timestamp_seconds", {}, start),
            ("mvp_backup_wal_window_promised_seconds", {}, promised_seconds),
        ],
    )


def record_wal_push(cfg, entry: dict) -> None:
    """mvp_backup_wal_offsite.prom from the push record (last_status, last_success, last_write, duration).

    Its own file and record, not the state file: pushes run beside the locked jobs."""
    prom_file(
        cfg,
        "mvp_backup_wal_offsite",
        [
            ("mvp_backup_wal_offsite_last_status", {}, entry.get("last_status")),
            ("mvp_backup_wal_offsite_last_success_timestamp_seconds", {}, entry.get("last_success")),
            ("mvp_backup_wal_offsite_last_write_timestamp_seconds", {}, entry.get("last_write")),
            ("mvp_backup_wal_offsite_duration_seconds", {}, entry.get("duration")),
        ],
    )
