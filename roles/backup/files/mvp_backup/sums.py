# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Integrity of a stored backup: SHA256SUMS (sha256sum format) over its files, and sizes."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

from .common import META_FILE, SUMS_FILE


def dir_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_sums(backup_dir: Path, subdirs: list) -> str:
    """Write SHA256SUMS for every regular file under the given subpaths; return its own sha256."""
    lines = []
    for sub in subdirs:
        base = backup_dir / sub
        if base.is_file():
            lines.append(f"{sha256_file(base)}  {sub}")
            continue
        for root, dirs, files in os.walk(base):
            dirs.sort()
            for name in sorted(files):
                full = Path(root) / name
                if full.is_symlink() or not full.is_file():
                    continue
                lines.append(f"{sha256_file(full)}  {full.relative_to(backup_dir).as_posix()}")
    sums = backup_dir / SUMS_FILE
    sums.write_text("\n".join(lines) + "\n")
    os.chmod(sums, 0o600)
    return sha256_file(sums)


def check_sums(backup_dir: Path, meta: dict) -> list:
    """Problems found re-reading one stored backup (empty list: intact)."""
    problems = []
    sums = backup_dir / SUMS_FILE
    expected = (meta.get("checksums") or {}).get("sums_sha256")
    if not sums.is_file():
        return [f"{SUMS_FILE} is missing"]
    if expected and sha256_file(sums) != expected:
        problems.append(f"{SUMS_FILE} does not match the checksum recorded in {META_FILE}")
    for line in sums.read_text().splitlines():
        if not line.strip():
            continue
        digest, _sep, rel = line.partition("  ")
        path = backup_dir / rel
        if not path.is_file():
            problems.append(f"missing file {rel}")
        elif sha256_file(path) != digest:
            problems.append(f"checksum mismatch in {rel}")
        if len(problems) > 20:
            problems.append("(more problems not listed)")
            break
    return problems
