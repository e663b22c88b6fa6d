# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Shared fixtures of the unit tests of the host job (roles/backup/files/mvp_backup).

The package is imported as the host imports it: ``_retention`` (plugins/module_utils) and the
package directory on sys.path. Docker is a fake ``docker`` executable that records its calls
(argv and PG*/REDIS* variables) and answers like the real commands would; volumes are
directories under ``<tmp>/volumes``.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[4]
for path in (REPO / "plugins" / "module_utils", REPO / "roles" / "backup" / "files"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
sys.dont_write_bytecode = True  # the role installs the package's files: leave no __pycache__ there

from mvp_backup import store  # noqa: E402  (sys.path above first)
from mvp_backup.common import write_json_atomic  # noqa: E402
from mvp_backup.config import Config  # noqa: E402

FAKE_DOCKER = r'''#!{python}
import json, os, re, shutil, subprocess, sys
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "docker.log"), "a") as fh:
    fh.write(json.dumps({"argv": sys.argv[1:], "env": {k: v for k, v in os.environ.items()
                        if k.startswith(("PG", "REDISCLI"))}}) + "\n")
args = sys.argv[1:]
volumes = os.path.join(here, "volumes")


def scratch(argv):
    """docker run --rm ... -v host:container:mode image cmd...: run cmd on the host paths."""
    mounts, i = [], 0
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i] == "-v":
            parts = argv[i + 1].split(":")
            mounts.append((parts[1], parts[0]))
            i += 2
        elif argv[i] in ("--rm", "-d"):
            i += 1
        else:
            i += 2
    cmd = argv[i + 1:]
    def host(text):
        for cont, hpath in sorted(mounts, key=lambda m: -len(m[0])):
            text = re.sub(re.escape(cont) + r"(?=/|\s|$)", hpath, text)
        return text
    if cmd[0] == "pg_basebackup":
        if os.environ.get("FAKE_INCR_FAIL") and any(a.startswith("--incremental=") for a in cmd):
            sys.stderr.write("pg_basebackup: error: WAL summaries are required on timeline 1\n")
            sys.exit(1)
        if os.environ.get("FAKE_BASEBACKUP_FAIL"):
            sys.stderr.write("pg_basebackup: error: connection refused\n")
            sys.exit(1)
        target = host(cmd[cmd.index("-D") + 1])
        os.makedirs(os.path.join(target, "base"))
        with open(os.path.join(target, "backup_manifest"), "w") as fh:
            json.dump({"Manifest-Checksum": "f00d", "WAL-Ranges": [{"Timeline": 1, "Start-LSN": "0/2000028"}],
                       "incremental": any(a.startswith("--incremental=") for a in cmd)}, fh)
        with open(os.path.join(target, "PG_VERSION"), "w") as fh:
            fh.write("17\n")
        return
    if cmd[0] == "pg_verifybackup":
        target = host(cmd[-1])
        if os.environ.get("FAKE_VERIFY_FAIL") or not os.path.isfile(os.path.join(target, "backup_manifest")):
            sys.stderr.write("pg_verifybackup: error: could not open file \"backup_manifest\"\n")
            sys.exit(1)
        return
    if cmd[:2] == ["sh", "-c"]:
        script = host(cmd[2])
        script = script.replace("chown -R postgres:postgres", "true")
        script = re.sub(r"pg_verifybackup --quiet ([^\s;]+)", r"test -f \1/backup_manifest", script)
        # pg_combinebackup -o OUT A B ...: the newest backup's files over the older ones.
        script = re.sub(r"pg_combinebackup -o (\S+) (.+?);",
                        lambda m: "mkdir -p " + m.group(1) + "; " + "; ".join(
                            "cp -a " + d + "/. " + m.group(1) for d in m.group(2).split()) + ";", script)
        sys.exit(subprocess.call(["sh", "-c", script]))
    if "pg_dump" in cmd:
        if os.environ.get("FAKE_FAIL"):
            sys.stderr.write("pg_dump: error: connection failed: certificate verify failed\n")
            sys.exit(1)
        sys.stdout.buffer.write(b"PGDMP-fake-archive")
        return
    if "pg_restore" in cmd:
        print(";\n; Archive created at 2026-11-26\n; Dumped from database version: 17.6\n;")
        print("215; 1259 16385 TABLE public items mvp")
        print("3350; 0 16385 TABLE DATA public items mvp")
        return
    print(" ".join(cmd))


if args[:2] == ["volume", "inspect"]:
    path = os.path.join(volumes, args[-1])
    if not os.path.isdir(path):
        sys.stderr.write("Error: No such volume: %s\n" % args[-1])
        sys.exit(1)
    print("local " + path)
elif args[:2] == ["volume", "create"]:
    os.makedirs(os.path.join(volumes, args[-1]), exist_ok=True)
    print(args[-1])
elif args[:2] == ["ps", "-q"]:
    print(os.environ.get("FAKE_BUSY", ""))
elif args[:1] == ["run"]:
    scratch(args[1:])
elif args[:1] == ["inspect"]:
    print("true")
elif args[:1] == ["exec"]:
    print(os.environ.get("FAKE_EXEC_OUT", ""))
else:
    print("")
'''


@pytest.fixture
def fake_docker(tmp_path):
    """Path of the call log of a fake docker at <tmp>/docker."""
    path = tmp_path / "docker"
    path.write_text(FAKE_DOCKER.replace("{python}", sys.executable))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "volumes").mkdir()
    return tmp_path / "docker.log"


def docker_calls(log: Path) -> list:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def make_config(tmp_path: Path, mode: str = "physical", redis: dict | None = None, offsite: dict | None = None) -> dict:
    """A job configuration under tmp_path (as the role renders it)."""
    (tmp_path / "database-url").write_text("postgresql://app:s3cret-pw@db.example.net:5432/mvp\n")
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    (tmp_path / "redis-password").write_text("rd-unit-password-0123456789\n")
    return {
        "host": "unit",
        "root": str(tmp_path / "backups"),
        "docker": str(tmp_path / "docker"),
        "metrics_dir": str(tmp_path / "metrics"),
        "state_file": str(tmp_path / "state.json"),
        "lock_file": str(tmp_path / "lock"),
        "db": {
            "container": "mvp-data-postgres-1",
            "user": "mvp",
            "database": "mvp",
            "staging": "/var/lib/postgresql/mvp-backup-staging",
            "retention": {"keep_within": "7d"},
            "mode": mode,
            "logical": {
                "url_file": str(tmp_path / "database-url"),
                "ca_file": str(tmp_path / "ca.pem"),
                "image": "local/postgres:17",
                "network": "bridge",
                "timeout": 60,
            },
        },
        "files": {"enabled": True, "volumes": ["mvp-uploads"], "retention": {"keep_within": "7d"}},
        "redis": redis
        or {
            "enabled": True,
            "container": "mvp-redis-redis-1",
            "password_file": str(tmp_path / "redis-password"),
            "image": "local/redis:8",
            "bgsave_timeout": 5,
            "timeout": 60,
            "retention": {"keep_within": "7d"},
        },
        "offsite": offsite or {"enabled": False, "retention_db": {"keep_within": "30d"}, "retention_files": {}},
        "verify": {"image": "local/postgres:17", "queries": ["select 1"]},
    }


def write_backup(root: Path, backup_id: str, kind: str = "full", parent=None, status: str = "complete", **extra):
    """A stored database backup <root>/<id> with data/backup_manifest and valid SHA256SUMS."""
    bdir = root / backup_id
    (bdir / "data").mkdir(parents=True)
    (bdir / "data" / "backup_manifest").write_text(json.dumps({"Manifest-Checksum": "abc", "id": backup_id}))
    (bdir / "data" / "PG_VERSION").write_text("17\n")
    (bdir / "data" / f"file-of-{backup_id}").write_text(backup_id)
    stamp = backup_id[:15]
    start = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}Z"
    meta = {"id": backup_id, "kind": kind, "parent": parent, "start": start, "status": "running", "timings": {}}
    meta.update(extra)
    if status == "complete":
        store.finish_backup(bdir, meta, ["data"], sums_first=True)
        meta["end"] = start
    else:
        meta.update({"status": status, "end": None})
    write_json_atomic(bdir / "backup.json", meta, 0o600)
    return bdir


FAKE_RESTIC = r"""#!{python}
import json, os, shutil, sys
here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.join(here, "repo.json")
snaps = json.load(open(repo)) if os.path.exists(repo) else []
args = [a for a in sys.argv[1:]]
with open(os.path.join(here, "restic.log"), "a") as fh:
    fh.write(json.dumps({"argv": args, "repo": os.environ.get("RESTIC_REPOSITORY")}) + "\n")
if args == ["version"]:
    print(os.environ.get("FAKE_RESTIC_VERSION", "restic 0.18.0 compiled with go1.24.4 on linux/amd64"))
    sys.exit(0)
i = args.index("--retry-lock") + 2 if "--retry-lock" in args else 0
while args[i] == "-o":
    i += 2
args = [a for a in args[i:] if a != "--json"]
cmd = args[0]
def opt(name):
    return [args[j + 1] for j, a in enumerate(args) if a == name]
if cmd == "backup":
    store = os.path.join(here, "store")
    n = len(os.listdir(store)) if os.path.isdir(store) else 0
    sid = "s%d" % n
    snaps.append({"id": sid, "time": "2026-12-01T00:%02d:%02dZ" % divmod(n, 60), "hostname": opt("--host")[0],
                  "tags": opt("--tag"), "paths": [args[-1]]})
    # The snapshot's content as it was, for restore.
    if os.path.isdir(args[-1]):
        shutil.copytree(args[-1], os.path.join(store, sid), symlinks=True)
    else:
        os.makedirs(os.path.join(store, sid))
elif cmd == "restore":
    sid, sep, _path = args[1].partition(":")
    target = opt("--target")[0]
    if not sep and opt("--include"):
        # restic restores an included path whole under the target (restic 0.14's way to a subfolder).
        target = os.path.join(target, opt("--include")[0].lstrip("/"))
    shutil.copytree(os.path.join(here, "store", sid), target, symlinks=True, dirs_exist_ok=True)
elif cmd == "snapshots":
    tag, host = opt("--tag")[0], (opt("--host") or [None])[0]
    print(json.dumps([s for s in snaps if tag in s["tags"] and host in (None, s["hostname"])]))
elif cmd == "forget" and not args[1].startswith("--"):
    snaps = [s for s in snaps if s["id"] not in args[1:]]
json.dump(snaps, open(repo, "w"))
"""


@pytest.fixture
def restic(tmp_path):
    path = tmp_path / "restic"
    path.write_text(FAKE_RESTIC.replace("{python}", sys.executable))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "restic.env").write_text("# off-site\nRESTIC_REPOSITORY='s3:http://127.0.0.1:8333/b/mvp'\nAWS_X=1\n")
    return tmp_path


def offsite_cfg(tmp_path, **extra):
    data = make_config(
        tmp_path,
        offsite={
            "enabled": True,
            "env_file": str(tmp_path / "restic.env"),
            "restic": str(tmp_path / "restic"),
            "cache_dir": str(tmp_path / "cache"),
            "options": ["s3.region=us-east-1"],
            "retention_db": {"keep_last": 1},
            "retention_files": {"keep_last": 2},
            **extra,
        },
    )
    return Config(data)


@pytest.fixture
def no_sleep(monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda _s: None)


os.environ.pop("JOURNAL_STREAM", None)
