# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host-wide job lock: two jobs (timers, playbooks) never overlap."""

from __future__ import annotations

import errno
import fcntl
import os
import time
from pathlib import Path

from .common import JobError, log


class Lock:
    """flock on a file; waits up to ``timeout`` seconds, then JobError."""

    def __init__(self, path: str, timeout: int, poll: float = 2.0) -> None:
        self.path = path
        self.timeout = timeout
        self.poll = poll
        self.fh = None

    def __enter__(self):
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.path, "a+")
        deadline = time.monotonic() + self.timeout
        announced = False
        while True:
            try:
                fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    self.fh.close()
                    raise JobError(
                        f"another backup job holds {self.path} for more than {self.timeout}s; giving up"
                    ) from exc
                if not announced:
                    log(f"another backup job is running; waiting for {self.path}")
                    announced = True
                time.sleep(self.poll)
        self.fh.seek(0)
        self.fh.truncate()
        self.fh.write(f"{os.getpid()}\n")
        self.fh.flush()
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()
