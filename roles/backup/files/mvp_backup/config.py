# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The job's configuration (/etc/mvp-backup/config.json, rendered by the role) and its check."""

from __future__ import annotations

import json
import re
from pathlib import Path

import _retention

from .common import JobError

DEFAULT_CONFIG = "/etc/mvp-backup/config.json"


class Config:
    def __init__(self, data: dict) -> None:
        self.data = data
        self.root = Path(data["root"])
        self.db = data["db"]
        self.files = data["files"]
        self.offsite = data["offsite"]
        self.docker = data.get("docker", "/usr/bin/docker")
        self.metrics_dir = Path(data["metrics_dir"])
        self.state_file = Path(data.get("state_file", "/var/lib/mvp-backup/state.json"))
        self.lock_file = data.get("lock_file", "/run/lock/mvp-backup.lock")
        self.lock_timeout = int(data.get("lock_timeout", 3600))
        self.verify = data.get("verify", {})
        self.redis = data.get("redis") or {"enabled": False}
        # Continuous WAL archiving (pg_receivewal over a replication slot), physical mode only.
        self.wal = data.get("wal") or {"enabled": False}
        # The host's own state (certificates, database CA, release records): paths to tar.
        self.state = data.get("state") or {"enabled": False}
        # physical: pg_basebackup of the database container; logical: the database is managed
        # elsewhere (a URL), only pg_dump can reach it.
        self.mode = self.db.get("mode", "physical")

    @property
    def db_dir(self) -> Path:
        return self.root / "db"

    @property
    def dump_dir(self) -> Path:
        return self.root / "dump"

    @property
    def redis_dir(self) -> Path:
        return self.root / "redis"

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def files_dir(self) -> Path:
        return self.root / "files"

    @property
    def restore_dir(self) -> Path:
        return self.root / "restore"

    def policy(self, section: dict, key: str = "retention") -> _retention.Policy:
        try:
            return _retention.Policy.from_options(**(section.get(key) or {}))
        except _retention.RetentionError as exc:
            raise JobError(f"invalid retention policy {key}: {exc}") from exc


def check_config(cfg: Config) -> dict:
    """Validate what a job would trip over later: policies, names, paths."""
    for section, key in ((cfg.db, "retention"), (cfg.files, "retention"), (cfg.offsite, "retention_db")):
        cfg.policy(section, key)
    _check_optional_sections(cfg)
    files_policy = cfg.offsite.get("retention_files") or {}
    unknown = sorted(set(files_policy) - set(_retention.POLICY_OPTIONS))
    if unknown:
        raise JobError(f"invalid retention policy retention_files: unknown option(s) {', '.join(unknown)}")
    if not cfg.root.is_absolute() or not cfg.metrics_dir.is_absolute():
        raise JobError("root and metrics_dir must be absolute paths")
    for key in ("container", "user", "database", "staging"):
        if not str(cfg.db.get(key, "")).strip():
            raise JobError(f"db.{key} is empty")
    if not cfg.verify.get("image"):
        raise JobError("verify.image is empty")
    return {"config": "ok"}


def _check_optional_sections(cfg: Config) -> None:
    """The logical-dump settings (database mode logical) and the Redis settings (when enabled)."""
    if cfg.mode not in ("physical", "logical"):
        raise JobError(f"db.mode must be physical or logical, not {cfg.mode!r}")
    if cfg.mode == "logical":
        logical = cfg.db.get("logical") or {}
        for key in ("url_file", "ca_file", "image"):
            if not str(logical.get(key, "")).strip():
                raise JobError(f"db.logical.{key} is empty (database mode logical)")
    if cfg.wal.get("enabled"):
        if not Path(str(cfg.wal.get("dir", ""))).is_absolute():
            raise JobError("wal.dir must be an absolute path")
        if not re.match(r"^[a-z0-9_]{1,63}$", str(cfg.wal.get("slot", "mvp_backup"))):
            raise JobError("wal.slot must be a replication slot name (lower-case letters, digits, _)")
    if cfg.state.get("enabled"):
        paths = cfg.state.get("paths")
        if not isinstance(paths, list) or not paths or not all(str(p).startswith("/") for p in paths):
            raise JobError("state.paths must be a non-empty list of absolute paths")
    if cfg.redis.get("enabled"):
        for key in ("container", "password_file", "image"):
            if not str(cfg.redis.get(key, "")).strip():
                raise JobError(f"redis.{key} is empty")
        cfg.policy(cfg.redis, "retention")


def load_config(path: str) -> Config:
    try:
        with open(path) as fh:
            return Config(json.load(fh))
    except (OSError, ValueError, KeyError) as exc:
        raise JobError(f"cannot read the configuration {path}: {exc}") from exc
