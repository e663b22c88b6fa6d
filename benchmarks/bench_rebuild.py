"""RPO and RTO of the two disasters the backup role is for, on a database of about 1 GB.

Builds the `backup` scenario's hosts (molecule/backup: two database hosts with the app stack and
a SeaweedFS S3 server, from molecule/_base/create.yml and the scenario's prepare and converge
playbooks, with an inventory of its own), fills the database with `pgbench -i -s SCALE` and a
full backup (copied off-site), then, while a writer inside PostgreSQL commits one row every 100 ms:

* local: the database container and its volume are destroyed (the host and its backups survive);
  `restore.yml` (the host's own WAL archive, latest) brings it back;
* rebuild: the whole host is destroyed (container and disk); a new empty host under the same name
  is created and gets the runbook's three steps: `restore_host_state.yml`, the scenario's site
  (prepare + converge), `restore.yml -e backup_source=offsite`.

RPO: the moment the disaster was started minus the newest row the restored database holds (the
writer commits every 100 ms, so the true loss is within 0.1 s of it). RTO: from that moment until
the restore playbook returned with the app healthy on the restored data (operator reaction time not
counted). Also, in the same run: the job's full backup against a bare `pg_basebackup` of the same
database (throughput ratio), and the backup's size on disk against what restic stored off-site
(compressed, deduplicated). JSON: benchmarks/results/rebuild.json.

Run: .venv/bin/python benchmarks/bench_rebuild.py (SCALE=70; needs Docker, the Debian 13 test-host
image and the fixture images: `make images fixtures`). It removes the hosts at the end (KEEP=1 keeps
them).
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "molecule" / "backup"
SCALE = int(os.environ.get("SCALE", "70"))
OUT = ROOT / "benchmarks" / "results" / "rebuild.json"
DB1 = "mvp-bk-db1"
PG = "mvp-data-postgres-1"
TABLE = "CREATE TABLE IF NOT EXISTS bench_rows (id bigserial PRIMARY KEY, ts timestamptz DEFAULT clock_timestamp())"
# One commit every 100 ms, in the server itself (a DO block outside a transaction may COMMIT).
WRITER = "DO $$ BEGIN LOOP INSERT INTO bench_rows DEFAULT VALUES; COMMIT; PERFORM pg_sleep(0.1); END LOOP; END $$"


def sh(*cmd: str, check: bool = True, timeout: float = 7200) -> subprocess.CompletedProcess:
    proc = subprocess.run(list(cmd), capture_output=True, text=True, check=False, timeout=timeout, cwd=ROOT)
    if check and proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:8])} failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
    return proc


def on(host: str, script: str, check: bool = True) -> str:
    return sh("docker", "exec", host, "bash", "-c", script, check=check).stdout.strip()


def psql(sql: str, host: str = DB1) -> str:
    return on(host, f"docker exec -u postgres {PG} psql -X -At -v ON_ERROR_STOP=1 -U mvp -d mvp -c {shlex.quote(sql)}")


class Bench:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.platforms = yaml.safe_load((SCENARIO / "molecule.yml").read_text())["platforms"]
        inv = work / "inventory"
        inv.mkdir()
        groups: dict = {}
        for p in self.platforms:
            for g in p.get("groups", []):
                groups.setdefault(g, {"hosts": {}})["hosts"][p["name"]] = None
        data = {
            "all": {"hosts": {p["name"]: {"ansible_connection": "community.docker.docker"} for p in self.platforms}}
        }
        data.update(groups)
        (inv / "hosts.yml").write_text(yaml.safe_dump(data))
        (inv / "group_vars").symlink_to(SCENARIO / "group_vars")
        self.inventory = inv / "hosts.yml"

    def base(self, playbook: str, names: list) -> None:
        chosen = {"molecule_yml": {"platforms": [p for p in self.platforms if p["name"] in names]}}
        extra = self.work / "platforms.json"
        extra.write_text(json.dumps(chosen))
        sh(
            "ansible-playbook",
            "-c",
            "local",
            "-i",
            "localhost,",
            str(ROOT / "molecule" / "_base" / playbook),
            "-e",
            f"@{extra}",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
        )

    def play(self, path: str, *extra: str, limit: str | None = None) -> float:
        cmd = ["ansible-playbook", "-i", str(self.inventory), str(ROOT / path)]
        cmd += ["-l", limit] if limit else []
        for e in extra:
            cmd += ["-e", e]
        start = time.monotonic()
        sh(*cmd)
        return round(time.monotonic() - start, 1)


def rows_and_newest() -> tuple:
    count, newest = psql("select count(*), extract(epoch from max(ts)) from bench_rows").split("|")
    return int(count), float(newest)


def start_writer() -> None:
    psql(TABLE)
    before = int(psql("select count(*) from bench_rows"))
    on(DB1, f"docker exec -d -u postgres {PG} psql -X -q -U mvp -d mvp -c {shlex.quote(WRITER)}")
    deadline = time.monotonic() + 60
    while int(psql("select count(*) from bench_rows")) <= before:
        if time.monotonic() > deadline:
            raise SystemExit("the writer did not commit a row within 60 s")
        time.sleep(1)


def job_full_seconds() -> float:
    text = on(DB1, "cat /var/lib/prometheus/node-exporter/mvp_backup_full.prom")
    line = next(x for x in text.splitlines() if x.startswith("mvp_backup_duration_seconds"))
    return float(line.split()[-1])


def bare_basebackup_seconds() -> float:
    """A bare pg_basebackup the way the job takes it (a sidecar writing into a host directory)."""
    image = on(
        DB1, 'python3 -c \'import json; print(json.load(open("/etc/mvp-backup/config.json"))["verify"]["image"])\''
    )
    start = time.monotonic()
    on(
        DB1,
        "rm -rf /var/tmp/bare && install -d /var/tmp/bare; PGPASSWORD=$(cat /etc/mvp-backup/postgres-password) "
        f"docker run --rm -e PGPASSWORD --network container:{PG} -v /var/tmp/bare:/bare --entrypoint '' {image} "
        "pg_basebackup -h 127.0.0.1 -U mvp -D /bare/data -X stream -c fast -w",
    )
    seconds = round(time.monotonic() - start, 1)
    on(DB1, "rm -rf /var/tmp/bare")
    return seconds


def offsite_stats() -> dict:
    env = "set -a; . /etc/mvp-backup/restic.env; set +a; export RESTIC_CACHE_DIR=/var/cache/mvp-backup/restic"
    opts = "-o s3.region=us-east-1 -o s3.bucket-lookup=path"
    raw = json.loads(on(DB1, f"{env}; restic {opts} stats --mode raw-data --json"))
    restore_size = json.loads(on(DB1, f"{env}; restic {opts} stats --mode restore-size --json --tag mvp-db latest"))
    return {
        "stored_bytes": raw.get("total_size"),
        "uncompressed_bytes": raw.get("total_uncompressed_size"),
        "newest_db_backup_bytes": restore_size.get("total_size"),
    }


def check_accounts() -> None:
    count = int(psql("select count(*) from pgbench_accounts"))
    if count != SCALE * 100000:
        raise SystemExit(f"the restored database has {count} pgbench_accounts rows, not {SCALE * 100000}")


def outcome(killed: float, **extra) -> dict:
    """RPO and RTO of a disaster started at `killed` (epoch), read from the restored database."""
    ended = time.time()
    count, newest = rows_and_newest()
    check_accounts()
    return {
        "rpo_seconds": round(killed - newest, 2),
        "rto_seconds": round(ended - killed, 1),
        "rows_restored": count,
        # The machine is shared: the load beside this measurement (1, 5, 15 minutes).
        "load_average": [round(x, 1) for x in os.getloadavg()],
        **extra,
    }


def main() -> int:
    result: dict = {
        "benchmark": "rebuild",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "scale": SCALE,
    }
    with tempfile.TemporaryDirectory() as tmp:
        bench = Bench(Path(tmp))
        names = [p["name"] for p in bench.platforms]
        bench.base("destroy.yml", names)
        try:
            bench.base("create.yml", names)
            result["site_seconds"] = bench.play("molecule/backup/prepare.yml") + bench.play(
                "molecule/backup/converge.yml"
            )
            start = time.monotonic()
            on(DB1, f"docker exec -u postgres {PG} pgbench -q -i -s {SCALE} -U mvp mvp")
            result["database"] = {
                "generate_seconds": round(time.monotonic() - start, 1),
                "bytes": int(psql("select pg_database_size('mvp')")),
                "accounts_rows": int(psql("select count(*) from pgbench_accounts")),
            }
            start_writer()
            result["full_backup_playbook_seconds"] = bench.play("playbooks/backup.yml", "backup_kind=full", limit=DB1)
            bench.play("playbooks/backup.yml", "backup_kind=files", limit=DB1)  # the daily user-files backup
            job = job_full_seconds()
            bare = bare_basebackup_seconds()
            result["throughput"] = {
                "job_full_seconds": job,
                "bare_pg_basebackup_seconds": bare,
                "ratio_vs_bare": round(bare / job, 2),
            }
            size = int(on(DB1, "du -sb /var/backups/mvp/db | cut -f1"))
            result["size"] = {"local_backups_bytes": size, **offsite_stats()}
            time.sleep(60)

            # 1. The database is lost, the host and its backups survive.
            killed = time.time()
            on(DB1, f"docker rm -f {PG} >/dev/null && docker volume rm mvp-pgdata >/dev/null")
            seconds = bench.play("playbooks/restore.yml", "restore_take_full_backup=false", limit=DB1)
            result["local"] = outcome(killed, restore_playbook_seconds=seconds)

            # A new chain after the restore, off-site too; the writer again.
            bench.play("playbooks/backup.yml", "backup_kind=full", limit=DB1)
            start_writer()
            time.sleep(90)

            # 2. The host is lost with its disk: rebuild it from the off-site copy alone.
            killed = time.time()
            sh("docker", "rm", "-f", "-v", DB1)
            phases = {}
            start = time.monotonic()
            bench.base("create.yml", [DB1])
            phases["create_host"] = round(time.monotonic() - start, 1)
            phases["restore_host_state"] = bench.play(
                "playbooks/restore_host_state.yml", f"restore_target={DB1}", limit=DB1
            )
            phases["site"] = bench.play("molecule/backup/prepare.yml", limit=DB1) + bench.play(
                "molecule/backup/converge.yml", limit=DB1
            )
            phases["restore"] = bench.play(
                "playbooks/restore.yml",
                f"restore_target={DB1}",
                "backup_source=offsite",
                "restore_take_full_backup=false",
                limit=DB1,
            )
            result["rebuild"] = outcome(killed, phases_seconds=phases)
        finally:
            if not os.environ.get("KEEP"):
                bench.base("destroy.yml", names)
    result["goals"] = {"rebuild_rpo_at_most_seconds": 60, "local_rpo_at_most_seconds": 5}
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
