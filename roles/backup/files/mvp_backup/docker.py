# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Docker as the job uses it: volumes, container state, psql in a container, scratch containers."""

from __future__ import annotations

from pathlib import Path

from .common import JobError, run


def volume_mountpoint(cfg, volume: str) -> Path | None:
    """The host path of a local volume (None when it does not exist)."""
    proc = run([cfg.docker, "volume", "inspect", "-f", "{{.Driver}} {{.Mountpoint}}", volume], check=False)
    if proc.returncode != 0:
        return None
    driver, _sep, mountpoint = proc.stdout.strip().partition(" ")
    if driver != "local":
        raise JobError(f"volume {volume} uses the driver {driver}; only local volumes are supported")
    return Path(mountpoint)


def container_running(cfg, container: str) -> bool:
    proc = run([cfg.docker, "inspect", "-f", "{{.State.Running}}", container], check=False)
    return proc.returncode == 0 and proc.stdout.strip() == "true"


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


def docker_psql(cfg, container: str, sql: str, *, on_error_stop: bool = True) -> list:
    """argv of psql as postgres in a container, as the configured database user and database."""
    return [
        cfg.docker,
        "exec",
        "-u",
        "postgres",
        container,
        *psql_args(cfg.db["user"], cfg.db["database"], sql, on_error_stop=on_error_stop),
    ]


def check_in_scratch(cfg, image: str, bdir: Path, args: list, timeout) -> str:
    """Run a checking tool of the image on the backup directory (read-only, no network); its output."""
    cmd = [cfg.docker, "run", "--rm", "--network", "none", "--entrypoint", "", "-v", f"{bdir}:/backup:ro", image]
    return run([*cmd, *args], timeout=timeout).stdout


def scratch_argv(cfg, mounts: list, args: list, *, user: str = "root", name=None) -> list:
    """docker run of args in a throwaway container of the verify image (no network); mounts: (host, container, mode)."""
    cmd = [cfg.docker, "run", "--rm", "--network", "none", "--entrypoint", "", "-u", user]
    if name:
        cmd += ["--name", name]
    for host_path, container_path, mode in mounts:
        cmd += ["-v", f"{host_path}:{container_path}:{mode}"]
    return [*cmd, cfg.verify["image"], *args]


def scratch(cfg, mounts: list, args: list, *, user: str = "root", timeout=None, name=None) -> str:
    """Run args in a throwaway container of the verify image; its output."""
    return run(scratch_argv(cfg, mounts, args, user=user, name=name), timeout=timeout).stdout
