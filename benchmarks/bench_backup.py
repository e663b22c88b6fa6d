"""Benchmark of the backup job (roles/backup/files/mvp_backup/) on a generated >= 1 GB database.

Runs PostgreSQL 17 (local/postgres:17, the fixture image) in a container with no network on this
machine's Docker, fills it with `pgbench -i -s 70` (about 1.05 GB), then in the same run:

* bare: a bare `pg_basebackup -X stream -c fast` inside the container (docker exec, into its
  writable layer: the floor), and the same from a sidecar into a host directory; bare and job
  runs alternate ROUNDS times (default 3) after a warm-up, and the medians are compared (the
  machine is shared: single runs vary by a factor of two);
* the job's full backup (pg_basebackup from a sidecar straight into the backup directory,
  pg_verifybackup, SHA256SUMS, metadata) -> throughput_ratio_vs_bare = bare seconds / job seconds
  (the same bytes; the issue asks >= 0.9);
* compression: the same base backup as tar, uncompressed and with server-side lz4 and zstd
  (size and time; the job keeps plain directories, which pg_combinebackup needs);
* incremental after changing ~1% of the rows, two ways: a contiguous 1% (aid <= 1%: the
  typical "recent rows" change) and a scattered 1% (every 100th row: touches most pages);
  size as a fraction of the full (with and without the WAL the backup carries);
* restore_seconds: the job's `verify` (stage + checksum + pg_verifybackup of each backup,
  pg_combinebackup of the chain, start PostgreSQL on it, sanity queries) of the full chain.

The job runs here exactly as it runs on a host (the same launcher and package, beside the same
_retention.py), with a temporary configuration. JSON goes to benchmarks/results/backup.json.
Run: .venv/bin/python benchmarks/bench_backup.py   (SCALE=70 by default; needs Docker and the
fixture image from scripts/build-fixture-images.sh)
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGE = os.environ.get("BENCH_IMAGE", "local/postgres:17")
SCALE = int(os.environ.get("SCALE", "70"))
NAME = "mvp-bk-bench-pg"
USER = "bench"
DB = "bench"
OUT = ROOT / "benchmarks" / "results" / "backup.json"
PASSWORD = "bench-only-password"  # noqa: S105 (a throwaway container with no network)


def sh(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(list(cmd), capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:6])} failed: {proc.stderr.strip()[-2000:]}")
    return proc


def psql(query: str) -> str:
    return sh(
        "docker", "exec", "-u", "postgres", NAME, "psql", "-X", "-At", "-U", USER, "-d", DB, "-c", query
    ).stdout.strip()


def timed(*cmd: str) -> tuple:
    start = time.monotonic()
    proc = sh(*cmd)
    return time.monotonic() - start, proc


def job(work: Path, *args: str) -> tuple:
    seconds, proc = timed(
        sys.executable, str(work / "job" / "mvp-backup.py"), "--config", str(work / "config.json"), *args
    )
    return seconds, json.loads(proc.stdout)


COMPRESSIONS = {"tar": None, "tar_server_lz4": "server-lz4", "tar_server_zstd": "server-zstd:level=1"}
ROUNDS = int(os.environ.get("ROUNDS", "3"))


def sidecar(mount: Path, *args: str) -> list:
    """docker run of a PostgreSQL tool in the database container's network namespace, mount at /backup."""
    mount.mkdir(parents=True, exist_ok=True)
    return [
        "docker", "run", "--rm", "--network", f"container:{NAME}", "-e", f"PGPASSWORD={PASSWORD}",
        "-v", f"{mount}:/backup", "--entrypoint", "", IMAGE, *args,
    ]  # fmt: skip


def bare_exec() -> float:
    sh("docker", "exec", "-u", "postgres", NAME, "rm", "-rf", "/var/lib/postgresql/bare")
    seconds, _ = timed(
        "docker", "exec", "-u", "postgres", NAME, "pg_basebackup", "-U", USER,
        "-D", "/var/lib/postgresql/bare", "-X", "stream", "-c", "fast",
    )  # fmt: skip
    sh("docker", "exec", "-u", "postgres", NAME, "rm", "-rf", "/var/lib/postgresql/bare")
    return seconds


def bare_sidecar(target: Path) -> float:
    base = ["pg_basebackup", "-h", "127.0.0.1", "-U", USER, "-D", "/backup/data", "-X", "stream", "-c", "fast"]
    seconds, _ = timed(*sidecar(target, *base))
    shutil.rmtree(target)
    return seconds


def tar_backup(target: Path, compress: str | None) -> dict:
    args = ["pg_basebackup", "-h", "127.0.0.1", "-U", USER, "-D", "/backup/t", "-Ft", "-X", "stream", "-c", "fast"]
    if compress:
        args += ["--compress", compress]
    seconds, _ = timed(*sidecar(target, *args))
    size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
    shutil.rmtree(target)
    return {"seconds": round(seconds, 2), "bytes": size}


def main() -> int:
    sh("docker", "image", "inspect", IMAGE)
    sh("docker", "rm", "-f", "-v", NAME, check=False)
    work = Path(tempfile.mkdtemp(prefix="mvp-bk-bench.", dir="/var/tmp"))
    try:
        (work / "job").mkdir()
        shutil.copy(ROOT / "roles/backup/files/mvp-backup.py", work / "job" / "mvp-backup.py")
        shutil.copytree(
            ROOT / "roles/backup/files/mvp_backup",
            work / "job" / "mvp_backup",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        (work / "pg-password").write_text(PASSWORD + "\n")
        shutil.copy(ROOT / "plugins/module_utils/_retention.py", work / "job" / "_retention.py")
        config = {
            "host": "bench",
            "root": str(work / "backups"),
            "docker": shutil.which("docker"),
            "metrics_dir": str(work / "metrics"),
            "state_file": str(work / "state.json"),
            "lock_file": str(work / "lock"),
            "lock_timeout": 60,
            "db": {
                "container": NAME,
                "user": USER,
                "database": DB,
                "staging": "/var/lib/postgresql/mvp-backup-staging",
                "password_file": str(work / "pg-password"),
                "checkpoint": "fast",
                "max_rate": "",
                "pg_dump": False,
                "timeout": 7200,
                "retention": {"keep_last": 10},
            },
            "files": {"enabled": False, "volumes": [], "retention": {}},
            "offsite": {"enabled": False},
            "verify": {"image": IMAGE, "queries": ["select count(*) from pgbench_accounts"], "timeout": 1200},
        }
        (work / "config.json").write_text(json.dumps(config))

        sh(
            "docker",
            "run",
            "-d",
            "--name",
            NAME,
            "--network",
            "none",
            "-e",
            f"POSTGRES_USER={USER}",
            "-e",
            f"POSTGRES_PASSWORD={PASSWORD}",
            "-e",
            f"POSTGRES_DB={DB}",
            IMAGE,
            "postgres",
            "-c",
            "summarize_wal=on",
            "-c",
            "max_wal_size=4GB",
            "-c",
            "shared_buffers=256MB",
        )
        for _ in range(300):  # the entrypoint's temporary init server answers too: wait for the real one
            logs = sh("docker", "logs", NAME, check=False)
            started = "init process complete" in logs.stdout + logs.stderr
            if (
                started
                and sh("docker", "exec", "-u", "postgres", NAME, "pg_isready", "-q", check=False).returncode == 0
            ):
                break
            time.sleep(1)
        init_seconds, _ = timed(
            "docker", "exec", "-u", "postgres", NAME, "pgbench", "-i", "-q", "-s", str(SCALE), "-U", USER, DB
        )
        db_bytes = int(psql(f"select pg_database_size('{DB}')"))
        rows = int(psql("select count(*) from pgbench_accounts"))

        # The first backup after pgbench pays its checkpoint: a warm-up that is not measured.
        psql("checkpoint")
        bare_exec()
        # This machine is shared: alternate bare and job runs and compare medians.
        bares, fulls = [], []
        for _ in range(ROUNDS):
            bares.append(bare_exec())
            seconds, full = job(work, "db", "--kind", "full")
            fulls.append(seconds)
        bare_seconds, full_seconds = statistics.median(bares), statistics.median(fulls)
        bare_host_seconds = bare_sidecar(work / "bare-host")
        compression = {name: tar_backup(work / f"tar-{name}", opt) for name, opt in COMPRESSIONS.items()}

        changed = rows // 100
        psql(f"update pgbench_accounts set abalance = abalance + 1 where aid <= {changed}")  # noqa: S608 (an int)
        incr_seconds, incr = job(work, "db", "--kind", "incremental")
        psql("update pgbench_accounts set abalance = abalance + 1 where aid % 100 = 0")
        incr2_seconds, incr2 = job(work, "db", "--kind", "incremental")

        def sizes(meta: dict) -> tuple:
            data = Path(meta["_path"]) / "data"
            wal = sum(f.stat().st_size for f in (data / "pg_wal").rglob("*") if f.is_file())
            return meta["size"], meta["size"] - wal

        full_size, full_nowal = sizes(full)
        incr_size, incr_nowal = sizes(incr)
        incr2_size, incr2_nowal = sizes(incr2)
        restore_seconds, verified = job(work, "verify")
        result = {
            "benchmark": "backup",
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "image": IMAGE},
            "database": {
                "pgbench_scale": SCALE,
                "bytes": db_bytes,
                "accounts_rows": rows,
                "generate_seconds": round(init_seconds, 1),
            },
            "full": {
                "rounds": ROUNDS,
                "bare_pg_basebackup_seconds_each": [round(x, 2) for x in bares],
                "job_seconds_each": [round(x, 2) for x in fulls],
                "bare_pg_basebackup_seconds": round(bare_seconds, 2),
                "bare_pg_basebackup_sidecar_to_host_seconds": round(bare_host_seconds, 2),
                "job_seconds": round(full_seconds, 2),
                "overhead_ratio": round(full_seconds / bare_seconds, 2),
                "throughput_ratio_vs_bare": round(bare_seconds / full_seconds, 2),
                "bytes": full_size,
                "job_phases_seconds": full.get("timings"),
                "note": "job = pg_basebackup from a sidecar straight into the backup directory, pg_verifybackup, "
                "SHA256SUMS, metadata; bare = docker exec pg_basebackup into the container",
            },
            "compression_of_the_full": {
                "note": "pg_basebackup -Ft (one run each): bytes and seconds; the job stores plain directories "
                "(pg_combinebackup needs them) and restic compresses off-site copies (zstd)",
                **compression,
            },
            "incremental_contiguous_1pct": {
                "rows_changed": changed,
                "job_seconds": round(incr_seconds, 2),
                "bytes": incr_size,
                "fraction_of_full": round(incr_size / full_size, 4),
                "fraction_of_full_without_wal": round(incr_nowal / full_nowal, 4),
            },
            "incremental_scattered_1pct": {
                "rows_changed": rows // 100,
                "job_seconds": round(incr2_seconds, 2),
                "bytes": incr2_size,
                "fraction_of_full": round(incr2_size / full_size, 4),
                "fraction_of_full_without_wal": round(incr2_nowal / full_nowal, 4),
            },
            "restore": {
                "chain": verified["chain"],
                "seconds": round(restore_seconds, 2),
                "note": "checksums + pg_verifybackup of each backup, pg_combinebackup, start, sanity query",
                "accounts_rows_restored": int(verified["queries"]["select count(*) from pgbench_accounts"]),
            },
        }
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(result, indent=2) + "\n")
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return 0
    finally:
        sh("docker", "rm", "-f", "-v", NAME, check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
