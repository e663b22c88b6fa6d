# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Redis: BGSAVE, wait for LASTSAVE to change, copy the RDB out, redis-check-rdb."""

from __future__ import annotations

import os
import time
from pathlib import Path

from . import store
from .common import JobError, run
from .docker import check_in_scratch, container_running


class RedisCli:
    """redis-cli in the Redis container; the password travels in REDISCLI_AUTH, never in argv."""

    def __init__(self, cfg) -> None:
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


def bgsave(cli: RedisCli, timeout: int) -> int:
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


def redis_backup(cfg) -> dict:
    r = cfg.redis
    if not container_running(cfg, r["container"]):
        raise JobError(f"the Redis container {r['container']} is not running")
    cli = RedisCli(cfg)
    store.kind_dir(cfg.redis_dir)
    bdir, meta = store.start_backup(
        cfg.redis_dir, "redis", type="redis", host=cfg.data.get("host"), container=r["container"], timings={}
    )
    with store.removed_on_failure(cfg.redis_dir, meta):
        started = time.monotonic()
        lastsave = bgsave(cli, int(r.get("bgsave_timeout", 600)))
        meta["timings"]["bgsave"] = round(time.monotonic() - started, 3)
        directory = cli("CONFIG", "GET", "dir").splitlines()[-1]
        dbfilename = cli("CONFIG", "GET", "dbfilename").splitlines()[-1]
        started = time.monotonic()
        source = f"{r['container']}:{directory}/{dbfilename}"
        run([cfg.docker, "cp", source, str(bdir / "dump.rdb")], timeout=r.get("timeout"))
        meta["timings"]["docker_cp"] = round(time.monotonic() - started, 3)
        started = time.monotonic()
        check = check_in_scratch(cfg, r["image"], bdir, ["redis-check-rdb", "/backup/dump.rdb"], r.get("timeout"))
        meta["timings"]["redis_check_rdb"] = round(time.monotonic() - started, 3)
        server = cli.info("server")
        keyspace = cli.info("keyspace")
        store.finish_backup(
            bdir,
            meta,
            ["dump.rdb"],
            redis_version=server.get("redis_version"),
            lastsave=lastsave,
            keyspace=keyspace,
            verified_by="redis-check-rdb",
            check=check.strip().splitlines()[-1:],
        )
    return store.done(
        meta, bdir, f"redis backup {meta['id']} complete ({meta['size']} bytes, {len(meta['keyspace'])} database(s))"
    )
