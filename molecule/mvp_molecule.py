"""Helpers the scenarios' testinfra tests share (importable beside molecule/conftest.py).

- ``DISTRO`` / ``DISTRO_RELEASE``: the distribution the scenario's hosts run (``MOLECULE_DISTRO``,
  read by ``molecule/_base/create.yml`` too) and its Debian major release.
- ``playbook``: run one of the collection's playbooks against the scenario's hosts.
- ``sh`` / ``out``: a root command on a test host that must succeed; a run's output for a message.
- ``Load``: the release load generator (``mvp-rel-loadgen``, installed by the scenarios' prepare)
  as a transient systemd unit inside the test host, bounded to ten minutes.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[1]))
DISTRO = os.environ.get("MOLECULE_DISTRO") or "debian13"
DISTRO_RELEASE = DISTRO.removeprefix("debian")


def playbook(
    name: str, *extra: str, inventory: str | None = None, timeout: int = 1200, actor: str | None = None
) -> subprocess.CompletedProcess:
    """ansible-playbook of ROOT/name (or an absolute path) on the scenario's inventory; never raises.

    The result carries wall_s, the run's wall time; actor is who the release log records
    (GITHUB_ACTOR, as in CI).
    """
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": os.environ.get("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg")),
        "ANSIBLE_COLLECTIONS_PATH": os.environ.get("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".ansible" / "collections")),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        **({"GITHUB_ACTOR": actor} if actor else {}),
    }
    cmd = ["ansible-playbook", "-i", inventory or os.environ["MOLECULE_INVENTORY_FILE"], str(ROOT / name), *extra]
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False, env=env)
    proc.wall_s = round(time.monotonic() - started, 1)
    print(f"\nPLAYBOOK {name} {' '.join(extra)}: rc={proc.returncode} wall={proc.wall_s}s")
    return proc


def out(proc) -> str:
    """The end of a run's output, for an assertion message."""
    return proc.stdout[-8000:] + proc.stderr[-3000:]


def output(proc) -> str:
    """A run's whole output, for what a test looks for in it (a tail may have cut it off)."""
    return proc.stdout + proc.stderr


def sh(host, cmd: str) -> str:
    """cmd as root on the testinfra host; its stdout. Fails the test when it fails."""
    with host.sudo():
        result = host.run(cmd)
    assert result.rc == 0, f"{cmd}\nrc={result.rc}\n{result.stdout}\n{result.stderr}"
    return result.stdout


SUMMARY_KEYS = ("requests", "failed", "stale_keepalive_retries", "no_retry", "longest_gap_ms")


class Load:
    """Steady HTTPS load through nginx while the block runs; ``result`` holds the generator's report.

    prefix names the unit and files (one per scenario), vhost the Host header (the generator's
    default when None); results[name] receives the report, or only ``keep`` of its keys.
    """

    def __init__(self, host, name: str, *, prefix: str, results: dict, vhost: str | None = None, keep=None) -> None:
        self.host, self.name, self.results, self.keep = host, name, results, keep
        self.unit = f"{prefix}-load-{name}"
        self.out = f"/root/{self.unit}.json"
        self.stop_file = f"/run/{self.unit}.stop"
        self.vhost = vhost
        self.result: dict = {}

    def __enter__(self):
        sh(self.host, f"rm -f {self.out} {self.stop_file}")
        sh(
            self.host,
            f"systemd-run --unit={self.unit} --collect /usr/local/bin/mvp-rel-loadgen "
            + (f"--host {self.vhost} " if self.vhost else "")
            + f"--out {self.out} --stop-file {self.stop_file} --threads 4 --no-retry-threads 2 --interval 0.05 "
            "--max-seconds 600",
        )
        time.sleep(3)  # a steady state before the release starts
        return self

    def __exit__(self, *exc) -> None:
        time.sleep(3)  # and after it ends
        sh(self.host, f"touch {self.stop_file}")
        for _ in range(60):
            if self.host.file(self.out).exists:
                break
            time.sleep(0.5)
        self.result = json.loads(sh(self.host, f"cat {self.out}"))
        self.results[self.name] = {k: self.result[k] for k in self.keep} if self.keep else self.result
        print(f"\nLOAD {self.name}: {json.dumps({k: self.result[k] for k in SUMMARY_KEYS})}")


def assert_no_failed_requests(load: Load) -> None:
    """The release cost no request: enough of them, keep-alive clients that never retry included."""
    result = load.result
    assert result["requests"] > 100, result
    # Keep-alive clients that never retry a request on a reused connection are counted too.
    assert result["no_retry"]["requests"] > 20, result
    assert result["failed"] == 0, json.dumps(result, indent=1)[:3000]


def tbank_notification(terminal_key: str, payment_id: str) -> dict:
    """A confirmed T-Bank payment notification (unsigned) for the reference backend's webhook."""
    return {
        "TerminalKey": terminal_key,
        "OrderId": f"order-{payment_id}",
        "Success": True,
        "Status": "CONFIRMED",
        "PaymentId": payment_id,
        "ErrorCode": "0",
        "Amount": 19900,
    }


def tbank_signed(fields: dict, password: str) -> dict:
    """The notification with its Token: the scalar fields and Password, sorted by key, joined, SHA-256."""
    pairs = {k: v for k, v in fields.items() if not isinstance(v, (dict, list))} | {"Password": password}
    values = "".join(str(v).lower() if isinstance(v, bool) else str(v) for _, v in sorted(pairs.items()))
    return {**fields, "Token": hashlib.sha256(values.encode()).hexdigest()}


def recreate_empty_host(name: str) -> None:
    """The scenario's platform `name`, removed with its disk (the lost server), created again empty
    from the test-host image by molecule/_base/create.yml (a new server under the same name)."""
    import yaml  # noqa: PLC0415 (molecule brings it; the other helpers do not need it)

    subprocess.run(["docker", "rm", "-f", "-v", name], check=True, capture_output=True)
    scenario = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
    platforms = yaml.safe_load((scenario / "molecule.yml").read_text())["platforms"]
    extra = Path(tempfile.mkdtemp()) / f"{name}-platform.json"
    extra.write_text(json.dumps({"molecule_yml": {"platforms": [p for p in platforms if p["name"] == name]}}))
    proc = subprocess.run(
        [
            "ansible-playbook",
            "-c",
            "local",
            "-i",
            "localhost,",
            str(ROOT / "molecule/_base/create.yml"),
            "-e",
            f"@{extra}",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    # As if its image had been made a moment ago, whatever the test image's age: no package lists,
    # and a lists directory that apt's cache_valid_time takes as just updated (the rebuild must
    # fetch them itself: the hardening role's apt_lists).
    subprocess.run(["docker", "exec", name, "touch", "/var/lib/apt/lists"], check=True, capture_output=True)


def wait_wal_pushed_after(host, moment: float, timeout: float = 150) -> dict:
    """Until a push of the WAL archive off-site that started after `moment` (host clock) succeeded;
    its record (the backup job's <root>/wal-offsite/.mvp-push.json)."""
    deadline = time.monotonic() + timeout
    while True:
        record = json.loads(host.run("cat /var/backups/mvp/wal-offsite/.mvp-push.json").stdout or "{}")
        if record.get("last_status") == 1 and record.get("last_success", 0) - record.get("duration", 0) > moment:
            return record
        assert time.monotonic() < deadline, record
        time.sleep(3)
