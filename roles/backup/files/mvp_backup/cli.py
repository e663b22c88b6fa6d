# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The command line: one locked job per run, its result as JSON on stdout, its failure as metrics."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path

import _retention

from . import __doc__ as PACKAGE_DOC
from . import hoststate, store, wal, walpush
from .common import PROG, JobError, log, read_json
from .config import DEFAULT_CONFIG, Config, check_config, load_config
from .dump import logical_dump
from .files import files_backup
from .lock import Lock
from .metrics import record_result, record_wal
from .offsite import offsite_check, offsite_copy
from .postgres import Db, db_backup, password_env
from .redis import redis_backup
from .restore import catalogue, prepare_files_restore, prepare_restore, resolve, restore_state, swap_volume, verify
from .sums import check_sums


def listing(cfg: Config, source: str, from_host: str | None) -> dict:
    out = {}
    for kind in ("db", "files", "dump", "redis", "state"):
        if kind == "files" and source == "offsite" and not cfg.files.get("enabled"):
            continue
        if kind in ("dump", "redis") and (source == "offsite" or not (cfg.root / kind).is_dir()):
            continue
        if kind == "state" and not (cfg.state.get("enabled") if source == "offsite" else cfg.state_dir.is_dir()):
            continue
        backups, _restic = catalogue(cfg, source, from_host, kind)
        out[kind] = [
            {k: v for k, v in m.items() if not k.startswith("_") and k not in ("wal_ranges",)}
            for m in sorted(backups.values(), key=lambda m: m["start"])
        ]
    return out


def wal_status(cfg: Config) -> dict:
    """The archive's state (also written as metrics); no lock: it only reads."""
    if not cfg.wal.get("enabled"):
        raise JobError("the WAL archive is not configured on this host (backup_wal_enabled)")
    state = wal.status(cfg, Db(cfg), list(store.local_backups(cfg.db_dir).values()))
    promise = int(cfg.wal.get("promised_seconds") or 0)
    # An archive younger than the promise cannot keep it yet: no promise, no alert.
    since = state.get("since_timestamp")
    kept = promise if promise and since and time.time() - since >= promise else None
    record_wal(cfg, state, kept)
    return state


def wal_push(cfg: Config) -> dict:
    """One push of the WAL archive off-site; its own lock (never the jobs' one: a push must not
    wait behind an hour-long full backup), waiting at most a minute for an earlier push."""
    if not (cfg.wal.get("enabled") and cfg.offsite.get("enabled")):
        raise JobError("pushing WAL off-site needs the WAL archive and the off-site copy (backup_wal_enabled, offsite)")
    with Lock(str(Path(cfg.lock_file).with_name("mvp-backup-wal-push.lock")), 60):
        return walpush.run_push(cfg, Db(cfg).query)


def parser() -> argparse.ArgumentParser:
    p0 = argparse.ArgumentParser(prog=PROG, description=PACKAGE_DOC.split("\n\n", maxsplit=1)[0])
    p0.add_argument("--config", default=DEFAULT_CONFIG)
    sub = p0.add_subparsers(dest="command", required=True)
    p = sub.add_parser("db", help="take a database backup")
    p.add_argument("--kind", choices=["full", "incremental"], required=True)
    sub.add_parser("files", help="back up the user-files volumes")
    sub.add_parser("dump", help="logical dump of a managed (external) PostgreSQL")
    sub.add_parser("redis", help="back up Redis (BGSAVE, the RDB copied out and checked)")
    sub.add_parser("offsite-check", help="check the off-site repository, reading a subset of the data")
    p = sub.add_parser("state", help="back up the host's own state (certificates, database CA, release records)")
    p.add_argument("--if-changed", action="store_true", help="only when it differs from the newest state backup")
    for name in ("verify", "prepare-restore", "prepare-files-restore", "restore-state", "list", "check-backup"):
        p = sub.add_parser(name)
        p.add_argument("--id", default="latest")
        p.add_argument("--source", choices=["local", "offsite"], default="local")
        p.add_argument("--from-host", default=None)
        p.add_argument("--force", action="store_true")
        if name in ("verify", "prepare-restore"):
            p.add_argument("--target-time", default=None, help="replay archived WAL up to this time (or latest)")
    sub.add_parser("wal-receive", help="run pg_receivewal into the WAL archive (the mvp-backup-wal service)")
    sub.add_parser("wal-status", help="the WAL archive's state and recoverable window; writes its metrics")
    sub.add_parser("wal-push", help="copy the WAL archive off-site (the mvp-backup-wal-push timer)")
    p = sub.add_parser("swap-volume", help="put staged data into a stopped volume, keeping the replaced data")
    p.add_argument("--volume", required=True)
    p.add_argument("--staged", required=True)
    p.add_argument("--keep-name", required=True)
    p.add_argument("--label", action="append", default=[])
    p.add_argument("--force-full", action="store_true")
    sub.add_parser("status", help="last results per kind")
    sub.add_parser("check-config", help="validate the configuration file (retention policies, keys)")
    return p0


def _refuse_logical_backup(cfg: Config) -> None:
    if cfg.mode == "logical":
        raise JobError(
            "physical backups are impossible with a managed PostgreSQL (database mode logical): "
            "run `mvp-backup dump` (backup_kind=dump) instead"
        )


class Job:
    """One locked job run; ``metric`` is the kind whose failure metric a crash records."""

    def __init__(self, cfg: Config, args: argparse.Namespace) -> None:
        self.cfg = cfg
        self.args = args
        self.metric: str | None = None
        self.started = time.monotonic()

    def _ok(self, kind: str, size: int | None) -> None:
        record_result(self.cfg, kind, True, time.monotonic() - self.started, size)

    def _offsite(self, what: str, meta: dict, directory: Path) -> None:
        if self.cfg.offsite.get("enabled"):
            self.metric, self.started = "offsite", time.monotonic()
            offsite_copy(self.cfg, what, meta, directory)
            self._ok("offsite", meta["size"])

    def _backup(self, kind: str, take, directory: Path, section: dict, what: str) -> dict:
        """Take one backup, record it, rotate the local copies, copy it off-site."""
        meta = take(self.cfg)
        self.metric = kind if kind != "db" else ("full" if meta["kind"] == "full" else "incremental")
        self._ok(self.metric, meta["size"])
        store.rotate(directory, self.cfg.policy(section))
        if kind == "db" and self.cfg.wal.get("enabled"):
            wal.prune(Path(self.cfg.wal["dir"]), list(store.local_backups(directory).values()))
        self._offsite(what, meta, directory)
        return meta

    def db(self) -> dict:
        self.metric = self.args.kind
        _refuse_logical_backup(self.cfg)
        return self._backup("db", lambda c: db_backup(c, self.args.kind), self.cfg.db_dir, self.cfg.db, "db")

    def files(self) -> dict:
        self.metric = "files"
        return self._backup("files", files_backup, self.cfg.files_dir, self.cfg.files, "files")

    def dump(self) -> dict:
        self.metric = "dump"
        if self.cfg.mode != "logical":
            raise JobError("logical dumps of a managed PostgreSQL run in database mode logical only (db.mode)")
        return self._backup("dump", logical_dump, self.cfg.dump_dir, self.cfg.db, "dump")

    def redis(self) -> dict:
        self.metric = "redis"
        if not self.cfg.redis.get("enabled"):
            raise JobError("Redis backups are not configured on this host (backup_redis_enabled)")
        return self._backup("redis", redis_backup, self.cfg.redis_dir, self.cfg.redis, "redis")

    def state(self) -> dict:
        self.metric = "state"
        if not self.cfg.state.get("enabled"):
            raise JobError("host-state backups are not configured on this host (backup_state_enabled)")
        meta = hoststate.state_backup(self.cfg, if_changed=self.args.if_changed)
        if meta.get("unchanged"):
            log(f"host state unchanged since {meta['id']}: no new backup")
            self.metric = None
            return meta
        self._ok("state", meta["size"])
        store.rotate(self.cfg.state_dir, self.cfg.policy(self.cfg.files))
        self._offsite("state", meta, self.cfg.state_dir)
        return meta

    def restore_state(self) -> dict:
        a = self.args
        return restore_state(self.cfg, a.id, a.source, a.from_host, a.force)

    def offsite_check(self) -> dict:
        self.metric = "offsite"
        return offsite_check(self.cfg)

    def verify(self) -> dict:
        self.metric = "verify"
        result = verify(
            self.cfg, self.args.id, self.args.source, self.args.from_host, target_time=self.args.target_time
        )
        self._ok("verify", None)
        return result

    def prepare_restore(self) -> dict:
        a = self.args
        return prepare_restore(self.cfg, a.id, a.source, a.from_host, a.force, target_time=a.target_time)

    def prepare_files_restore(self) -> dict:
        return prepare_files_restore(self.cfg, self.args.id, self.args.source, self.args.from_host, self.args.force)

    def check_backup(self) -> dict:
        for suffix, directory in (("-dump", self.cfg.dump_dir), ("-redis", self.cfg.redis_dir)):
            if self.args.id.endswith(suffix):
                meta = store.local_backups(directory).get(self.args.id)
                if meta is None:
                    raise JobError(f"unknown backup id {self.args.id!r} in {directory}")
                problems = check_sums(Path(meta["_path"]), meta)
                if problems:
                    raise JobError(f"backup {self.args.id} is damaged: {json.dumps(problems)[:1500]}")
                return {"chain": [self.args.id], "problems": {}}
        backups = store.local_backups(self.cfg.db_dir)
        chain = store.chain_of(backups, resolve(backups, self.args.id, "database"))
        problems = {m["id"]: check_sums(Path(m["_path"]), m) for m in chain}
        problems = {k: v for k, v in problems.items() if v}
        if problems:
            raise JobError(f"backup chain of {chain[-1]['id']} is damaged: {json.dumps(problems)[:1500]}")
        return {"chain": [m["id"] for m in chain], "problems": {}}

    def swap_volume(self) -> dict:
        a = self.args
        return swap_volume(self.cfg, a.volume, a.staged, a.keep_name, labels=a.label, force_full=a.force_full)


def main(argv: list | None = None) -> int:
    args = parser().parse_args(argv)
    job = None
    try:
        cfg = load_config(args.config)
        if args.command == "check-config":
            result = check_config(cfg)
        elif args.command == "status":
            result = read_json(cfg.state_file) or {}
        elif args.command == "list":
            result = listing(cfg, args.source, args.from_host)
        elif args.command == "wal-receive":
            _refuse_logical_backup(cfg)
            wal.exec_receiver(cfg, {**os.environ, **password_env(cfg)})
        elif args.command == "wal-status":
            result = wal_status(cfg)
        elif args.command == "wal-push":
            result = wal_push(cfg)
        else:
            with Lock(cfg.lock_file, cfg.lock_timeout):
                job = Job(cfg, args)
                result = getattr(job, args.command.replace("-", "_"))()
        sys.stdout.write(json.dumps(result, indent=2, default=str, sort_keys=True) + "\n")
        return 0
    except Exception as exc:
        detail = "" if isinstance(exc, (JobError, _retention.RetentionError)) else f" ({type(exc).__name__})"
        log(f"{args.command} failed{detail}: {exc}", "err")
        if job is not None and job.metric:
            with contextlib.suppress(Exception):
                record_result(job.cfg, job.metric, False, time.monotonic() - job.started, None)
        return 1
