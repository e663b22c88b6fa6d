# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Off-site copies with restic to S3: one snapshot per backup, chains rebuilt from its tags."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import _retention

from .common import JobError, log, run

# restic tag of each kind of backup; "files" uses restic's own --keep-* rules, the others the
# chain-aware retention library (dumps and Redis snapshots are chains of one; Redis snapshots use
# the files policy, dumps the database policy).
OFFSITE_TAGS = {"db": "mvp-db", "files": "mvp-files", "dump": "mvp-dump", "redis": "mvp-redis", "state": "mvp-state"}
# Kinds whose backups stand alone (no chain): restic's own --keep-* rules apply off-site.
STANDALONE = ("files", "state")


def read_env_file(path: str) -> dict:
    """KEY=value lines (comments, blank lines and quotes allowed) of restic.env."""
    values = {}
    try:
        with open(path) as fh:
            for raw in fh:
                line = raw.strip()
                if line and not line.startswith("#") and "=" in line:
                    key, _sep, value = line.partition("=")
                    values[key.strip()] = value.strip().strip("'\"")
    except OSError as exc:
        raise JobError(f"cannot read the off-site credentials {path}: {exc}") from exc
    return values


VERSION_RE = re.compile(r"restic (\d+)\.(\d+)\.(\d+)")
# The first restic release with each option the job uses (Debian 12 packages 0.14, Debian 13 0.18).
# "snapshot:path": `restore <snapshot>:<subfolder>` (in 0.16's manual, not in 0.14).
SINCE = {"--retry-lock": (0, 16, 0), "--no-scan": (0, 15, 0), "snapshot:path": (0, 16, 0)}


def parse_version(text: str) -> tuple | None:
    """(major, minor, patch) of `restic version`'s output, None when it says none."""
    match = VERSION_RE.search(text or "")
    return tuple(int(part) for part in match.groups()) if match else None


def supports(version: tuple | None, option: str) -> bool:
    """Whether this restic knows the option (an unknown version is taken to be a current one)."""
    return version is None or version >= SINCE[option]


class Restic:
    def __init__(self, cfg) -> None:
        self.cfg = cfg
        self.o = cfg.offsite
        env = dict(os.environ)
        env.update(read_env_file(self.o["env_file"]))
        env["RESTIC_CACHE_DIR"] = self.o.get("cache_dir", "/var/cache/mvp-backup/restic")
        self.env = env
        self.binary = self.o.get("restic", "/usr/bin/restic")
        self.host = cfg.data.get("host")
        self._base: list | None = None
        self._version: tuple | None = None

    def _probe(self) -> None:
        """Ask restic its version once, and set the global options that version knows."""
        if self._base is not None:
            return
        self._version = parse_version(run([self.binary, "version"], env=self.env, check=False, timeout=60).stdout)
        base = [self.binary]
        # Hosts of an environment share the repository: wait for another host's lock (prune).
        # restic before 0.16 cannot wait; there a locked repository fails this run.
        if supports(self._version, "--retry-lock"):
            base += ["--retry-lock", self.o.get("retry_lock", "30m")]
        for opt in self.o.get("options", []):
            base += ["-o", opt]
        self._base = base

    @property
    def base(self) -> list:
        """restic and its global options, once the installed version is known."""
        self._probe()
        return self._base

    @property
    def version(self) -> tuple | None:
        """The installed restic's version (None: it did not say)."""
        self._probe()
        return self._version

    def __call__(self, *args, check: bool = True, timeout: float | None = None, cwd_json: bool = False):
        cmd = [*self.base, *(["--json"] if cwd_json else []), *args]
        try:
            return run(cmd, env=self.env, check=check, timeout=timeout or self.o.get("timeout", 3600))
        except subprocess.TimeoutExpired as exc:
            raise JobError(f"restic {args[0]} timed out after {exc.timeout}s (is the S3 endpoint reachable?)") from exc
        except JobError as exc:
            raise JobError(f"off-site ({self.env.get('RESTIC_REPOSITORY', '?')}): {exc}") from exc

    def snapshots(self, tag: str, host: str | None = None) -> list:
        args = ["snapshots", "--tag", tag]
        if host:
            args += ["--host", host]
        return json.loads(self(*args, cwd_json=True).stdout or "[]") or []

    def restore_path(self, snapshot: str, path: str, target: Path) -> None:
        """The directory `path` of a snapshot restored as the content of `target` (which exists)."""
        if not path or supports(self.version, "snapshot:path"):
            self("restore", f"{snapshot}:{path}" if path else snapshot, "--target", str(target))
            return
        # An older restic restores the path whole under the target: its content is moved up.
        staging = target / ".mvp-restore"
        self("restore", snapshot, "--target", str(staging), "--include", path)
        restored = staging / path.lstrip("/")
        if not restored.is_dir():
            raise JobError(f"restic restored nothing of {path} from snapshot {snapshot[:8]}")
        for child in restored.iterdir():
            child.rename(target / child.name)
        shutil.rmtree(staging)

    def backup_dir(self, path: Path, tags: list) -> None:
        args = ["backup", "--host", self.host]
        if supports(self.version, "--no-scan"):
            args.append("--no-scan")
        for tag in tags:
            args += ["--tag", tag]
        self(*args, str(path))


def snapshot_tags(snapshot: dict) -> dict:
    return dict(t.split("=", 1) for t in snapshot.get("tags") or [] if "=" in t)


def backup_tags(tag: str, meta: dict) -> list:
    """The tags of a backup's snapshot: enough to rebuild its chain, and to find the WAL a
    point-in-time restore replays from it (cluster, timeline, start LSN), without reading the data."""
    tags = [
        tag,
        f"id={meta['id']}",
        f"kind={meta['kind']}",
        f"parent={meta.get('parent') or ''}",
        f"start={meta['start']}",
    ]
    if meta.get("end"):
        tags.append(f"end={meta['end']}")
    if meta.get("system_identifier"):
        tags.append(f"sysid={meta['system_identifier']}")
    ranges = meta.get("wal_ranges") or []
    if ranges and ranges[0].get("Timeline") is not None and ranges[0].get("Start-LSN"):
        tags.append(f"wal={ranges[0]['Timeline']}:{ranges[0]['Start-LSN']}")
    return tags


def catalogue_entry(snapshot: dict) -> dict | None:
    """Metadata-like dict (with '_snapshot', '_path') of one tagged snapshot, None without an id."""
    tags = snapshot_tags(snapshot)
    if "id" not in tags:
        return None
    entry = {
        "id": tags["id"],
        "kind": tags.get("kind", "full"),
        "parent": tags.get("parent") or None,
        "start": tags.get("start", snapshot.get("time")),
        "status": "complete",
        # Snapshots of older versions carry no end: their start stands in (no point-in-time use).
        "end": tags.get("end") or tags.get("start"),
        "size": None,
        "_snapshot": snapshot["id"],
        "_path": (snapshot.get("paths") or [""])[0],
    }
    if "sysid" in tags:
        entry["system_identifier"] = tags["sysid"]
    timeline, sep, lsn = tags.get("wal", "").partition(":")
    if sep and timeline.isdigit() and lsn:
        entry["wal_ranges"] = [{"Timeline": int(timeline), "Start-LSN": lsn}]
    return entry


def offsite_backups(restic: Restic, host: str, tag: str = "mvp-db") -> dict:
    """id -> metadata-like dict of the off-site backups with that tag."""
    found = {}
    for snap in restic.snapshots(tag, host):
        entry = catalogue_entry(snap)
        if entry is not None:
            found[entry["id"]] = entry
    return found


def retention_doomed(existing: dict, policy: _retention.Policy) -> list:
    """Ids of the off-site backups that the chain-aware policy removes (children first)."""
    backups = []
    for m in existing.values():
        try:
            backups.append(_retention.Backup.from_metadata({**m, "end": m["start"]}))
        except ValueError:
            continue
    return _retention.plan_retention(backups, policy).removed_ids


def offsite_copy(cfg, kind: str, meta: dict, directory: Path) -> None:
    restic = Restic(cfg)
    tag = OFFSITE_TAGS[kind]
    restic.backup_dir(Path(meta["_path"]) if "_path" in meta else directory / meta["id"], backup_tags(tag, meta))
    # Retention off-site: the database chains with the same chain-aware library; files with
    # restic's own --keep-* rules (each files backup stands alone).
    if kind not in STANDALONE:
        existing = offsite_backups(restic, restic.host, tag)
        policy_key = "retention_files" if kind == "redis" else "retention_db"
        removed = retention_doomed(existing, cfg.policy(cfg.offsite, policy_key))
        doomed = [existing[i]["_snapshot"] for i in removed]
        if doomed:
            restic("forget", *doomed)
            log(f"off-site retention forgot {', '.join(removed)}")
    else:
        policy = cfg.offsite.get("retention_files") or {"keep_within": "30d"}
        args = ["forget", "--tag", tag, "--host", restic.host, "--group-by", "host"]
        for key, value in policy.items():
            if value:
                args += [f"--{key.replace('_', '-')}", str(value)]
        restic(*args)
    if cfg.offsite.get("prune", True):
        restic("prune", "--max-unused", cfg.offsite.get("prune_max_unused", "10%"))


def offsite_check(cfg) -> dict:
    restic = Restic(cfg)
    subset = cfg.offsite.get("check_subset", "5%")
    restic("check", f"--read-data-subset={subset}")
    log(f"off-site repository check passed (read {subset} of the data)")
    return {"subset": subset}
