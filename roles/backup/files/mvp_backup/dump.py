# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Logical dumps of a managed (external) PostgreSQL: pg_dump -Fc with sslmode=verify-full."""

from __future__ import annotations

import os
import re
import time
import urllib.parse
from pathlib import Path

from . import store
from .common import JobError, log, run
from .docker import check_in_scratch

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


def pg_version_of_dump(listing: str) -> str | None:
    match = re.search(r"Dumped from database version: (\S+)", listing)
    return match.group(1) if match else None


def logical_dump(cfg) -> dict:
    """pg_dump -Fc of the managed database, run in a throwaway container of the postgres image."""
    logical = cfg.db.get("logical") or {}
    try:
        url = Path(logical["url_file"]).read_text()
    except OSError as exc:
        raise JobError(f"cannot read the database URL {logical.get('url_file')}: {exc}") from exc
    env, ignored = database_env(url)
    if ignored:
        log(f"URL parameters ignored by pg_dump: {', '.join(ignored)}")
    store.kind_dir(cfg.dump_dir)
    bdir, meta = store.start_backup(
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
    with store.removed_on_failure(cfg.dump_dir, meta):
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
        listing = check_in_scratch(cfg, image, bdir, ["pg_restore", "--list", "/backup/dump.pgc"], timeout)
        meta["timings"]["pg_restore_list"] = round(time.monotonic() - started, 3)
        store.finish_backup(
            bdir,
            meta,
            ["dump.pgc"],
            pg_version=pg_version_of_dump(listing),
            toc_entries=sum(1 for line in listing.splitlines() if line and not line.startswith(";")),
            verified_by="pg_restore --list",
        )
    return store.done(
        meta,
        bdir,
        f"logical dump {meta['id']} of {meta['database']} on {meta['server']} complete ({meta['size']} bytes)",
    )
