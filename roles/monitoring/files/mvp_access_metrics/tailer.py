"""What the log gained since the last run: offset and inode in the state, rotation followed.

logrotate renames access.log to access.log.1 (delaycompress keeps it plain for one cycle) and nginx
reopens a new access.log: when the inode changed, the rest of the old file is read from the
rotated name first, then the new file from its start. A log that shrank in place (truncated)
is read from its start.
"""

from __future__ import annotations

import os
from collections.abc import Iterator


def _read_from(path: str, offset: int, limit: int) -> tuple[list[str], int]:
    """Complete lines after `offset` (a partial last line waits for the next run)."""
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read(limit)
    end = data.rfind(b"\n") + 1
    lines = data[:end].decode("utf-8", errors="replace").splitlines()
    return lines, offset + end


def new_lines(path: str, state: dict, limit: int = 64 << 20) -> Iterator[str]:
    """Yield the new lines of `path`, updating state {"inode", "offset"} as they are consumed."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    inode, offset = state.get("inode"), int(state.get("offset", 0))
    if inode is not None and inode != st.st_ino:
        rotated = path + ".1"
        try:
            if os.stat(rotated).st_ino == inode:
                yield from _read_from(rotated, offset, limit)[0]
        except FileNotFoundError:
            pass
        offset = 0
    elif offset > st.st_size:
        offset = 0
    lines, offset = _read_from(path, offset, limit)
    state["inode"], state["offset"] = st.st_ino, offset
    yield from lines
