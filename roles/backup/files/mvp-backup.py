#!/usr/bin/python3
# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""mvp-backup: the backup job of the platform's database host (installed by the backup role).

Standard library only; retention is the collection's ``_retention.py`` deployed beside this file
(the same file the ``mvp_platform.infra.backup_rotate`` module uses). Run by systemd services
(timers) and by the backup/restore/verify playbooks. Every command takes one host-wide lock, so
two jobs never overlap.

    mvp-backup db --kind full|incremental    PostgreSQL physical backup (pg_basebackup in the
                                             database container), rotation, off-site copy
    mvp-backup files                         user-files volumes, rotation, off-site copy
    mvp-backup dump                          logical pg_dump -Fc of a managed (external) PostgreSQL,
                                             in a throwaway container of the postgres image
                                             (sslmode=verify-full with the CA), rotation, off-site
    mvp-backup redis                         Redis: BGSAVE, wait for LASTSAVE to change, copy the
                                             RDB out, redis-check-rdb, rotation, off-site
    mvp-backup offsite-check                 restic check --read-data-subset
    mvp-backup verify [--id ID] [--source local|offsite] [--from-host H]
                                             restore a chain into a scratch container and query it
    mvp-backup list [--json] [--source ...]  backups and their chains
    mvp-backup check-backup --id ID          checksums of one local backup and its chain
    mvp-backup prepare-restore ...           stage, verify and combine a chain (no live change)
    mvp-backup swap-volume ...               put staged data into a (stopped) volume, keep the old
    mvp-backup status                        last results per kind (JSON)

Local layout (``root`` in the configuration)::

    <root>/db/<id>/backup.json       metadata (the _retention.py schema + pg/checksum details)
    <root>/db/<id>/SHA256SUMS        sha256 of every file under data/ (sha256sum format)
    <root>/db/<id>/data/             the pg_basebackup directory (backup_manifest inside)
    <root>/db/<id>/dump.pgc          optional pg_dump -Fc
    <root>/files/<id>/<volume>.tar   user files, one tar per volume
    <root>/dump/<id>/dump.pgc        logical dumps (database mode "logical": managed PostgreSQL)
    <root>/redis/<id>/dump.rdb       Redis snapshots
    <root>/restore/                  staging of restores and verifications
    <root>/.force-full               written by a restore: the next database backup is a full
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import syslog
import tempfile
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import _retention

DEFAULT_CONFIG = "/etc/mvp-backup/config.json"
SUMS_FILE = "SHA256SUMS"
META_FILE = "backup.json"
FORCE_FULL = ".force-full"
ID_RE = re.compile(r"^[0-9]{8}T[0-9]{6}Z-(full|incr|files|dump|redis)$")
KINDS = ("full", "incremental", "files", "offsite", "dump", "redis")
# libpq connection URL parameters passed on to pg_dump as PG* environment variables; the rest
# (Prisma's schema, connection_limit, pool_timeout, ...) mean nothing to pg_dump and are dropped.
URL_PARAMS = {
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "options": "PGOPTIONS",
}
SSL_MODE = "verify-full"
CA_IN_CONTAINER = "/run/mvp-backup/database-ca.pem"
PROG = "mvp-backup"
UTC = datetime.timezone.utc
# Messages that mean "this incremental cannot be taken against that parent": take a full.
CHAIN_ERRORS = re.compile(
    r"WAL summar|summarize_wal|incremental backup|manifest (requires|is from)|system identifier|timeline",
    re.IGNORECASE,
)


class JobError(Exception):
    """A failure with a message for the operator (and the journal)."""


# ----------------------------------------------------------------------------------------------
# Logging: journal priorities when run by systemd, syslog + stderr otherwise
# ----------------------------------------------------------------------------------------------

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


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------


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
    listed = set()
    for line in sums.read_text().splitlines():
        if not line.strip():
            continue
        digest, _sep, rel = line.partition("  ")
        listed.add(rel)
        path = backup_dir / rel
        if not path.is_file():
            problems.append(f"missing file {rel}")
        elif sha256_file(path) != digest:
            problems.append(f"checksum mismatch in {rel}")
        if len(problems) > 20:
            problems.append("(more problems not listed)")
            break
    return problems


class Lock:
    """Host-wide job lock (flock on a file); waits up to ``timeout`` seconds."""

    def __init__(self, path: str, timeout: int) -> None:
        self.path = path
        self.timeout = timeout
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
                    raise JobError(
                        f"another backup job holds {self.path} for more than {self.timeout}s; giving up"
                    ) from exc
                if not announced:
                    log(f"another backup job is running; waiting for {self.path}")
                    announced = True
                time.sleep(2)
        self.fh.seek(0)
        self.fh.truncate()
        self.fh.write(f"{os.getpid()}\n")
        self.fh.flush()
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()


# ----------------------------------------------------------------------------------------------
# Configuration
# ----------------------------------------------------------------------------------------------


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
        # physical: pg_basebackup in the database container; logical: the database is managed
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


# ----------------------------------------------------------------------------------------------
# Metrics (node_exporter textfile collector), written atomically
# ----------------------------------------------------------------------------------------------

_HELP = {
    "mvp_backup_last_success_timestamp_seconds": ("gauge", "Unix time of the last successful backup job of this kind."),
    "mvp_backup_last_status": ("gauge", "Result of the last backup job of this kind (1 ok, 0 failed)."),
    "mvp_backup_duration_seconds": ("gauge", "Duration of the last backup job of this kind."),
    "mvp_backup_size_bytes": ("gauge", "Size of the last successful backup of this kind."),
    "mvp_backup_verify_last_status": ("gauge", "Result of the last restore verification (1 ok, 0 failed)."),
    "mvp_backup_verify_last_timestamp_seconds": ("gauge", "Unix time of the last restore verification."),
}


def _prom_file(cfg: Config, name: str, samples: list) -> None:
    """Write <metrics_dir>/<name>.prom atomically; samples: (metric, labels, value)."""
    cfg.metrics_dir.mkdir(parents=True, exist_ok=True)
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
    target = cfg.metrics_dir / f"{name}.prom"
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=cfg.metrics_dir)
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)


def record_result(cfg: Config, kind: str, ok: bool, duration: float, size: int | None) -> None:
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
        _prom_file(
            cfg,
            "mvp_backup_verify",
            [
                ("mvp_backup_verify_last_status", {}, entry["last_status"]),
                ("mvp_backup_verify_last_timestamp_seconds", {}, entry["last_run"]),
            ],
        )
        return
    labels = {"kind": kind}
    _prom_file(
        cfg,
        f"mvp_backup_{kind}",
        [
            ("mvp_backup_last_success_timestamp_seconds", labels, entry.get("last_success")),
            ("mvp_backup_last_status", labels, entry["last_status"]),
            ("mvp_backup_duration_seconds", labels, entry["duration"]),
            ("mvp_backup_size_bytes", labels, entry.get("size")),
        ],
    )


# ----------------------------------------------------------------------------------------------
# Docker and PostgreSQL
# ----------------------------------------------------------------------------------------------


def psql_args(user: str, database: str, sql: str, *, on_error_stop: bool = True) -> list:
    """psql (no psqlrc, unaligned tuples only) running one statement; ON_ERROR_STOP unless told."""
    return [
        "psql",
        "-X",
        "-At",
        *(["-v", "ON_ERROR_STOP=1"] if on_error_stop else []),
        "-U",
        user,
        "-d",
        database,
        "-c",
        sql,
    ]


def docker_psql(cfg: Config, container: str, sql: str, *, on_error_stop: bool = True) -> list:
    """argv of psql as postgres in a container, as the configured database user and database."""
    return [
        cfg.docker,
        "exec",
        "-u",
        "postgres",
        container,
        *psql_args(cfg.db["user"], cfg.db["database"], sql, on_error_stop=on_error_stop),
    ]


class Db:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.c = cfg.db["container"]
        self.user = cfg.db["user"]
        self.database = cfg.db["database"]
        self.staging = cfg.db["staging"]

    def exec(self, args: list, *, user: str = "postgres", check: bool = True, stdin=None, stdout=None, timeout=None):
        return run(
            [self.cfg.docker, "exec", *(["-i"] if stdin is not None else []), "-u", user, self.c, *args],
            check=check,
            stdin=stdin,
            stdout=stdout,
            timeout=timeout,
        )

    def running(self) -> bool:
        proc = run([self.cfg.docker, "inspect", "-f", "{{.State.Running}}", self.c], check=False)
        return proc.returncode == 0 and proc.stdout.strip() == "true"

    def query(self, sql: str) -> str:
        return self.exec(psql_args(self.user, self.database, sql)).stdout.strip()

    def info(self) -> dict:
        row = self.query(
            "select current_setting('server_version'), current_setting('server_version_num'), "
            "(select system_identifier from pg_control_system()), "
            "(select timeline_id from pg_control_checkpoint()), current_setting('summarize_wal')"
        ).split("|")
        return {
            "pg_version": row[0],
            "pg_version_num": int(row[1]),
            "system_identifier": row[2],
            "timeline": int(row[3]),
            "summarize_wal": row[4],
        }


def docker_volume_mountpoint(cfg: Config, volume: str) -> Path | None:
    proc = run([cfg.docker, "volume", "inspect", "-f", "{{.Driver}} {{.Mountpoint}}", volume], check=False)
    if proc.returncode != 0:
        return None
    driver, _sep, mountpoint = proc.stdout.strip().partition(" ")
    if driver != "local":
        raise JobError(f"volume {volume} uses the driver {driver}; only local volumes are supported")
    return Path(mountpoint)


# ----------------------------------------------------------------------------------------------
# Local backups
# ----------------------------------------------------------------------------------------------


def local_backups(directory: Path) -> dict:
    """id -> metadata (with '_path') of every backup directory with readable metadata."""
    found = {}
    if not directory.is_dir():
        return found
    for entry in sorted(directory.iterdir()):
        if entry.name.startswith(".") or entry.is_symlink() or not entry.is_dir():
            continue
        meta = read_json(entry / META_FILE)
        if meta and isinstance(meta.get("id"), str):
            meta["_path"] = str(entry)
            found[meta["id"]] = meta
    return found


def newest_complete(backups: dict) -> dict | None:
    complete = [m for m in backups.values() if m.get("status") == "complete"]
    return max(complete, key=lambda m: m["start"]) if complete else None


def chain_of(backups: dict, backup_id: str) -> list:
    """[full, incr, ..., backup_id] of complete backups; JobError naming what breaks the chain."""
    chain = []
    seen = set()
    current = backup_id
    while True:
        meta = backups.get(current)
        if meta is None:
            if current == backup_id:
                known = ", ".join(sorted(backups)[-8:]) or "none"
                raise JobError(f"unknown backup id {backup_id!r} (newest known: {known})")
            raise JobError(f"backup {backup_id} needs {current}, which is missing: the chain is broken")
        if meta.get("status") != "complete":
            raise JobError(f"backup {current} is {meta.get('status')}, not complete: it cannot be restored")
        if current in seen:
            raise JobError(f"backup chain of {backup_id} loops at {current}")
        seen.add(current)
        chain.append(meta)
        if meta.get("kind") == "full":
            return list(reversed(chain))
        current = meta.get("parent")
        if not current:
            raise JobError(f"incremental backup {meta['id']} has no parent")


def cleanup_unfinished(directory: Path) -> None:
    """Remove failed/running backups left behind (we hold the lock: none is in progress)."""
    for backup_id, meta in local_backups(directory).items():
        if meta.get("status") in ("failed", "running"):
            log(f"removing unfinished backup {backup_id} (status {meta.get('status')})", "warning")
            _retention.remove_tree(meta["_path"])


def rotate(directory: Path, policy: _retention.Policy) -> list:
    try:
        plan = _retention.rotate(str(directory), policy)
    except _retention.RetentionError as exc:
        raise JobError(f"retention in {directory} failed: {exc}") from exc
    for backup_id, reasons in plan.removed:
        log(f"retention removed {backup_id}: {'; '.join(reasons)}")
    for path, reason in plan.ignored:
        log(f"retention ignored {path}: {reason}", "warning")
    return plan.removed_ids


def _start_backup(directory: Path, suffix: str, **fields) -> tuple:
    """(bdir, meta) of a new backup <directory>/<UTC time>-<suffix>, its metadata written "running".

    fields: the kind's own metadata (type, host, ...); kind "full" and no parent unless given.
    """
    start = now_utc()
    backup_id = f"{start.strftime('%Y%m%dT%H%M%SZ')}-{suffix}"
    bdir = directory / backup_id
    bdir.mkdir(mode=0o700)
    meta = {
        "id": backup_id,
        "kind": "full",
        "parent": None,
        "start": iso(start),
        "end": None,
        "status": "running",
        "size": None,
        **fields,
    }
    write_json_atomic(bdir / META_FILE, meta, 0o600)
    return bdir, meta


def _backup_dir(directory: Path) -> None:
    """The directory of one kind of backup (mode 0700), without unfinished backups."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    cleanup_unfinished(directory)


@contextlib.contextmanager
def _removed_on_failure(directory: Path, meta: dict, **failed):
    """On any exception in the block: metadata marked failed (plus ``failed`` fields) and written,
    the backup directory <directory>/<meta id> removed, the exception re-raised."""
    try:
        yield
    except BaseException as exc:
        meta.update({"status": "failed", "error": str(exc)[:2000], **failed})
        bdir = directory / meta["id"]
        with contextlib.suppress(OSError):
            write_json_atomic(bdir / META_FILE, meta, 0o600)
            _retention.remove_tree(str(bdir))
        raise


def _finish_backup(bdir: Path, meta: dict, parts: list, *, sums_first: bool = False, checksums=None, **fields):
    """Mark a backup complete: SHA256SUMS of parts, end, status, size, checksums and the kind's own
    fields in the metadata, written atomically.

    The size is measured before SHA256SUMS is written, except with sums_first (database backups:
    SHA256SUMS written and timed first, so the size counts it). checksums: extra checksum entries.
    """
    if sums_first:
        started = time.monotonic()
        sums_sha = write_sums(bdir, parts)
        meta["timings"]["sha256sums"] = round(time.monotonic() - started, 3)
    end, size = iso(now_utc()), dir_size(bdir)
    if not sums_first:
        sums_sha = write_sums(bdir, parts)
    meta.update(
        {
            **fields,
            "end": end,
            "status": "complete",
            "size": size,
            "checksums": {"algorithm": "sha256", "sums_file": SUMS_FILE, "sums_sha256": sums_sha, **(checksums or {})},
        }
    )
    write_json_atomic(bdir / META_FILE, meta, 0o600)


def _done(meta: dict, bdir: Path, message: str) -> dict:
    """Log the completed backup; its metadata with '_path'."""
    log(message)
    meta["_path"] = str(bdir)
    return meta


# ----------------------------------------------------------------------------------------------
# Database backup
# ----------------------------------------------------------------------------------------------


def _chain_problem(cfg: Config, info: dict, parent: dict | None) -> str | None:
    """Why an incremental cannot be taken against parent now (None: it can)."""
    marker = cfg.root / FORCE_FULL
    if marker.exists():
        return marker.read_text().strip() or "a restore replaced the data"
    if info["summarize_wal"] != "on":
        return "summarize_wal is off on the server (incrementals need it)"
    if parent is None:
        return "no complete backup to take an incremental against"
    checks = [
        (str(parent.get("system_identifier")) == str(info["system_identifier"]), "is of another cluster"),
        (int(parent.get("timeline", 0)) == info["timeline"], f"is on timeline {parent.get('timeline')}"),
        ((Path(parent["_path"]) / "data" / "backup_manifest").is_file(), "has no manifest"),
    ]
    for ok, problem in checks:
        if not ok:
            return f"the newest backup {parent['id']} {problem}"
    return None


def choose_parent(cfg: Config, info: dict, requested: str) -> tuple:
    """(kind, parent_meta, reason) for the requested kind."""
    if requested == "full":
        return "full", None, "requested"
    parent = newest_complete(local_backups(cfg.db_dir))
    problem = _chain_problem(cfg, info, parent)
    if problem:
        return "full", None, f"chain broken: {problem}"
    return "incremental", parent, "scheduled"


def _base_backup(cfg: Config, db: Db, target: str, parent: dict | None, timings: dict) -> None:
    args = [
        "pg_basebackup",
        "-U",
        db.user,
        "-D",
        target,
        "-X",
        "stream",
        "-c",
        cfg.db.get("checkpoint", "fast"),
        "--no-password",
        "-l",
        f"mvp-backup {os.path.basename(target)}",
    ]
    if cfg.db.get("max_rate"):
        args += ["--max-rate", cfg.db["max_rate"]]
    if parent is not None:
        manifest = f"{db.staging}/parent.manifest"
        with open(Path(parent["_path"]) / "data" / "backup_manifest", "rb") as fh:
            db.exec(["sh", "-c", 'cat > "$1"', "sh", manifest], stdin=fh)
        args.append(f"--incremental={manifest}")
    started = time.monotonic()
    db.exec(args, timeout=cfg.db.get("timeout"))
    timings["pg_basebackup"] = round(time.monotonic() - started, 3)
    started = time.monotonic()
    db.exec(["pg_verifybackup", "--quiet", target], timeout=cfg.db.get("timeout"))
    timings["pg_verifybackup"] = round(time.monotonic() - started, 3)


def _take(cfg: Config, db: Db, bdir: Path, meta: dict, parent: dict | None) -> Path:
    """pg_basebackup (+ fallback to a full when the chain is refused) and copy-out; returns bdir."""
    target = f"{db.staging}/{meta['id']}"
    db.exec(["sh", "-c", 'rm -rf "$1" && mkdir -p "$1" && chmod 700 "$1"', "sh", db.staging])
    try:
        _base_backup(cfg, db, target, parent, meta["timings"])
    except JobError as exc:
        if parent is None or not CHAIN_ERRORS.search(str(exc)):
            raise
        log(f"the incremental against {parent['id']} failed ({exc}); taking a full backup instead", "warning")
        new_id = meta["id"].rsplit("-", 1)[0] + "-full"
        new_dir = bdir.parent / new_id
        os.rename(bdir, new_dir)
        bdir = new_dir
        meta.update({"id": new_id, "kind": "full", "parent": None, "reason": f"chain broken: {str(exc)[:300]}"})
        write_json_atomic(bdir / META_FILE, meta, 0o600)
        target = f"{db.staging}/{new_id}"
        db.exec(["sh", "-c", 'rm -rf "$1" && mkdir -p "$1" && chmod 700 "$1"', "sh", db.staging])
        _base_backup(cfg, db, target, None, meta["timings"])
    # Copy out of the container (docker cp streams a tar; owners are kept).
    started = time.monotonic()
    run([cfg.docker, "cp", f"{db.c}:{target}", str(bdir / "data")], timeout=cfg.db.get("timeout"))
    meta["timings"]["docker_cp"] = round(time.monotonic() - started, 3)
    return bdir


def _finish(cfg: Config, db: Db, bdir: Path, meta: dict) -> None:
    """Optional pg_dump, checksums, metadata marked complete."""
    parts = ["data"]
    if cfg.db.get("pg_dump"):
        with open(bdir / "dump.pgc", "wb") as out:
            db.exec(["pg_dump", "-Fc", "-U", db.user, "-d", db.database], stdout=out, timeout=cfg.db.get("timeout"))
        parts.append("dump.pgc")
    manifest = read_json(bdir / "data" / "backup_manifest") or {}
    _finish_backup(
        bdir,
        meta,
        parts,
        sums_first=True,
        checksums={"manifest_checksum": manifest.get("Manifest-Checksum")},
        wal_ranges=manifest.get("WAL-Ranges"),
        verified_by="pg_verifybackup",
        pg_dump=bool(cfg.db.get("pg_dump")),
    )


def db_backup(cfg: Config, requested: str) -> dict:
    db = Db(cfg)
    if not db.running():
        raise JobError(f"the database container {db.c} is not running")
    _backup_dir(cfg.db_dir)
    info = db.info()
    kind, parent, reason = choose_parent(cfg, info, requested)
    if requested == "incremental" and kind == "full":
        log(f"taking a full backup instead of an incremental: {reason}", "warning")
    try:
        bdir, meta = _start_backup(
            cfg.db_dir,
            "full" if kind == "full" else "incr",
            kind=kind,
            parent=parent["id"] if parent else None,
            type="postgresql",
            host=cfg.data.get("host"),
            container=db.c,
            database=db.database,
            reason=reason,
            timings={},
            **{k: info[k] for k in ("pg_version", "pg_version_num", "system_identifier", "timeline")},
        )
    except FileExistsError as exc:
        raise JobError(f"{exc.filename} already exists (two backups in the same second?)") from exc
    try:
        with _removed_on_failure(cfg.db_dir, meta, end=None):
            bdir = _take(cfg, db, bdir, meta, parent)
            _finish(cfg, db, bdir, meta)
    finally:
        db.exec(["rm", "-rf", db.staging], check=False)
    if meta["kind"] == "full":
        with contextlib.suppress(FileNotFoundError):
            (cfg.root / FORCE_FULL).unlink()
    return _done(
        meta,
        bdir,
        f"{meta['kind']} backup {meta['id']} complete ({meta['size']} bytes, parent {meta['parent']}, verified)",
    )


# ----------------------------------------------------------------------------------------------
# User files
# ----------------------------------------------------------------------------------------------


def files_backup(cfg: Config) -> dict:
    _backup_dir(cfg.files_dir)
    bdir, meta = _start_backup(cfg.files_dir, "files", type="files", host=cfg.data.get("host"), volumes=[])
    with _removed_on_failure(cfg.files_dir, meta):
        parts = []
        for volume in cfg.files["volumes"]:
            mountpoint = docker_volume_mountpoint(cfg, volume)
            if mountpoint is None:
                raise JobError(f"the user-files volume {volume} does not exist")
            archive = f"{volume}.tar"
            run(
                ["tar", "--numeric-owner", "--xattrs", "-C", str(mountpoint), "-cf", str(bdir / archive), "."],
                timeout=cfg.files.get("timeout"),
            )
            parts.append(archive)
            meta["volumes"].append(volume)
        _finish_backup(bdir, meta, parts)
    # The files job's result has no '_path' (its JSON output is read as it is).
    log(f"files backup {meta['id']} complete ({meta['size']} bytes, volumes {', '.join(meta['volumes'])})")
    return meta


# ----------------------------------------------------------------------------------------------
# Logical dumps of a managed (external) PostgreSQL
# ----------------------------------------------------------------------------------------------


def database_env(url: str) -> tuple:
    """(PG* environment for pg_dump, ignored URL parameters) from a postgresql:// URL.

    The connection always uses sslmode=verify-full with the CA mounted in the container: a URL
    asking for another sslmode is refused. Values travel as environment variables, never as
    arguments (a URL on a command line shows its password in `ps`).
    """
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise JobError(f"the database URL is malformed: {exc}") from exc
    if parts.scheme not in ("postgres", "postgresql"):
        raise JobError("the database URL must start with postgresql:// (or postgres://)")
    if not parts.hostname:
        raise JobError("the database URL names no host")
    database = urllib.parse.unquote(parts.path.lstrip("/"))
    if not database or "/" in database:
        raise JobError("the database URL names no database (postgresql://user:password@host:port/DATABASE)")
    env = {
        "PGHOST": parts.hostname,
        "PGPORT": str(port or 5432),
        "PGDATABASE": database,
        "PGSSLMODE": SSL_MODE,
        "PGSSLROOTCERT": CA_IN_CONTAINER,
    }
    if parts.username:
        env["PGUSER"] = urllib.parse.unquote(parts.username)
    if parts.password is not None:
        env["PGPASSWORD"] = urllib.parse.unquote(parts.password)
    ignored = []
    for key, values in urllib.parse.parse_qs(parts.query, keep_blank_values=True).items():
        value = values[-1]
        if key == "sslmode":
            if value != SSL_MODE:
                raise JobError(
                    f"the database URL asks for sslmode={value}: backups connect with sslmode={SSL_MODE} only "
                    "(drop the parameter or set it to verify-full)"
                )
        elif key in URL_PARAMS:
            env[URL_PARAMS[key]] = value
        else:
            ignored.append(key)
    return env, sorted(ignored)


def _pg_version_of_dump(listing: str) -> str | None:
    match = re.search(r"Dumped from database version: (\S+)", listing)
    return match.group(1) if match else None


def logical_dump(cfg: Config) -> dict:
    """pg_dump -Fc of the managed database, run in a throwaway container of the postgres image."""
    logical = cfg.db.get("logical") or {}
    try:
        url = Path(logical["url_file"]).read_text()
    except OSError as exc:
        raise JobError(f"cannot read the database URL {logical.get('url_file')}: {exc}") from exc
    env, ignored = database_env(url)
    if ignored:
        log(f"URL parameters ignored by pg_dump: {', '.join(ignored)}")
    _backup_dir(cfg.dump_dir)
    bdir, meta = _start_backup(
        cfg.dump_dir,
        "dump",
        type="postgresql-logical",
        host=cfg.data.get("host"),
        server=f"{env['PGHOST']}:{env['PGPORT']}",
        database=env["PGDATABASE"],
        sslmode=SSL_MODE,
        timings={},
    )
    timeout = logical.get("timeout") or cfg.db.get("timeout")
    image = logical["image"]
    with _removed_on_failure(cfg.dump_dir, meta):
        cmd = [cfg.docker, "run", "--rm", "--network", logical.get("network") or "bridge", "--entrypoint", ""]
        cmd += ["-v", f"{logical['ca_file']}:{CA_IN_CONTAINER}:ro"]
        for name in sorted(env):
            cmd += ["-e", name]  # the value comes from this process's environment, not argv
        started = time.monotonic()
        with open(bdir / "dump.pgc", "wb") as out:
            run(
                [*cmd, image, "pg_dump", "-Fc", "--no-password"],
                stdout=out,
                timeout=timeout,
                env={**os.environ, **env},
            )
        meta["timings"]["pg_dump"] = round(time.monotonic() - started, 3)
        started = time.monotonic()
        listing = _check_in_scratch(cfg, image, bdir, ["pg_restore", "--list", "/backup/dump.pgc"], timeout)
        meta["timings"]["pg_restore_list"] = round(time.monotonic() - started, 3)
        _finish_backup(
            bdir,
            meta,
            ["dump.pgc"],
            pg_version=_pg_version_of_dump(listing),
            toc_entries=sum(1 for line in listing.splitlines() if line and not line.startswith(";")),
            verified_by="pg_restore --list",
        )
    return _done(
        meta,
        bdir,
        f"logical dump {meta['id']} of {meta['database']} on {meta['server']} complete ({meta['size']} bytes)",
    )


# ----------------------------------------------------------------------------------------------
# Redis: BGSAVE, wait for LASTSAVE to change, copy the RDB out, redis-check-rdb
# ----------------------------------------------------------------------------------------------


class RedisCli:
    """redis-cli in the Redis container; the password travels in REDISCLI_AUTH, never in argv."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.c = cfg.redis["container"]
        try:
            password = Path(cfg.redis["password_file"]).read_text().strip()
        except OSError as exc:
            raise JobError(f"cannot read the Redis password {cfg.redis['password_file']}: {exc}") from exc
        self.env = {**os.environ, "REDISCLI_AUTH": password}

    def __call__(self, *args) -> str:
        cli = ["redis-cli", "--no-auth-warning", "-e", "-h", "127.0.0.1", "-p", "6379"]
        proc = run([self.cfg.docker, "exec", "-e", "REDISCLI_AUTH", self.c, *cli, *args], env=self.env, timeout=60)
        return proc.stdout.strip()

    def info(self, section: str) -> dict:
        pairs = (line.split(":", 1) for line in self("INFO", section).splitlines() if ":" in line)
        return {k.strip(): v.strip() for k, v in pairs}


def _bgsave(cli: RedisCli, timeout: int) -> int:
    """BGSAVE and wait until LASTSAVE moves past its value before and no save runs; the new LASTSAVE."""
    before = int(cli("LASTSAVE"))
    # LASTSAVE counts seconds: a save finishing in this very second would hide ours.
    if int(cli("TIME").split()[0]) <= before:
        time.sleep(1.1)
    answer = cli("BGSAVE", "SCHEDULE")
    deadline = time.monotonic() + timeout
    while True:
        persistence = cli.info("persistence")
        lastsave = int(cli("LASTSAVE"))
        if lastsave > before and persistence.get("rdb_bgsave_in_progress") == "0":
            break
        if time.monotonic() > deadline:
            raise JobError(f"BGSAVE ({answer}) did not finish within {timeout}s")
        time.sleep(0.5)
    if persistence.get("rdb_last_bgsave_status") != "ok":
        raise JobError(f"BGSAVE failed (rdb_last_bgsave_status={persistence.get('rdb_last_bgsave_status')})")
    return lastsave


def _check_in_scratch(cfg: Config, image: str, bdir: Path, args: list, timeout) -> str:
    """Run a checking tool of the image on the backup directory (read-only, no network); its output."""
    cmd = [cfg.docker, "run", "--rm", "--network", "none", "--entrypoint", "", "-v", f"{bdir}:/backup:ro", image]
    return run([*cmd, *args], timeout=timeout).stdout


def redis_backup(cfg: Config) -> dict:
    r = cfg.redis
    if not _container_running(cfg, r["container"]):
        raise JobError(f"the Redis container {r['container']} is not running")
    cli = RedisCli(cfg)
    _backup_dir(cfg.redis_dir)
    bdir, meta = _start_backup(
        cfg.redis_dir, "redis", type="redis", host=cfg.data.get("host"), container=r["container"], timings={}
    )
    with _removed_on_failure(cfg.redis_dir, meta):
        started = time.monotonic()
        lastsave = _bgsave(cli, int(r.get("bgsave_timeout", 600)))
        meta["timings"]["bgsave"] = round(time.monotonic() - started, 3)
        directory = cli("CONFIG", "GET", "dir").splitlines()[-1]
        dbfilename = cli("CONFIG", "GET", "dbfilename").splitlines()[-1]
        started = time.monotonic()
        source = f"{r['container']}:{directory}/{dbfilename}"
        run([cfg.docker, "cp", source, str(bdir / "dump.rdb")], timeout=r.get("timeout"))
        meta["timings"]["docker_cp"] = round(time.monotonic() - started, 3)
        started = time.monotonic()
        check = _check_in_scratch(cfg, r["image"], bdir, ["redis-check-rdb", "/backup/dump.rdb"], r.get("timeout"))
        meta["timings"]["redis_check_rdb"] = round(time.monotonic() - started, 3)
        server = cli.info("server")
        keyspace = cli.info("keyspace")
        _finish_backup(
            bdir,
            meta,
            ["dump.rdb"],
            redis_version=server.get("redis_version"),
            lastsave=lastsave,
            keyspace=keyspace,
            verified_by="redis-check-rdb",
            check=check.strip().splitlines()[-1:],
        )
    return _done(
        meta, bdir, f"redis backup {meta['id']} complete ({meta['size']} bytes, {len(meta['keyspace'])} database(s))"
    )


def _container_running(cfg: Config, container: str) -> bool:
    proc = run([cfg.docker, "inspect", "-f", "{{.State.Running}}", container], check=False)
    return proc.returncode == 0 and proc.stdout.strip() == "true"


# ----------------------------------------------------------------------------------------------
# Off-site (restic)
# ----------------------------------------------------------------------------------------------


class Restic:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.o = cfg.offsite
        env = dict(os.environ)
        env.update(self._env_file(self.o["env_file"]))
        env["RESTIC_CACHE_DIR"] = self.o.get("cache_dir", "/var/cache/mvp-backup/restic")
        self.env = env
        # Hosts of an environment share the repository: wait for another host's lock (prune).
        self.base = [self.o.get("restic", "/usr/bin/restic"), "--retry-lock", self.o.get("retry_lock", "30m")]
        for opt in self.o.get("options", []):
            self.base += ["-o", opt]
        self.host = cfg.data.get("host")

    @staticmethod
    def _env_file(path: str) -> dict:
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

    def backup_dir(self, path: Path, tags: list) -> None:
        args = ["backup", "--host", self.host, "--no-scan"]
        for tag in tags:
            args += ["--tag", tag]
        self(*args, str(path))


def _tags(snapshot: dict) -> dict:
    return dict(t.split("=", 1) for t in snapshot.get("tags") or [] if "=" in t)


# restic tag of each kind of backup; "files" uses restic's own --keep-* rules, the others the
# chain-aware retention library (dumps and Redis snapshots are chains of one; Redis snapshots use
# the files policy, dumps the database policy).
OFFSITE_TAGS = {"db": "mvp-db", "files": "mvp-files", "dump": "mvp-dump", "redis": "mvp-redis"}


def offsite_db_backups(restic: Restic, host: str, tag: str = "mvp-db") -> dict:
    """id -> metadata-like dict (with '_snapshot', '_path') of the off-site backups with that tag."""
    found = {}
    for snap in restic.snapshots(tag, host):
        tags = _tags(snap)
        if "id" not in tags:
            continue
        found[tags["id"]] = {
            "id": tags["id"],
            "kind": tags.get("kind", "full"),
            "parent": tags.get("parent") or None,
            "start": tags.get("start", snap.get("time")),
            "status": "complete",
            "end": tags.get("start"),
            "size": None,
            "_snapshot": snap["id"],
            "_path": (snap.get("paths") or [""])[0],
        }
    return found


def offsite_copy(cfg: Config, kind: str, meta: dict, directory: Path) -> None:
    restic = Restic(cfg)
    tag = OFFSITE_TAGS[kind]
    restic.backup_dir(
        Path(meta["_path"]) if "_path" in meta else directory / meta["id"],
        [
            tag,
            f"id={meta['id']}",
            f"kind={meta['kind']}",
            f"parent={meta.get('parent') or ''}",
            f"start={meta['start']}",
        ],
    )
    # Retention off-site: the database chains with the same chain-aware library; files with
    # restic's own --keep-* rules (each files backup stands alone).
    if kind != "files":
        backups = []
        existing = offsite_db_backups(restic, restic.host, tag)
        for m in existing.values():
            with contextlib.suppress(ValueError):
                backups.append(_retention.Backup.from_metadata({**m, "end": m["start"]}))
        policy_key = "retention_files" if kind == "redis" else "retention_db"
        plan = _retention.plan_retention(backups, cfg.policy(cfg.offsite, policy_key))
        doomed = [existing[i]["_snapshot"] for i in plan.removed_ids]
        if doomed:
            restic("forget", *doomed)
            log(f"off-site retention forgot {', '.join(plan.removed_ids)}")
    else:
        policy = cfg.offsite.get("retention_files") or {"keep_within": "30d"}
        args = ["forget", "--tag", "mvp-files", "--host", restic.host, "--group-by", "host"]
        for key, value in policy.items():
            if value:
                args += [f"--{key.replace('_', '-')}", str(value)]
        restic(*args)
    if cfg.offsite.get("prune", True):
        restic("prune", "--max-unused", cfg.offsite.get("prune_max_unused", "10%"))


def offsite_check(cfg: Config) -> dict:
    restic = Restic(cfg)
    subset = cfg.offsite.get("check_subset", "5%")
    restic("check", f"--read-data-subset={subset}")
    log(f"off-site repository check passed (read {subset} of the data)")
    return {"subset": subset}


# ----------------------------------------------------------------------------------------------
# Restore: stage, verify, combine (touches nothing live)
# ----------------------------------------------------------------------------------------------


def _catalogue(cfg: Config, source: str, from_host: str | None, kind: str = "db") -> tuple:
    """(backups, restic or None) of the source."""
    if source == "local":
        dirs = {"db": cfg.db_dir, "files": cfg.files_dir, "dump": cfg.dump_dir, "redis": cfg.redis_dir}
        return local_backups(dirs[kind]), None
    if not cfg.offsite.get("enabled"):
        raise JobError("backup_source=offsite, but the off-site copy is not configured on this host")
    restic = Restic(cfg)
    host = from_host or restic.host
    if kind == "db":
        return offsite_db_backups(restic, host), restic
    found = {}
    for snap in restic.snapshots("mvp-files", host):
        tags = _tags(snap)
        if "id" in tags:
            found[tags["id"]] = {
                "id": tags["id"],
                "kind": "full",
                "parent": None,
                "start": tags.get("start", snap["time"]),
                "status": "complete",
                "_snapshot": snap["id"],
                "_path": (snap.get("paths") or [""])[0],
            }
    return found, restic


def _resolve(backups: dict, backup_id: str, what: str) -> str:
    if backup_id in ("", "latest"):
        newest = newest_complete(backups)
        if newest is None:
            raise JobError(f"there is no complete {what} backup to restore")
        return newest["id"]
    if not ID_RE.match(backup_id):
        raise JobError(f"backup id {backup_id!r} is not of the form YYYYMMDDTHHMMSSZ-full|incr|files")
    if backup_id not in backups:
        known = ", ".join(sorted(backups)[-8:]) or "none"
        raise JobError(f"unknown {what} backup id {backup_id!r} (newest known: {known})")
    return backup_id


def _fetch(restic: Restic, meta: dict, dest: Path) -> Path:
    """Restore one off-site snapshot's backup directory to dest/<id>; returns it."""
    target = dest / meta["id"]
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    restic("restore", f"{meta['_snapshot']}:{meta['_path']}", "--target", str(target))
    return target


def _scratch(cfg: Config, mounts: list, args: list, *, user: str = "root", timeout=None, name=None) -> str:
    cmd = [cfg.docker, "run", "--rm", "--network", "none", "--entrypoint", "", "-u", user]
    if name:
        cmd += ["--name", name]
    for host_path, container_path, mode in mounts:
        cmd += ["-v", f"{host_path}:{container_path}:{mode}"]
    return run([*cmd, cfg.verify["image"], *args], timeout=timeout).stdout


def _refuse_logical(cfg: Config) -> None:
    if cfg.mode == "logical":
        raise JobError(
            "this host takes logical dumps of a managed PostgreSQL only (backup_database_mode=logical): there is no "
            f"physical backup to restore or verify. Restore a dump from {cfg.dump_dir} with pg_restore as described in "
            "docs/restore-runbook.md (Managed PostgreSQL)"
        )


def prepare_restore(cfg: Config, backup_id: str, source: str, from_host: str | None, force: bool) -> dict:
    _refuse_logical(cfg)
    backups, restic = _catalogue(cfg, source, from_host)
    backup_id = _resolve(backups, backup_id, "database")
    chain = chain_of(backups, backup_id)
    work = cfg.restore_dir / "db"
    if work.exists():
        shutil.rmtree(work)
    (work / "chain").mkdir(parents=True)
    os.chmod(cfg.restore_dir, 0o700)
    problems = {}
    dirs = []
    for meta in chain:
        bdir = _fetch(restic, meta, work / "chain") if restic else Path(meta["_path"])
        stored = read_json(bdir / META_FILE) or {}
        issues = check_sums(bdir, stored) if stored else [f"{META_FILE} is missing or unreadable"]
        if issues:
            problems[meta["id"]] = issues
        dirs.append(bdir)
    combined = work / "combined"
    image_dirs = [f"/chain/{i}/data" for i in range(len(dirs))]
    mounts = [(str(d), f"/chain/{i}", "ro") for i, d in enumerate(dirs)] + [(str(work), "/work", "rw")]
    pg_problems = []
    for i, meta in enumerate(chain):
        try:
            _scratch(cfg, mounts, ["pg_verifybackup", "--quiet", image_dirs[i]], timeout=cfg.db.get("timeout"))
        except JobError as exc:
            pg_problems.append(f"{meta['id']}: {exc}")
    if pg_problems:
        problems["pg_verifybackup"] = pg_problems
    if problems and not force:
        raise JobError(
            f"backup {backup_id} failed verification, refusing to restore it (force_restore=yes overrides): "
            + json.dumps(problems)[:3000]
        )
    if problems:
        log(f"restoring {backup_id} DESPITE failed verification (forced): {json.dumps(problems)[:1000]}", "warning")
    if len(chain) == 1:
        combine = f"cp -a {image_dirs[0]} /work/combined"
    else:
        combine = "pg_combinebackup -o /work/combined " + " ".join(image_dirs)
    script = (
        f"set -e; {combine}; "
        + ("" if problems else "pg_verifybackup --quiet /work/combined; ")
        + "rm -f /work/combined/backup_manifest; chown -R postgres:postgres /work/combined; chmod 700 /work/combined"
    )
    _scratch(cfg, mounts, ["sh", "-c", script], timeout=cfg.db.get("timeout"))
    result = {
        "id": backup_id,
        "source": source,
        "from_host": from_host or cfg.data.get("host"),
        "chain": [m["id"] for m in chain],
        "staging": str(combined),
        "verified": not problems,
        "problems": problems,
        "start": chain[-1]["start"],
    }
    write_json_atomic(work / "prepared.json", result, 0o600)
    log(f"prepared the restore of {backup_id} (chain {' -> '.join(result['chain'])}) in {combined}")
    return result


def prepare_files_restore(cfg: Config, backup_id: str, source: str, from_host: str | None, force: bool) -> dict:
    backups, restic = _catalogue(cfg, source, from_host, kind="files")
    backup_id = _resolve(backups, backup_id, "files")
    work = cfg.restore_dir / "files"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    meta = backups[backup_id]
    bdir = _fetch(restic, meta, work / "fetched") if restic else Path(meta["_path"])
    stored = read_json(bdir / META_FILE) or {}
    problems = check_sums(bdir, stored) if stored else [f"{META_FILE} is missing"]
    if problems and not force:
        raise JobError(
            f"files backup {backup_id} failed verification, refusing (force_restore=yes overrides): {problems}"
        )
    volumes = {}
    for volume in stored.get("volumes", []):
        dest = work / "volumes" / volume
        dest.mkdir(parents=True)
        run(["tar", "--numeric-owner", "--xattrs", "-C", str(dest), "-xf", str(bdir / f"{volume}.tar")])
        volumes[volume] = str(dest)
    result = {"id": backup_id, "source": source, "volumes": volumes, "verified": not problems, "problems": problems}
    write_json_atomic(work / "prepared.json", result, 0o600)
    return result


def swap_volume(cfg: Config, volume: str, staged: str, keep_name: str, *, labels: list, force_full: bool) -> dict:
    """Move the volume's content into a new volume keep_name, then the staged data in (same fs: renames)."""
    staged_path = Path(staged)
    if not staged_path.is_dir():
        raise JobError(f"nothing staged at {staged}: run the prepare step first")
    mountpoint = docker_volume_mountpoint(cfg, volume)
    if mountpoint is None:
        args = [cfg.docker, "volume", "create"]
        for label in labels:
            args += ["--label", label]
        run([*args, volume])
        mountpoint = docker_volume_mountpoint(cfg, volume)
    users = run([cfg.docker, "ps", "-q", "--filter", f"volume={volume}"]).stdout.split()
    if users:
        raise JobError(f"volume {volume} is still used by running container(s) {' '.join(users)}: stop them first")
    kept = None
    old_entries = list(mountpoint.iterdir())
    if old_entries:
        run(
            [
                cfg.docker,
                "volume",
                "create",
                "--label",
                "mvp.platform=replaced",
                "--label",
                f"mvp.replaced.of={volume}",
                keep_name,
            ]
        )
        keep_mp = docker_volume_mountpoint(cfg, keep_name)
        old_st = mountpoint.stat()
        os.chown(keep_mp, old_st.st_uid, old_st.st_gid)
        os.chmod(keep_mp, old_st.st_mode & 0o7777)
        for entry in old_entries:
            shutil.move(str(entry), str(keep_mp / entry.name))
        kept = keep_name
    for entry in list(staged_path.iterdir()):
        shutil.move(str(entry), str(mountpoint / entry.name))
    st = staged_path.stat()
    os.chown(mountpoint, st.st_uid, st.st_gid)
    os.chmod(mountpoint, st.st_mode & 0o7777)
    if cfg.restore_dir in staged_path.parents:
        staged_path.rmdir()
    if force_full:
        (cfg.root / FORCE_FULL).write_text(f"a restore replaced the data of {volume} at {iso(now_utc())}\n")
    log(f"volume {volume} now holds the restored data; the replaced data is in volume {kept or '(none: it was empty)'}")
    return {"volume": volume, "replaced_volume": kept, "mountpoint": str(mountpoint)}


# ----------------------------------------------------------------------------------------------
# Verification: restore the latest chain into a scratch container and query it
# ----------------------------------------------------------------------------------------------


def verify(cfg: Config, backup_id: str, source: str, from_host: str | None) -> dict:
    prepared = prepare_restore(cfg, backup_id or "latest", source, from_host, force=False)
    name = f"mvp-bk-verify-{os.getpid()}"
    data = prepared["staging"]
    run(
        [
            cfg.docker,
            "run",
            "-d",
            "--name",
            name,
            "--network",
            "none",
            "-v",
            f"{data}:/var/lib/postgresql/data",
            "-e",
            "PGDATA=/var/lib/postgresql/data",
            cfg.verify["image"],
            "postgres",
            "-c",
            "summarize_wal=off",
        ]
    )
    try:
        deadline = time.monotonic() + int(cfg.verify.get("timeout", 600))
        while True:
            ready = run([cfg.docker, "exec", "-u", "postgres", name, "pg_isready", "-q"], check=False)
            if ready.returncode == 0:
                probe = run(docker_psql(cfg, name, "select pg_is_in_recovery()", on_error_stop=False), check=False)
                if probe.returncode == 0 and probe.stdout.strip() == "f":
                    break
            state = run([cfg.docker, "inspect", "-f", "{{.State.Running}}", name], check=False).stdout.strip()
            if state != "true" or time.monotonic() > deadline:
                logs = run([cfg.docker, "logs", "--tail", "30", name], check=False)
                raise JobError(f"the restored database did not come up: {(logs.stdout + logs.stderr)[-2000:]}")
            time.sleep(1)
        results = {}
        for sql in cfg.verify.get("queries", []):
            results[sql] = run(docker_psql(cfg, name, sql)).stdout.strip()
    finally:
        run([cfg.docker, "rm", "-f", "-v", name], check=False)
        shutil.rmtree(cfg.restore_dir / "db", ignore_errors=True)
    log(f"verified backup {prepared['id']} (chain {' -> '.join(prepared['chain'])}): restored and queried")
    return {**prepared, "queries": results}


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------


def _listing(cfg: Config, source: str, from_host: str | None) -> dict:
    out = {}
    for kind in ("db", "files", "dump", "redis"):
        if kind == "files" and source == "offsite" and not cfg.files.get("enabled"):
            continue
        if kind in ("dump", "redis") and (source == "offsite" or not (cfg.root / kind).is_dir()):
            continue
        backups, _restic = _catalogue(cfg, source, from_host, kind)
        out[kind] = [
            {k: v for k, v in m.items() if not k.startswith("_") and k not in ("wal_ranges",)}
            for m in sorted(backups.values(), key=lambda m: m["start"])
        ]
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--config", default=DEFAULT_CONFIG)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("db", help="take a database backup")
    p.add_argument("--kind", choices=["full", "incremental"], required=True)
    sub.add_parser("files", help="back up the user-files volumes")
    sub.add_parser("dump", help="logical dump of a managed (external) PostgreSQL")
    sub.add_parser("redis", help="back up Redis (BGSAVE, the RDB copied out and checked)")
    sub.add_parser("offsite-check", help="check the off-site repository, reading a subset of the data")
    for name in ("verify", "prepare-restore", "prepare-files-restore", "list", "check-backup"):
        p = sub.add_parser(name)
        p.add_argument("--id", default="latest")
        p.add_argument("--source", choices=["local", "offsite"], default="local")
        p.add_argument("--from-host", default=None)
        p.add_argument("--force", action="store_true")
    p = sub.add_parser("swap-volume", help="put staged data into a stopped volume, keeping the replaced data")
    p.add_argument("--volume", required=True)
    p.add_argument("--staged", required=True)
    p.add_argument("--keep-name", required=True)
    p.add_argument("--label", action="append", default=[])
    p.add_argument("--force-full", action="store_true")
    sub.add_parser("status", help="last results per kind")
    sub.add_parser("check-config", help="validate the configuration file (retention policies, keys)")
    return parser


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

    def db(self) -> dict:
        self.metric = self.args.kind
        _refuse_logical_backup(self.cfg)
        meta = db_backup(self.cfg, self.args.kind)
        self.metric = "full" if meta["kind"] == "full" else "incremental"
        self._ok(self.metric, meta["size"])
        rotate(self.cfg.db_dir, self.cfg.policy(self.cfg.db))
        self._offsite("db", meta, self.cfg.db_dir)
        return meta

    def files(self) -> dict:
        self.metric = "files"
        meta = files_backup(self.cfg)
        self._ok("files", meta["size"])
        rotate(self.cfg.files_dir, self.cfg.policy(self.cfg.files))
        self._offsite("files", meta, self.cfg.files_dir)
        return meta

    def dump(self) -> dict:
        self.metric = "dump"
        if self.cfg.mode != "logical":
            raise JobError("logical dumps of a managed PostgreSQL run in database mode logical only (db.mode)")
        meta = logical_dump(self.cfg)
        self._ok("dump", meta["size"])
        rotate(self.cfg.dump_dir, self.cfg.policy(self.cfg.db))
        self._offsite("dump", meta, self.cfg.dump_dir)
        return meta

    def redis(self) -> dict:
        self.metric = "redis"
        if not self.cfg.redis.get("enabled"):
            raise JobError("Redis backups are not configured on this host (backup_redis_enabled)")
        meta = redis_backup(self.cfg)
        self._ok("redis", meta["size"])
        rotate(self.cfg.redis_dir, self.cfg.policy(self.cfg.redis))
        self._offsite("redis", meta, self.cfg.redis_dir)
        return meta

    def offsite_check(self) -> dict:
        self.metric = "offsite"
        return offsite_check(self.cfg)

    def verify(self) -> dict:
        self.metric = "verify"
        result = verify(self.cfg, self.args.id, self.args.source, self.args.from_host)
        self._ok("verify", None)
        return result

    def prepare_restore(self) -> dict:
        return prepare_restore(self.cfg, self.args.id, self.args.source, self.args.from_host, self.args.force)

    def prepare_files_restore(self) -> dict:
        return prepare_files_restore(self.cfg, self.args.id, self.args.source, self.args.from_host, self.args.force)

    def check_backup(self) -> dict:
        for suffix, directory in (("-dump", self.cfg.dump_dir), ("-redis", self.cfg.redis_dir)):
            if self.args.id.endswith(suffix):
                meta = local_backups(directory).get(self.args.id)
                if meta is None:
                    raise JobError(f"unknown backup id {self.args.id!r} in {directory}")
                problems = check_sums(Path(meta["_path"]), meta)
                if problems:
                    raise JobError(f"backup {self.args.id} is damaged: {json.dumps(problems)[:1500]}")
                return {"chain": [self.args.id], "problems": {}}
        backups = local_backups(self.cfg.db_dir)
        chain = chain_of(backups, _resolve(backups, self.args.id, "database"))
        problems = {m["id"]: check_sums(Path(m["_path"]), m) for m in chain}
        problems = {k: v for k, v in problems.items() if v}
        if problems:
            raise JobError(f"backup chain of {chain[-1]['id']} is damaged: {json.dumps(problems)[:1500]}")
        return {"chain": [m["id"] for m in chain], "problems": {}}

    def swap_volume(self) -> dict:
        a = self.args
        return swap_volume(self.cfg, a.volume, a.staged, a.keep_name, labels=a.label, force_full=a.force_full)


def main(argv: list | None = None) -> int:
    args = _parser().parse_args(argv)
    job = None
    try:
        cfg = load_config(args.config)
        if args.command == "check-config":
            result = check_config(cfg)
        elif args.command == "status":
            result = read_json(cfg.state_file) or {}
        elif args.command == "list":
            result = _listing(cfg, args.source, args.from_host)
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


if __name__ == "__main__":
    raise SystemExit(main())
