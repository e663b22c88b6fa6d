# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every part of the job uses: the error type, logging, commands, JSON files, times."""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
import syslog
import tempfile
from pathlib import Path

PROG = "mvp-backup"
UTC = datetime.timezone.utc
SUMS_FILE = "SHA256SUMS"
META_FILE = "backup.json"
# Written by a restore: the next database backup is a full (a new chain).
FORCE_FULL = ".force-full"
ID_RE = re.compile(r"^[0-9]{8}T[0-9]{6}Z-(full|incr|files|dump|redis|state)$")
KINDS = ("full", "incremental", "files", "offsite", "dump", "redis", "state")


class JobError(Exception):
    """A failure with a message for the operator (and the journal)."""


# Journal priorities when run by systemd, syslog + stderr otherwise.
_UNDER_JOURNAL = bool(os.environ.get("JOURNAL_STREAM"))
_LEVELS = {"err": (3, syslog.LOG_ERR), "warning": (4, syslog.LOG_WARNING), "info": (6, syslog.LOG_INFO)}


def log(message: str, level: str = "info") -> None:
    prio, sysprio = _LEVELS[level]
    if _UNDER_JOURNAL:
        sys.stderr.write(f"<{prio}>{message}\n")
    else:
        sys.stderr.write(f"{PROG}: {level}: {message}\n" if level != "info" else f"{PROG}: {message}\n")
        syslog.openlog(PROG, syslog.LOG_PID, syslog.LOG_DAEMON)
        syslog.syslog(sysprio, message)
    sys.stderr.flush()


def now_utc() -> datetime.datetime:
    return datetime.datetime.now(UTC).replace(microsecond=0)


def iso(ts: datetime.datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def run(cmd: list, *, stdin=None, stdout=None, check: bool = True, timeout: float | None = None, env=None):
    """Run a command (never through a shell); returns CompletedProcess with text output."""
    proc = subprocess.run(  # noqa: S603  (argument lists built here, no shell)
        [str(c) for c in cmd],
        stdin=stdin,
        stdout=stdout if stdout is not None else subprocess.PIPE,
        stderr=subprocess.PIPE,
        timeout=timeout,
        check=False,
        env=env,
        text=stdout is None,
    )
    if check and proc.returncode != 0:
        err = proc.stderr if isinstance(proc.stderr, str) else proc.stderr.decode(errors="replace")
        raise JobError(
            f"{' '.join(str(c) for c in cmd[:4])} ... failed (exit {proc.returncode}): {err.strip()[-1500:]}"
        )
    return proc


def write_json_atomic(path: Path, data: dict, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def read_json(path: Path) -> dict | None:
    try:
        with open(path) as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
