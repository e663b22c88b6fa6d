"""The 3 a.m. case on the whole single-host platform: the server is gone with its disk.

Runs last (after the colour switches). Rows are written after the last backup, the host is removed
with its disk and created again empty under the same name, and the runbook's steps run with the
repository, the vault values and the off-site copy (the S3 peer) alone: the machine's provisioning
(this scenario's prepare: Pebble), restore_host_state.yml, site.yml (this scenario's converge) and
restore.yml from off-site. The platform must then serve the last data through nginx with the
certificate it had, not a new one.
"""

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

import testinfra
from mvp_molecule import playbook, recreate_empty_host, wait_wal_pushed_after

testinfra_hosts = ["proxy"]
HOST = "mvp-pf-platform"
DOMAIN = "mvp-platform.test"
PG = "mvp-data-postgres-1"
OLD_ROOT = "/root/pebble-roots-before.pem"
CERT_DIR = f"/etc/letsencrypt/live/{DOMAIN}"
# The release records (site.yml writes current.json; releases write releases.json beside it).
RECORDS = "cat /opt/mvp/current.json /opt/mvp/releases.json 2>/dev/null | sha256sum"


def sh(host, cmd: str) -> str:
    with host.sudo():
        result = host.run(cmd)
    assert result.rc == 0, f"{cmd}\nrc={result.rc}\n{result.stdout}\n{result.stderr}"
    return result.stdout.strip()


def sql(host, query: str) -> str:
    return sh(host, f"docker exec -u postgres {PG} psql -X -At -v ON_ERROR_STOP=1 -U mvp -d mvp -c {json.dumps(query)}")


def fingerprint(host) -> str:
    """sha256 fingerprint of the certificate nginx serves on 443."""
    return sh(
        host,
        f"echo | openssl s_client -connect 127.0.0.1:443 -servername {DOMAIN} 2>/dev/null "
        "| openssl x509 -noout -fingerprint -sha256",
    )


def run(name: str, *extra: str) -> None:
    args = ["-l", HOST]
    for item in extra:
        args += ["-e", item]
    proc = playbook(name, *args, timeout=2400)
    text = re.sub(r"\s+", " ", proc.stdout + proc.stderr)
    assert proc.returncode == 0, f"{name}: {text[-5000:]}"


def test_the_lost_host_is_rebuilt_from_the_offsite_copy_and_serves_the_last_data(host):
    sh(
        host,
        "curl -fsS --cacert /etc/pebble/cert.pem https://127.0.0.1:15000/roots/0 > "
        + OLD_ROOT
        + " && curl -fsS --cacert /etc/pebble/cert.pem https://127.0.0.1:15000/intermediates/0 >> "
        + OLD_ROOT,
    )
    old_root = sh(host, f"cat {OLD_ROOT}")
    before = fingerprint(host)
    record = sh(host, RECORDS)
    sql(host, "create table if not exists pf_rows (i int primary key)")
    sql(host, "insert into pf_rows select generate_series(1, 100)")
    run("playbooks/backup.yml", "backup_kind=full")
    run("playbooks/backup.yml", "backup_kind=files")  # the daily user-files backup
    sql(host, "insert into pf_rows select generate_series(101, 120)")  # after the last backup
    written = float(sh(host, "date +%s.%N"))
    wait_wal_pushed_after(host, written)
    expected = sql(host, "select count(*), max(i) from pf_rows")

    recreate_empty_host(HOST)
    fresh = testinfra.get_host(f"ansible://{HOST}?ansible_inventory={os.environ['MOLECULE_INVENTORY_FILE']}")
    assert not fresh.file("/etc/letsencrypt").exists and not fresh.file("/opt/mvp").exists

    run("molecule/platform/prepare.yml")  # the machine's provisioning here: Pebble, the test tools
    run("playbooks/restore_host_state.yml", f"restore_target={HOST}", "confirm_restore=yes")
    run("molecule/platform/converge.yml")  # site.yml of this scenario
    run("playbooks/restore.yml", f"restore_target={HOST}", "backup_source=offsite", "confirm_restore=yes")

    assert sql(fresh, "select count(*), max(i) from pf_rows") == expected
    # The same certificate as before the loss (not a new one from the new Pebble), served and trusted
    # by the chain that issued it.
    assert fingerprint(fresh) == before
    copy = Path(tempfile.mkdtemp()) / "roots.pem"
    copy.write_text(old_root + "\n")
    subprocess.run(["docker", "cp", str(copy), f"{HOST}:{OLD_ROOT}"], check=True, capture_output=True)
    body = json.loads(sh(fresh, f"curl -fsS --cacert {OLD_ROOT} https://{DOMAIN}/api/health"))
    assert body["status"] == "ok" and body["database"]["status"] == "up", body
    assert fresh.file(f"{CERT_DIR}/privkey.pem").exists
    assert sh(fresh, RECORDS) == record
