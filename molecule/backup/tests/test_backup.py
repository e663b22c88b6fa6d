"""The backup/restore story of issue 6, through the operators' playbooks.

Runs once (on mvp-bk-db1, with mvp-bk-db2 as the fresh host of the off-site restore), in order:
rows written between a full and two incrementals; the database volume destroyed; restore.yml
latest brings every row back; restore.yml with an earlier backup_id gives exactly that moment's
rows; the production guard, bad input and corruption are refused; verify_backups.yml; and the
off-site copy restored onto the second host gives the same data.
"""

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import testinfra
from mvp_molecule import recreate_empty_host, wait_wal_pushed_after

testinfra_hosts = ["ansible://mvp-bk-db1"]

ROOT = Path(__file__).resolve().parents[3]
CONTAINER = "mvp-data-postgres-1"
STATE: dict = {}
SUMS = "sha256sum /etc/mvp-backup/config.json /etc/mvp-backup/restic.env /etc/systemd/system/mvp-backup-*"
FLIP = "python3 -c \"import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[2]^=1; open(p,'wb').write(b)\" %s"


def other_host(name: str):
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={os.environ['MOLECULE_INVENTORY_FILE']}")


def playbook(name: str, *extra: str, limit: str | None = "mvp-bk-db1") -> subprocess.CompletedProcess:
    cmd = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], str(ROOT / name)]
    if limit:
        cmd += ["-l", limit]
    for item in extra:
        cmd += ["-e", item]
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
        cwd=ROOT,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"},
    )
    proc.text = re.sub(r"\s+", " ", proc.stdout + proc.stderr)  # type: ignore[attr-defined]
    return proc


def sql(host, query: str) -> str:
    cmd = host.run(
        "docker exec -u postgres %s psql -X -At -v ON_ERROR_STOP=1 -U mvp -d mvp -c %s",
        CONTAINER,
        query,
    )
    assert cmd.rc == 0, cmd.stderr
    return cmd.stdout.strip()


def write_rows(host, first: int, last: int) -> None:
    series = f"generate_series({int(first)}, {int(last)})"
    sql(host, "insert into bk_rows select g, 'row ' || g from " + series + " g")  # noqa: S608 (integers)


def rows(host) -> tuple:
    return tuple(
        int(x) for x in sql(host, "select count(*), coalesce(min(i), 0), coalesce(max(i), 0) from bk_rows").split("|")
    )


def listing(host) -> dict:
    out = host.check_output("/usr/local/sbin/mvp-backup list")
    return json.loads(out)


def metrics(host) -> str:
    return host.check_output("cat /var/lib/prometheus/node-exporter/mvp_backup_*.prom")


def backup(kind: str) -> dict:
    proc = playbook("backup.yml", f"backup_kind={kind}")
    assert proc.returncode == 0, proc.text[-3000:]
    return proc


def volumes(host) -> set:
    return set(host.check_output("docker volume ls -q").split())


def wal_status(host) -> dict:
    return json.loads(host.check_output("/usr/local/sbin/mvp-backup wal-status"))


def wait_receiving(host, timeout: float = 120) -> dict:
    """Until the WAL receiver streams again (it restarts after a restore)."""
    deadline = time.monotonic() + timeout
    while True:
        state = wal_status(host)
        if state["receiving"] or time.monotonic() > deadline:
            return state
        time.sleep(2)


# ------------------------------------------------------------------------------------------------


def test_converge_is_stable_in_check_diff_mode(check_diff_run):
    assert check_diff_run["rc"] == 0, check_diff_run["output"]
    assert not check_diff_run["changed"], check_diff_run["output"]


def test_timers_and_job_installed(host):
    for job in ("full", "incremental", "files", "verify", "offsite-check"):
        timer = host.service(f"mvp-backup-{job}.timer")
        assert timer.is_enabled, job
        assert timer.is_running, job
    assert host.file("/etc/mvp-backup/config.json").mode == 0o600
    assert host.file("/etc/mvp-backup/restic.env").mode == 0o600
    # The same retention library as the collection's module_utils, byte for byte.
    lib = (ROOT / "plugins/module_utils/_retention.py").read_text()
    assert host.file("/usr/local/lib/mvp-backup/_retention.py").content_string == lib
    assert host.run("systemd-analyze verify /etc/systemd/system/mvp-backup-full.service").rc == 0
    # Continuous WAL archiving: the receiver service and the metrics timer.
    assert host.service("mvp-backup-wal.service").is_running
    assert host.service("mvp-backup-wal-status.timer").is_enabled
    assert host.file("/etc/mvp-backup/postgres-password").mode == 0o600
    # The job is a package: the launcher and its modules.
    assert host.file("/usr/local/lib/mvp-backup/mvp_backup/cli.py").exists
    # The WAL archive goes off-site every 30 s; the host's own state was backed up by the converge.
    for timer in ("wal-push", "state"):
        assert host.service(f"mvp-backup-{timer}.timer").is_enabled, timer
    assert "AccuracySec=1s" in host.file("/etc/systemd/system/mvp-backup-wal-push.timer").content_string
    state = listing(host)["state"]
    assert state and state[-1]["status"] == "complete", state


def test_full_and_incremental_chain(host):
    sql(host, "create table if not exists bk_rows (i int primary key, note text)")
    write_rows(host, 1, 100)
    backup("full")
    write_rows(host, 101, 200)
    backup("incremental")
    write_rows(host, 201, 300)
    backup("incremental")
    write_rows(host, 301, 350)  # after the last backup: lost by a restore
    backup("files")
    db = listing(host)["db"]
    assert [b["kind"] for b in db][-3:] == ["full", "incremental", "incremental"], db
    full, incr1, incr2 = db[-3:]
    assert incr1["parent"] == full["id"] and incr2["parent"] == incr1["id"]
    assert all(b["status"] == "complete" and b["verified_by"] == "pg_verifybackup" for b in db[-3:])
    assert full["pg_version_num"] >= 170000
    assert incr1["size"] < full["size"]
    STATE.update(full=full["id"], incr1=incr1["id"], incr2=incr2["id"])
    text = metrics(host)
    for kind in ("full", "incremental", "files", "offsite"):
        assert f'mvp_backup_last_status{{kind="{kind}"}} 1' in text, text
        assert f'mvp_backup_last_success_timestamp_seconds{{kind="{kind}"}}' in text
    assert 'mvp_backup_size_bytes{kind="full"}' in text and 'mvp_backup_duration_seconds{kind="incremental"}' in text
    # The base backup went straight into the backup directory (no copy out of the container).
    assert "docker_cp" not in json.dumps(db[-3:])


def test_wal_archive_streams_and_reports(host):
    state = wait_receiving(host)
    assert state["receiving"], state
    assert state["slot_state"] in ("reserved", "extended"), state
    assert state["slot_cap_bytes"] == 2048 * 1024 * 1024
    assert state["window"] and state["window"]["base"] == STATE["full"], state
    host.check_output("systemctl start mvp-backup-wal-status.service")
    text = metrics(host)
    assert "mvp_backup_wal_receiving 1" in text
    assert "mvp_backup_wal_window_start_timestamp_seconds" in text
    assert "mvp_backup_wal_slot_retained_bytes" in text and "mvp_backup_wal_lag_bytes" in text


def test_restore_latest_after_losing_the_database_volume(host):
    host.check_output(f"docker rm -f {CONTAINER} && docker volume rm mvp-pgdata")
    proc = playbook("restore.yml")
    assert proc.returncode == 0, proc.text[-4000:]
    assert f"Restored database backup {STATE['incr2']}" in proc.text
    # The WAL archive replays what came after the last backup: nothing committed is lost.
    assert rows(host) == (350, 1, 350)
    # A new chain starts with a full (the restore forces it).
    assert listing(host)["db"][-1]["kind"] == "full"


def test_point_in_time_restore_to_a_chosen_second(host):
    assert wait_receiving(host)["receiving"]
    write_rows(host, 351, 360)
    target = sql(
        host,
        "select to_char(date_trunc('second', now() at time zone 'utc') + interval '1 second', "
        '\'YYYY-MM-DD"T"HH24:MI:SS"Z"\')',
    )
    time.sleep(2.5)
    write_rows(host, 361, 370)
    proc = playbook("restore.yml", f"restore_target_time={target}")
    assert proc.returncode == 0, proc.text[-4000:]
    assert f"point in time: {target}" in proc.text
    # Exactly the rows committed before the chosen second, none after.
    assert rows(host) == (360, 1, 360)
    # A new chain starts with a full after a restore to an earlier point.
    assert listing(host)["db"][-1]["kind"] == "full"


def test_point_in_time_outside_the_window_or_in_the_future_is_refused(host):
    before_rows, before_volumes = rows(host), volumes(host)
    proc = playbook("restore.yml", "restore_target_time=2020-01-01T00:00:00Z")
    assert proc.returncode != 0
    assert re.search(r"outside the recoverable window \S+Z \.\. \S+Z", proc.text), proc.text[-3000:]
    assert "nothing was changed" in proc.text
    for bad in ("2099-01-01T00:00:00Z", "yesterday"):
        proc = playbook("restore.yml", f"restore_target_time={bad}")
        assert proc.returncode != 0
        assert "give a UTC time in the past" in proc.text and "Nothing was changed" in proc.text, proc.text[-3000:]
    assert rows(host) == before_rows and volumes(host) == before_volumes


def test_restore_an_earlier_backup_id_gives_that_moment(host):
    before = volumes(host)
    proc = playbook("restore.yml", f"backup_id={STATE['incr1']}", "restore_take_full_backup=false")
    assert proc.returncode == 0, proc.text[-4000:]
    assert rows(host) == (200, 1, 200)
    kept = volumes(host) - before
    assert any(v.startswith("mvp-pgdata-replaced-") for v in kept), kept
    assert "docker volume rm mvp-pgdata-replaced-" in proc.text
    # The app was stopped and reopened healthy.
    health = host.check_output("docker ps --filter label=mvp.platform=app --format '{{.Status}}'")
    assert health and "unhealthy" not in health and "healthy" in health, health
    # The next incremental is refused as such: a full starts the new chain.
    backup("incremental")
    newest = listing(host)["db"][-1]
    assert newest["kind"] == "full" and "chain broken" in newest["reason"], newest
    journal = host.check_output("journalctl -t mvp-backup --no-pager -n 200")
    assert "taking a full backup instead of an incremental" in journal


def test_production_restore_without_confirmation_changes_nothing(host):
    before_rows, before_volumes = rows(host), volumes(host)
    before_ids = [b["id"] for b in listing(host)["db"]]
    proc = playbook("restore.yml", "platform_env=production")
    assert proc.returncode != 0
    assert "REFUSED" in proc.text and "confirm_restore=yes" in proc.text
    assert rows(host) == before_rows and volumes(host) == before_volumes
    assert [b["id"] for b in listing(host)["db"]] == before_ids
    assert not host.file("/var/backups/mvp/restore/db").exists


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["backup_id=20200101T000000Z-full"], r"unknown database backup id '20200101T000000Z-full' \(newest known:"),
        (["backup_id=yesterday"], r"backup_id=yesterday \(latest or an id like"),
        (["backup_source=tape"], r"backup_source=tape \(local\|offsite\)"),
    ],
    ids=["unknown backup id", "malformed backup id", "unknown source"],
)
def test_restore_bad_input_is_refused_before_any_change(host, extra, expected):
    before_rows, before_volumes = rows(host), volumes(host)
    proc = playbook("restore.yml", *extra)
    assert proc.returncode != 0
    assert re.search(expected, proc.text), proc.text[-3000:]
    assert rows(host) == before_rows and volumes(host) == before_volumes


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            ['{"backup_full_schedule": "every day at 2"}'],
            r"backup_full_schedule=\"every day at 2\" is not a valid systemd OnCalendar",
        ),
        (['{"backup_retention": {"keep_within": "7x"}}'], r"backup_retention.*keep_within"),
        (['{"backup_retention": {"keep_forever": 1}}'], r"backup_retention must be a mapping of keep_last"),
        (
            ['{"backup_offsite_s3_endpoint": "http://127.0.0.1:9"}'],
            r"backup_offsite_s3_endpoint=http://127\.0\.0\.1:9 is unreachable",
        ),
        (['{"backup_kind": "weekly"}'], r"backup_kind=weekly: choose full, incremental, files, dump or redis"),
    ],
    ids=[
        "invalid schedule",
        "invalid retention duration",
        "unknown retention rule",
        "unreachable S3",
        "bad backup kind",
    ],
)
def test_bad_role_and_playbook_input_gets_a_clear_error(host, extra, expected):
    book = (
        "backup.yml"
        if "backup_kind" in extra[0]
        else str(Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"]) / "converge.yml")
    )
    before = host.check_output(SUMS)
    proc = playbook(book, *extra)
    assert proc.returncode != 0
    assert re.search(expected, proc.text), proc.text[-3000:]
    assert host.check_output(SUMS) == before


def test_verify_backups_restores_into_a_scratch_container(host):
    write_rows(host, 201, 260)
    backup("incremental")
    proc = playbook("verify_backups.yml")
    assert proc.returncode == 0, proc.text[-3000:]
    assert "restored and checked" in proc.text
    text = metrics(host)
    assert "mvp_backup_verify_last_status 1" in text
    assert host.check_output("docker ps -a --format '{{.Names}}'").count("mvp-bk-verify") == 0


def test_corruption_is_detected_reported_and_refused(host):
    newest = listing(host)["db"][-1]
    target = f"/var/backups/mvp/db/{newest['id']}/data/postgresql.conf"
    # Flip one byte of the first line (a comment, so a forced restore still starts).
    host.check_output(
        FLIP,
        target,
    )
    check = host.run("/usr/local/sbin/mvp-backup check-backup")
    assert check.rc != 0 and "checksum mismatch in data/postgresql.conf" in check.stderr
    proc = playbook("verify_backups.yml")
    assert proc.returncode != 0 and "Verification FAILED" in proc.text
    assert "mvp_backup_verify_last_status 0" in metrics(host)
    before_rows, before_volumes = rows(host), volumes(host)
    proc = playbook("restore.yml")
    assert proc.returncode != 0
    assert "failed verification, refusing to restore it (force_restore=yes overrides)" in proc.text
    assert "nothing was changed" in proc.text
    assert rows(host) == before_rows and volumes(host) == before_volumes
    proc = playbook("restore.yml", "force_restore=yes", "restore_take_full_backup=false")
    assert proc.returncode == 0, proc.text[-3000:]
    assert "FORCED despite" in proc.text
    assert rows(host) == before_rows
    # Repair the copy, so the chain verifies again.
    host.check_output(
        FLIP,
        target,
    )
    assert host.run("/usr/local/sbin/mvp-backup check-backup").rc == 0
    STATE["offsite_rows"] = rows(host)


def test_a_failed_restore_puts_the_previous_data_back(host):
    before_rows = rows(host)
    proc = playbook(
        "restore.yml",
        f"backup_id={STATE['full']}",
        "restore_take_full_backup=false",
        '{"backup_verify_queries": ["select count(*) from no_such_table"]}',
    )
    assert proc.returncode != 0
    assert "The restore FAILED and was rolled back" in proc.text, proc.text[-3000:]
    assert "Run the sanity queries on the restored database" in proc.text
    assert rows(host) == before_rows
    assert any(v.startswith("mvp-pgdata-failed-") for v in volumes(host))
    health = host.check_output("docker ps --filter label=mvp.platform=app --format '{{.Status}}'")
    assert health and "unhealthy" not in health, health
    assert wait_receiving(host)["receiving"]


def test_offsite_restore_onto_a_second_fresh_host_loses_only_seconds(host):
    db2 = other_host("mvp-bk-db2")
    assert sql(db2, "select count(*) from pg_tables where tablename = 'bk_rows'") == "0"
    # A full on the current timeline (the last restores kept none), then rows no backup holds.
    backup("full")
    write_rows(host, 5001, 5020)
    written = float(host.check_output("date +%s.%N"))
    record = wait_wal_pushed_after(host, written)
    assert record["sysid"] and record["segments"] >= 1
    assert "mvp_backup_wal_offsite_last_status 1" in metrics(host)
    STATE["rebuild_rows"] = rows(host)
    proc = playbook(
        "restore.yml",
        "restore_target=mvp-bk-db2",
        "backup_source=offsite",
        "restore_from_host=mvp-bk-db1",
        limit=None,
    )
    assert proc.returncode == 0, proc.text[-4000:]
    assert "point in time: latest" in proc.text, proc.text[-3000:]
    # The rows written after the last backup came back from the pushed WAL: seconds lost, not hours.
    assert rows(db2) == STATE["rebuild_rows"]
    offsite = json.loads(db2.check_output("/usr/local/sbin/mvp-backup list --source offsite --from-host mvp-bk-db1"))
    assert offsite["db"] and offsite["files"]


def test_offsite_check_reads_the_data(host):
    cmd = host.run("systemctl start mvp-backup-offsite-check.service")
    assert cmd.rc == 0, host.check_output("journalctl -u mvp-backup-offsite-check.service --no-pager -n 30")
    assert "off-site repository check passed" in host.check_output(
        "journalctl -u mvp-backup-offsite-check.service --no-pager"
    )


CERT = "/etc/letsencrypt/live/mvp-bk.test"


def test_a_lost_host_is_rebuilt_from_the_offsite_copy_alone(host):
    """The 3 a.m. case: mvp-bk-db1 is gone with its disk. A new empty host under the same name gets
    its state back (restore_host_state.yml), the scenario's site.yml (prepare + converge) and the
    off-site restore (restore.yml), as docs/restore-runbook.md says."""
    # A certificate and an ACME account as certbot leaves them (this scenario has no nginx).
    account = "/etc/letsencrypt/accounts/acme.test"
    host.check_output(
        f"mkdir -p {CERT} {account} && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
        f"-days 30 -subj /CN=mvp-bk.test -keyout {CERT}/privkey.pem -out {CERT}/fullchain.pem 2>/dev/null "
        f'&& printf \'{{"kid": "acct-1"}}\' > {account}/regr.json'
    )
    backup("full")  # a base whose tags name its cluster (the earlier ones may predate the last restore)
    taken = json.loads(host.check_output("/usr/local/sbin/mvp-backup state --if-changed"))
    assert "/etc/letsencrypt" in taken["paths"] and not taken.get("unchanged"), taken
    sums = f"sha256sum {CERT}/fullchain.pem {CERT}/privkey.pem {account}/regr.json /opt/mvp/current.json"
    before = host.check_output(sums)
    write_rows(host, 6001, 6010)
    written = float(host.check_output("date +%s.%N"))
    wait_wal_pushed_after(host, written)
    expected = rows(host)

    recreate_empty_host("mvp-bk-db1")
    fresh = other_host("mvp-bk-db1")
    assert not fresh.file("/opt/mvp").exists and not fresh.file("/etc/letsencrypt").exists

    steps = [
        ("playbooks/restore_host_state.yml", ["restore_target=mvp-bk-db1"]),
        ("molecule/backup/prepare.yml", []),
        ("molecule/backup/converge.yml", []),
        ("playbooks/restore.yml", ["restore_target=mvp-bk-db1", "backup_source=offsite"]),
    ]
    for name, extra in steps:
        proc = playbook(name, *extra)
        assert proc.returncode == 0, f"{name}: {proc.text[-4000:]}"
    assert rows(fresh) == expected
    assert fresh.check_output(sums) == before
    assert fresh.file(f"{CERT}/privkey.pem").mode == 0o600
