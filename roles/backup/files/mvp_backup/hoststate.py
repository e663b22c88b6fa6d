# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host's own state (BAK-3): what neither the repository nor the vault can rebuild - the TLS
certificates and the ACME account, the database CA, the release records. One tar of the
configured paths per backup (<root>/state/<id>-state/state.tar), taken daily and whenever the
collection changes one of them; ``--if-changed`` takes one only when the paths differ from the
newest backup (a digest over names, owners, modes and contents).
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from . import store
from .common import JobError, log, run

ARCHIVE = "state.tar"


def present(paths: list) -> tuple:
    """(existing, missing) absolute paths, in the configured order."""
    existing, missing = [], []
    for raw in paths:
        path = Path(raw)
        if not path.is_absolute():
            raise JobError(f"state.paths: {raw!r} is not an absolute path")
        (existing if path.exists() or path.is_symlink() else missing).append(str(path))
    return existing, missing


def _entries(path: Path, exclude: frozenset = frozenset()):
    """Every file system entry under path (path itself too) but the excluded ones and what they
    hold, sorted, symlinks not followed."""
    yield path
    if path.is_dir() and not path.is_symlink():
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if str(Path(root) / d) not in exclude)
            for name in sorted(dirs + [f for f in files if str(Path(root) / f) not in exclude]):
                yield Path(root) / name


def digest(paths: list, exclude: list = ()) -> str:
    """sha256 over each entry's name, type, owner, mode and content (a symlink: its target)."""
    h = hashlib.sha256()
    skip = frozenset(str(Path(e)) for e in exclude)
    for top in paths:
        for entry in _entries(Path(top), skip):
            st = entry.lstat()
            h.update(f"{entry}\0{stat.S_IFMT(st.st_mode)}\0{st.st_uid}:{st.st_gid}\0{st.st_mode & 0o7777:o}\0".encode())
            if stat.S_ISLNK(st.st_mode):
                h.update(os.readlink(entry).encode())
            elif stat.S_ISREG(st.st_mode):
                with open(entry, "rb") as fh:
                    for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                        h.update(block)
            h.update(b"\n")
    return h.hexdigest()


def state_backup(cfg, if_changed: bool = False) -> dict:
    """Tar the configured paths into a new state backup; with if_changed, only when they differ
    from the newest complete one (then its metadata, with 'unchanged': True)."""
    existing, missing = present(cfg.state.get("paths") or [])
    if not existing:
        raise JobError(f"none of the host-state paths exists ({', '.join(missing) or 'none configured'})")
    exclude = [str(Path(e)) for e in cfg.state.get("exclude") or []]
    current = digest(existing, exclude)
    store.kind_dir(cfg.state_dir)
    newest = store.newest_complete(store.local_backups(cfg.state_dir))
    if if_changed and newest and newest.get("digest") == current and newest.get("paths") == existing:
        return {**newest, "unchanged": True}
    bdir, meta = store.start_backup(
        cfg.state_dir, "state", type="state", host=cfg.data.get("host"), paths=existing, missing=missing, digest=current
    )
    with store.removed_on_failure(cfg.state_dir, meta):
        run(
            ["tar", "--numeric-owner", "--xattrs", "-C", "/", "-cf", str(bdir / ARCHIVE), "--anchored"]
            + [f"--exclude={e.lstrip('/')}" for e in exclude]
            + [p.lstrip("/") for p in existing],
            timeout=cfg.files.get("timeout"),
        )
        store.finish_backup(bdir, meta, [ARCHIVE])
    note = f"; not present: {', '.join(missing)}" if missing else ""
    log(f"host-state backup {meta['id']} complete ({meta['size']} bytes: {', '.join(existing)}{note})")
    return meta


def extract(archive: Path, root: str = "/") -> None:
    """Unpack a state archive over root, owners and modes as they were."""
    run(["tar", "--numeric-owner", "--xattrs", "--same-permissions", "-C", root, "-xf", str(archive)])
