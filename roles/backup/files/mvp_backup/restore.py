# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Restore: find a backup (local or off-site), stage, verify and combine it (touches nothing live),
swap it into a stopped volume keeping the replaced data, and the scratch-container verification."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import time
from pathlib import Path

from . import hoststate, store, wal, walpush
from .common import FORCE_FULL, ID_RE, META_FILE, JobError, iso, log, now_utc, read_json, run, write_json_atomic
from .docker import docker_psql, scratch, volume_mountpoint
from .offsite import OFFSITE_TAGS, Restic, catalogue_entry, offsite_backups
from .postgres import Db
from .sums import check_sums


def catalogue(cfg, source: str, from_host: str | None, kind: str = "db") -> tuple:
    """(backups, restic or None) of the source."""
    if source == "local":
        dirs = {
            "db": cfg.db_dir,
            "files": cfg.files_dir,
            "dump": cfg.dump_dir,
            "redis": cfg.redis_dir,
            "state": cfg.state_dir,
        }
        return store.local_backups(dirs[kind]), None
    if not cfg.offsite.get("enabled"):
        raise JobError("backup_source=offsite, but the off-site copy is not configured on this host")
    restic = Restic(cfg)
    host = from_host or restic.host
    if kind == "db":
        return offsite_backups(restic, host), restic
    return files_entries(restic.snapshots(OFFSITE_TAGS[kind], host)), restic


def files_entries(snapshots: list) -> dict:
    """id -> metadata-like dict of off-site files backups: each stands alone (a full, no parent).

    The entry keeps the time its tags give as its end: the chain model refuses a complete backup
    without one, and a files backup the catalogue dropped could not be restored from off-site.
    """
    found = {}
    for snap in snapshots:
        entry = catalogue_entry(snap)
        if entry is not None:
            found[entry["id"]] = {**entry, "kind": "full", "parent": None}
    return found


def resolve(backups: dict, backup_id: str, what: str) -> str:
    """The id of the requested backup (``latest``: the newest complete one)."""
    if backup_id in ("", "latest"):
        newest = store.newest_complete(backups)
        if newest is None:
            hint = {
                "files": ": restore only the database with -e restore_files=false, or take a files backup first "
                "(ansible-playbook backup.yml -e backup_kind=files)",
                "database": ": take one first (ansible-playbook backup.yml -e backup_kind=full)",
                "host-state": ": take one first (mvp-backup state on the host), "
                "or skip it with -e restore_host_state=false",
            }.get(what, "")
            raise JobError(f"there is no complete {what} backup to restore{hint}")
        return newest["id"]
    if not ID_RE.match(backup_id):
        raise JobError(f"backup id {backup_id!r} is not of the form YYYYMMDDTHHMMSSZ-full|incr|files")
    if backup_id not in backups:
        known = ", ".join(sorted(backups)[-8:]) or "none"
        raise JobError(f"unknown {what} backup id {backup_id!r} (newest known: {known})")
    return backup_id


def fetch(restic: Restic, meta: dict, dest: Path) -> Path:
    """Restore one off-site snapshot's backup directory to dest/<id>; returns it."""
    target = dest / meta["id"]
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    restic.restore_path(meta["_snapshot"], meta["_path"], target)
    return target


def refuse_logical(cfg) -> None:
    if cfg.mode == "logical":
        raise JobError(
            "this host takes logical dumps of a managed PostgreSQL only (backup_database_mode=logical): there is no "
            f"physical backup to restore or verify. Restore a dump from {cfg.dump_dir} with pg_restore as described in "
            "docs/restore-runbook.md (Managed PostgreSQL)"
        )


RESTORE_WAL_DIR = "mvp_restore_wal"


def combine_script(chain_dirs: list, verify: bool, recovery: bool = False) -> str:
    """The scratch container's script: combine the chain into /work/combined, ready for PGDATA.

    recovery: also copy the WAL listed in /work/wal.list (from /wal) into the data directory and
    append /work/recovery.conf, so that the server replays it up to the target, then promotes.
    """
    if len(chain_dirs) == 1:
        combine = f"cp -a {chain_dirs[0]} /work/combined"
    else:
        combine = "pg_combinebackup -o /work/combined " + " ".join(chain_dirs)
    replay = ""
    if recovery:
        replay = (
            f"mkdir -p /work/combined/{RESTORE_WAL_DIR}; "
            f'while read -r f; do cp "/wal/$f" "/work/combined/{RESTORE_WAL_DIR}/${{f%.partial}}"; '
            "done < /work/wal.list; "
            "cat /work/recovery.conf >> /work/combined/postgresql.auto.conf; touch /work/combined/recovery.signal; "
        )
    return (
        f"set -e; {combine}; "
        + ("pg_verifybackup --quiet /work/combined; " if verify else "")
        + "rm -f /work/combined/backup_manifest; "
        + replay
        + "chown -R postgres:postgres /work/combined; chmod 700 /work/combined"
    )


def recovery_conf(target: datetime.datetime | None) -> str:
    """Recovery settings of a point-in-time restore (restore.yml resets them after the promotion)."""
    lines = [
        "# mvp-backup point-in-time restore (reset by restore.yml once the server is promoted)",
        f"restore_command = 'cp {RESTORE_WAL_DIR}/%f \"%p\"'",
        "recovery_target_action = 'promote'",
    ]
    if target is not None:
        lines.append(f"recovery_target_time = '{target.strftime('%Y-%m-%d %H:%M:%S')}+00'")
    return "\n".join(lines) + "\n"


def pitr_base(archive: Path, backups: dict, target: datetime.datetime | None, target_text: str) -> tuple:
    """(base backup id, its WAL segments, window) of a point-in-time restore; JobError outside the window."""
    segments = wal.scan(archive)
    win = wal.window(list(backups.values()), segments)
    if win is None:
        raise JobError(
            "there is no recoverable window: the WAL archive does not hold the WAL of any complete backup "
            f"({len(segments)} segment(s) in {archive}). Restore a backup as it was with "
            "-e restore_target_time=none -e backup_id=<id|latest>, or take a full backup first"
        )
    span = f"{win['start']} .. {win['end']} (UTC)"
    when = iso(target) if target is not None else None
    if when is not None and not (win["start"] <= when <= win["end"]):
        raise JobError(
            f"restore_target_time={target_text} is outside the recoverable window {span}: choose a time inside it, "
            "or -e restore_target_time=latest"
        )
    in_run = [
        m
        for m in backups.values()
        if m.get("status") == "complete"
        and m.get("end")
        and m["end"] >= win["start"]
        and (when is None or m["end"] <= when)
    ]
    base = max(in_run, key=lambda m: m["end"])
    return base["id"], wal.needed_segments(base, segments), win


def _pitr_request(cfg, target_time: str | None) -> tuple:
    """(pitr, target datetime or None for latest); JobError for a request that cannot be served."""
    if target_time in (None, "", "none"):
        return False, None
    target = wal.parse_target_time(target_time)
    if not cfg.wal.get("enabled"):
        raise JobError(
            "point-in-time restore needs the WAL archive (backup_wal_enabled): restore a backup as it was "
            "with -e restore_target_time=none"
        )
    return True, target


def offsite_archive(restic, backups: dict, host: str, work: Path) -> tuple:
    """(archive directory, that cluster's backups): the pushed WAL archive of the cluster of the
    newest off-site backup that says its cluster (a rebuilt host pushes a new cluster's WAL under
    the same name: it is not the one wanted)."""
    clustered = [m for m in backups.values() if m.get("system_identifier") and m.get("status") == "complete"]
    if not clustered:
        raise JobError(
            f"no off-site database backup of {host} records its cluster (backups taken before WAL was copied "
            "off-site): restore one as it was with -e restore_target_time=none"
        )
    sysid = max(clustered, key=lambda m: m["end"])["system_identifier"]
    mine = {k: m for k, m in backups.items() if m.get("system_identifier") == sysid}
    return walpush.fetch(restic, host, sysid, work / "wal"), mine


def settle_archive(cfg, timeout: float = 30) -> None:
    """When the live server still runs: one commit now (a timestamp recovery can stop at) and a wait
    until the receiver has flushed it, so that the archive reaches the moment of the request."""
    db = Db(cfg)
    if not db.running():
        return
    try:
        # txid_current() gives the transaction an xid, so its commit is a WAL record with a time.
        target = db.query("select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint from (select txid_current()) t")
    except JobError as exc:
        log(f"the live database does not answer ({exc}); restoring from the archive as it is", "warning")
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        flushed = db.query(
            "select coalesce(max(pg_wal_lsn_diff(flush_lsn, '0/0'))::bigint, 0) from pg_stat_replication "
            "where application_name = 'pg_receivewal'"
        )
        if int(flushed or 0) >= int(target):
            return
        time.sleep(0.5)
    log("the WAL receiver did not catch up within 30s: restoring from the archive as it is", "warning")


def _stage_chain(restic, chain: list, work: Path) -> tuple:
    """(backup directories, checksum problems by id) of the chain, fetched from off-site if needed."""
    problems = {}
    dirs = []
    for meta in chain:
        bdir = fetch(restic, meta, work / "chain") if restic else Path(meta["_path"])
        stored = read_json(bdir / META_FILE) or {}
        issues = check_sums(bdir, stored) if stored else [f"{META_FILE} is missing or unreadable"]
        if issues:
            problems[meta["id"]] = issues
        dirs.append(bdir)
    return dirs, problems


def prepare_restore(
    cfg, backup_id: str, source: str, from_host: str | None, force: bool, *, target_time: str | None = None
) -> dict:
    """Stage the chain of backup_id; with target_time (a time or latest), the chain below it plus the
    archived WAL to replay up to that time."""
    refuse_logical(cfg)
    pitr, target = _pitr_request(cfg, target_time)
    backups, restic = catalogue(cfg, source, from_host)
    work = cfg.restore_dir / "db"
    if work.exists():
        shutil.rmtree(work)
    (work / "chain").mkdir(parents=True)
    os.chmod(cfg.restore_dir, 0o700)
    segments_needed, win, archive = [], None, Path(cfg.wal.get("dir") or "/nonexistent")
    if pitr:
        try:
            if restic is None:
                settle_archive(cfg)
            else:
                archive, backups = offsite_archive(restic, backups, from_host or restic.host, work)
            backup_id, segments_needed, win = pitr_base(archive, backups, target, target_time)
        except JobError:
            shutil.rmtree(work, ignore_errors=True)
            raise
    backup_id = resolve(backups, backup_id, "database")
    chain = store.chain_of(backups, backup_id)
    dirs, problems = _stage_chain(restic, chain, work)
    combined = work / "combined"
    image_dirs = [f"/chain/{i}/data" for i in range(len(dirs))]
    mounts = [(str(d), f"/chain/{i}", "ro") for i, d in enumerate(dirs)] + [(str(work), "/work", "rw")]
    if pitr:
        mounts.append((str(archive), "/wal", "ro"))
        (work / "wal.list").write_text("".join(f"{p.name}\n" for p in segments_needed))
        (work / "recovery.conf").write_text(recovery_conf(target))
    pg_problems = []
    for i, meta in enumerate(chain):
        try:
            scratch(cfg, mounts, ["pg_verifybackup", "--quiet", image_dirs[i]], timeout=cfg.db.get("timeout"))
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
    script = combine_script(image_dirs, not problems, recovery=pitr)
    scratch(cfg, mounts, ["sh", "-c", script], timeout=cfg.db.get("timeout"))
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
    if pitr:
        result.update(
            {"target_time": iso(target) if target else "latest", "window": win, "wal_segments": len(segments_needed)}
        )
    write_json_atomic(work / "prepared.json", result, 0o600)
    log(f"prepared the restore of {backup_id} (chain {' -> '.join(result['chain'])}) in {combined}")
    return result


def _fetch_standalone(cfg, kind: str, what: str, *, backup_id: str, source: str, from_host: str | None, force: bool):
    """(id, directory, stored metadata, problems) of a backup that stands alone (files, host state),
    fetched into the restore area when off-site and its checksums read; JobError when they fail
    and force is not given."""
    backups, restic = catalogue(cfg, source, from_host, kind=kind)
    backup_id = resolve(backups, backup_id, what)
    work = cfg.restore_dir / kind
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, mode=0o700)
    meta = backups[backup_id]
    bdir = fetch(restic, meta, work / "fetched") if restic else Path(meta["_path"])
    stored = read_json(bdir / META_FILE) or {}
    problems = check_sums(bdir, stored) if stored else [f"{META_FILE} is missing"]
    if problems and not force:
        raise JobError(
            f"{what} backup {backup_id} failed verification, refusing (force_restore=yes overrides): {problems}"
        )
    return backup_id, bdir, stored, problems


def prepare_files_restore(cfg, backup_id: str, source: str, from_host: str | None, force: bool) -> dict:
    request = {"backup_id": backup_id, "source": source, "from_host": from_host, "force": force}
    backup_id, bdir, stored, problems = _fetch_standalone(cfg, "files", "files", **request)
    work = cfg.restore_dir / "files"
    volumes = {}
    for volume in stored.get("volumes", []):
        dest = work / "volumes" / volume
        dest.mkdir(parents=True)
        run(["tar", "--numeric-owner", "--xattrs", "-C", str(dest), "-xf", str(bdir / f"{volume}.tar")])
        volumes[volume] = str(dest)
    result = {"id": backup_id, "source": source, "volumes": volumes, "verified": not problems, "problems": problems}
    write_json_atomic(work / "prepared.json", result, 0o600)
    return result


def restore_state(cfg, backup_id: str, source: str, from_host: str | None, force: bool) -> dict:
    """Put a host-state backup's paths back in place (over what is there: a rebuilt host has none)."""
    request = {"backup_id": backup_id, "source": source, "from_host": from_host, "force": force}
    backup_id, bdir, stored, problems = _fetch_standalone(cfg, "state", "host-state", **request)
    hoststate.extract(bdir / hoststate.ARCHIVE)
    shutil.rmtree(cfg.restore_dir / "state", ignore_errors=True)
    log(f"restored host-state backup {backup_id}: {', '.join(stored.get('paths', []))}")
    return {"id": backup_id, "source": source, "paths": stored.get("paths", []), "verified": not problems}


def _move_content(source: Path, target: Path) -> None:
    """Every entry of source into target (same filesystem: renames), then target takes source's owner and mode."""
    st = source.stat()
    for entry in list(source.iterdir()):
        shutil.move(str(entry), str(target / entry.name))
    os.chown(target, st.st_uid, st.st_gid)
    os.chmod(target, st.st_mode & 0o7777)


def swap_volume(cfg, volume: str, staged: str, keep_name: str, *, labels: list, force_full: bool) -> dict:
    """Move the volume's content into a new volume keep_name, then the staged data in (same fs: renames)."""
    staged_path = Path(staged)
    if not staged_path.is_dir():
        raise JobError(f"nothing staged at {staged}: run the prepare step first")
    mountpoint = volume_mountpoint(cfg, volume)
    if mountpoint is None:
        args = [cfg.docker, "volume", "create"]
        for label in labels:
            args += ["--label", label]
        run([*args, volume])
        mountpoint = volume_mountpoint(cfg, volume)
    users = run([cfg.docker, "ps", "-q", "--filter", f"volume={volume}"]).stdout.split()
    if users:
        raise JobError(f"volume {volume} is still used by running container(s) {' '.join(users)}: stop them first")
    kept = None
    if any(mountpoint.iterdir()):
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
        _move_content(mountpoint, volume_mountpoint(cfg, keep_name))
        kept = keep_name
    _move_content(staged_path, mountpoint)
    if cfg.restore_dir in staged_path.parents:
        staged_path.rmdir()
    if force_full:
        (cfg.root / FORCE_FULL).write_text(f"a restore replaced the data of {volume} at {iso(now_utc())}\n")
    log(f"volume {volume} now holds the restored data; the replaced data is in volume {kept or '(none: it was empty)'}")
    return {"volume": volume, "replaced_volume": kept, "mountpoint": str(mountpoint)}


def _wait_until_open(cfg, name: str) -> None:
    """Wait until the scratch server accepts queries out of recovery; JobError with its log if it dies."""
    deadline = time.monotonic() + int(cfg.verify.get("timeout", 600))
    while True:
        ready = run([cfg.docker, "exec", "-u", "postgres", name, "pg_isready", "-q"], check=False)
        if ready.returncode == 0:
            probe = run(docker_psql(cfg, name, "select pg_is_in_recovery()", on_error_stop=False), check=False)
            if probe.returncode == 0 and probe.stdout.strip() == "f":
                return
        state = run([cfg.docker, "inspect", "-f", "{{.State.Running}}", name], check=False).stdout.strip()
        if state != "true" or time.monotonic() > deadline:
            logs = run([cfg.docker, "logs", "--tail", "30", name], check=False)
            raise JobError(f"the restored database did not come up: {(logs.stdout + logs.stderr)[-2000:]}")
        time.sleep(1)


def verify(cfg, backup_id: str, source: str, from_host: str | None, *, target_time: str | None = None) -> dict:
    """Restore the chain into a scratch container (no network) and run the verify queries on it;
    with target_time, after replaying the archived WAL up to it (latest: all of it)."""
    prepared = prepare_restore(cfg, backup_id or "latest", source, from_host, force=False, target_time=target_time)
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
        _wait_until_open(cfg, name)
        results = {}
        for sql in cfg.verify.get("queries", []):
            results[sql] = run(docker_psql(cfg, name, sql)).stdout.strip()
    finally:
        run([cfg.docker, "rm", "-f", "-v", name], check=False)
        shutil.rmtree(cfg.restore_dir / "db", ignore_errors=True)
    log(f"verified backup {prepared['id']} (chain {' -> '.join(prepared['chain'])}): restored and queried")
    return {**prepared, "queries": results}
