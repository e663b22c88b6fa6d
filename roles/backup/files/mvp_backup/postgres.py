# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""PostgreSQL physical backups: pg_basebackup full and incremental (PG 17), chain decisions."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from . import store
from .common import FORCE_FULL, META_FILE, JobError, log, read_json, run, write_json_atomic
from .docker import psql_args, scratch_argv
from .sums import write_sums

# Messages that mean "this incremental cannot be taken against that parent": take a full.
CHAIN_ERRORS = re.compile(
    r"WAL summar|summarize_wal|incremental backup|manifest (requires|is from)|system identifier|timeline",
    re.IGNORECASE,
)


class Db:
    """The database container of the data project, reached with docker exec."""

    def __init__(self, cfg) -> None:
        self.cfg = cfg
        self.c = cfg.db["container"]
        self.user = cfg.db["user"]
        self.database = cfg.db["database"]

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


def chain_problem(cfg, info: dict, parent: dict | None) -> str | None:
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


def choose_parent(cfg, info: dict, requested: str) -> tuple:
    """(kind, parent_meta, reason) for the requested kind."""
    if requested == "full":
        return "full", None, "requested"
    parent = store.newest_complete(store.local_backups(cfg.db_dir))
    problem = chain_problem(cfg, info, parent)
    if problem:
        return "full", None, f"chain broken: {problem}"
    return "incremental", parent, "scheduled"


def password_env(cfg) -> dict:
    """PGPASSWORD for the sidecar, from the password file (passed by name: never in argv)."""
    path = cfg.db.get("password_file")
    if not path:
        return {}
    try:
        return {"PGPASSWORD": Path(path).read_text().strip()}
    except OSError as exc:
        raise JobError(f"cannot read the database password {path}: {exc}") from exc


def basebackup_argv(cfg, db: Db, bdir: Path, label: str, parent: dict | None) -> list:
    """docker run of pg_basebackup in a sidecar of the database image.

    The sidecar joins the database container's network namespace and streams over loopback
    straight into the backup directory (a bind mount): no copy out of the container afterwards.
    """
    args = [cfg.docker, "run", "--rm", "--network", f"container:{db.c}", "--entrypoint", ""]
    args += ["-e", "PGPASSWORD", "-v", f"{bdir}:/backup"]
    if parent is not None:
        args += ["-v", f"{Path(parent['_path']) / 'data' / 'backup_manifest'}:/parent/backup_manifest:ro"]
    args += [cfg.verify["image"]]
    args += [
        "pg_basebackup",
        "-h",
        "127.0.0.1",
        "-p",
        str(cfg.db.get("port", 5432)),
        "-U",
        db.user,
        "-D",
        "/backup/data",
        "-X",
        "stream",
        "-c",
        cfg.db.get("checkpoint", "fast"),
        "--no-password",
        "-l",
        label,
    ]
    if cfg.db.get("max_rate"):
        args += ["--max-rate", cfg.db["max_rate"]]
    if parent is not None:
        args.append("--incremental=/parent/backup_manifest")
    return args


def _base_backup(cfg, db: Db, bdir: Path, parent: dict | None, timings: dict) -> None:
    data = bdir / "data"
    if data.exists():
        shutil.rmtree(data)
    argv = basebackup_argv(cfg, db, bdir, f"mvp-backup {bdir.name}", parent)
    started = time.monotonic()
    run(argv, timeout=cfg.db.get("timeout"), env={**os.environ, **password_env(cfg)})
    timings["pg_basebackup"] = round(time.monotonic() - started, 3)


def verify_and_sum(cfg, bdir: Path, parts: list, timings: dict) -> str:
    """pg_verifybackup (in a scratch container) while SHA256SUMS is written: both read the backup
    just written, from the page cache, side by side. Returns the sha256 of SHA256SUMS."""
    argv = scratch_argv(cfg, [(str(bdir), "/backup", "ro")], ["pg_verifybackup", "--quiet", "/backup/data"])
    started = time.monotonic()
    proc = subprocess.Popen([str(a) for a in argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # noqa: S603 (argv built here, no shell)
    try:
        sums_sha = write_sums(bdir, parts)
        timings["sha256sums"] = round(time.monotonic() - started, 3)
    finally:
        _out, err = proc.communicate(timeout=cfg.db.get("timeout"))
    timings["pg_verifybackup"] = round(time.monotonic() - started, 3)
    if proc.returncode != 0:
        raise JobError(f"pg_verifybackup of {bdir.name} failed (exit {proc.returncode}): {err.strip()[-1500:]}")
    return sums_sha


def _take(cfg, db: Db, bdir: Path, meta: dict, parent: dict | None) -> Path:
    """pg_basebackup into bdir/data (a full instead when the server refuses the chain); returns bdir."""
    try:
        _base_backup(cfg, db, bdir, parent, meta["timings"])
    except JobError as exc:
        if parent is None or not CHAIN_ERRORS.search(str(exc)):
            raise
        log(f"the incremental against {parent['id']} failed ({exc}); taking a full backup instead", "warning")
        new_dir, _start = store.claim_dir(bdir.parent, "full")
        new_id = new_dir.name
        os.rename(bdir, new_dir)  # onto the empty directory just claimed
        bdir = new_dir
        meta.update({"id": new_id, "kind": "full", "parent": None, "reason": f"chain broken: {str(exc)[:300]}"})
        write_json_atomic(bdir / META_FILE, meta, 0o600)
        _base_backup(cfg, db, bdir, None, meta["timings"])
    return bdir


def _finish(cfg, db: Db, bdir: Path, meta: dict) -> None:
    """Optional pg_dump, checksums, metadata marked complete."""
    parts = ["data"]
    if cfg.db.get("pg_dump"):
        with open(bdir / "dump.pgc", "wb") as out:
            db.exec(["pg_dump", "-Fc", "-U", db.user, "-d", db.database], stdout=out, timeout=cfg.db.get("timeout"))
        parts.append("dump.pgc")
    sums_sha = verify_and_sum(cfg, bdir, parts, meta["timings"])
    manifest = read_json(bdir / "data" / "backup_manifest") or {}
    store.finish_backup(
        bdir,
        meta,
        parts,
        sums_sha=sums_sha,
        checksums={"manifest_checksum": manifest.get("Manifest-Checksum")},
        wal_ranges=manifest.get("WAL-Ranges"),
        verified_by="pg_verifybackup",
        pg_dump=bool(cfg.db.get("pg_dump")),
    )


def db_backup(cfg, requested: str) -> dict:
    db = Db(cfg)
    if not db.running():
        raise JobError(f"the database container {db.c} is not running")
    store.kind_dir(cfg.db_dir)
    info = db.info()
    kind, parent, reason = choose_parent(cfg, info, requested)
    if requested == "incremental" and kind == "full":
        log(f"taking a full backup instead of an incremental: {reason}", "warning")
    try:
        bdir, meta = store.start_backup(
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
    with store.removed_on_failure(cfg.db_dir, meta, end=None):
        bdir = _take(cfg, db, bdir, meta, parent)
        _finish(cfg, db, bdir, meta)
    if meta["kind"] == "full":
        with contextlib.suppress(FileNotFoundError):
            (cfg.root / FORCE_FULL).unlink()
    return store.done(
        meta,
        bdir,
        f"{meta['kind']} backup {meta['id']} complete ({meta['size']} bytes, parent {meta['parent']}, verified)",
    )
