# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""User files: one tar per Docker volume (BAK-2)."""

from __future__ import annotations

from . import store
from .common import JobError, log, run
from .docker import volume_mountpoint


def files_backup(cfg) -> dict:
    store.kind_dir(cfg.files_dir)
    bdir, meta = store.start_backup(cfg.files_dir, "files", type="files", host=cfg.data.get("host"), volumes=[])
    with store.removed_on_failure(cfg.files_dir, meta):
        parts = []
        for volume in cfg.files["volumes"]:
            mountpoint = volume_mountpoint(cfg, volume)
            if mountpoint is None:
                raise JobError(f"the user-files volume {volume} does not exist")
            archive = f"{volume}.tar"
            run(
                ["tar", "--numeric-owner", "--xattrs", "-C", str(mountpoint), "-cf", str(bdir / archive), "."],
                timeout=cfg.files.get("timeout"),
            )
            parts.append(archive)
            meta["volumes"].append(volume)
        store.finish_backup(bdir, meta, parts)
    # The files job's result has no '_path' (its JSON output is read as it is).
    log(f"files backup {meta['id']} complete ({meta['size']} bytes, volumes {', '.join(meta['volumes'])})")
    return meta
