# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""mvp_backup.offsite (restic tags, chain-aware off-site retention) with a fake restic, and
mvp_backup.cli (the command line: parser, JSON output, exit codes, failure metrics).

The real restic against a real S3 server is the molecule `backup` scenario's.
"""

from __future__ import annotations

import json

import _retention
import pytest
from conftest import make_config, offsite_cfg, write_backup
from mvp_backup import cli, offsite
from mvp_backup.common import JobError


def test_env_file_and_errors(tmp_path):
    (tmp_path / "e").write_text("A=1\n# c\n\nB='two'\nC=\"3\"\n")
    assert offsite.read_env_file(str(tmp_path / "e")) == {"A": "1", "B": "two", "C": "3"}
    with pytest.raises(JobError, match="cannot read the off-site credentials"):
        offsite.read_env_file(str(tmp_path / "missing"))


def test_tags_round_trip_into_the_chain_model():
    meta = {
        "id": "20261201T081500Z-incr",
        "kind": "incremental",
        "parent": "20261201T021500Z-full",
        "start": "2026-12-01T08:15:00Z",
    }
    snap = {"id": "abc", "time": "t", "paths": ["/var/backups/mvp/db/x"], "tags": offsite.backup_tags("mvp-db", meta)}
    entry = offsite.catalogue_entry(snap)
    assert {k: entry[k] for k in meta} == meta and entry["_snapshot"] == "abc"
    assert _retention.Backup.from_metadata(entry).parent == "20261201T021500Z-full"
    assert offsite.catalogue_entry({"id": "x", "tags": ["mvp-db"]}) is None


def test_offsite_copy_keeps_chains_and_forgets_the_rest(tmp_path, restic, fake_docker):
    cfg = offsite_cfg(tmp_path)
    ids = ["20261130T021500Z-full", "20261130T081500Z-incr", "20261201T021500Z-full", "20261201T081500Z-incr"]
    parents = [None, ids[0], None, ids[2]]
    for backup_id, parent in zip(ids, parents):
        bdir = write_backup(cfg.db_dir, backup_id, "incremental" if parent else "full", parent)
        meta = json.loads((bdir / "backup.json").read_text())
        offsite.offsite_copy(cfg, "db", {**meta, "_path": str(bdir)}, cfg.db_dir)
    left = offsite.offsite_backups(offsite.Restic(cfg), "unit")
    # keep_last 1 keeps the newest incremental and, through the chain, its full.
    assert sorted(left) == ["20261201T021500Z-full", "20261201T081500Z-incr"]
    calls = [json.loads(line)["argv"] for line in (tmp_path / "restic.log").read_text().splitlines()]
    assert any("prune" in c for c in calls)
    assert all(c[:2] == ["--retry-lock", "30m"] for c in calls if c != ["version"])
    assert all("--no-scan" in c for c in calls if "backup" in c)


def test_restic_0_14_gets_no_option_it_does_not_know(tmp_path, restic, fake_docker, monkeypatch):
    """Debian 12's restic 0.14 has neither --retry-lock (0.16) nor backup --no-scan (0.15)."""
    monkeypatch.setenv("FAKE_RESTIC_VERSION", "restic 0.14.0 compiled with go1.19.8 on linux/amd64")
    cfg = offsite_cfg(tmp_path)
    bdir = write_backup(cfg.db_dir, "20261201T021500Z-full", "full", None)
    meta = json.loads((bdir / "backup.json").read_text())
    offsite.offsite_copy(cfg, "db", {**meta, "_path": str(bdir)}, cfg.db_dir)
    calls = [json.loads(line)["argv"] for line in (tmp_path / "restic.log").read_text().splitlines()]
    assert calls[0] == ["version"] and [c for c in calls if c == ["version"]] == [["version"]]
    assert any("backup" in c for c in calls)
    assert not [c for c in calls if "--retry-lock" in c or "--no-scan" in c], calls
    assert all(c[:2] == ["-o", "s3.region=us-east-1"] for c in calls[1:])


@pytest.mark.parametrize(
    ("text", "version", "retry_lock", "no_scan"),
    [
        ("restic 0.14.0 compiled with go1.19.8 on linux/amd64", (0, 14, 0), False, False),
        ("restic 0.15.2 compiled with go1.20 on linux/amd64", (0, 15, 2), False, True),
        ("restic 0.18.0 compiled with go1.24.4 on linux/amd64", (0, 18, 0), True, True),
        ("", None, True, True),
    ],
)
def test_options_follow_the_version(text, version, retry_lock, no_scan):
    assert offsite.parse_version(text) == version
    assert offsite.supports(version, "--retry-lock") is retry_lock
    assert offsite.supports(version, "--no-scan") is no_scan


@pytest.mark.parametrize("version", ["restic 0.14.0 compiled with go1.19.8", "restic 0.18.0 compiled with go1.24.4"])
def test_a_snapshots_directory_is_restored_as_the_targets_content(tmp_path, restic, fake_docker, monkeypatch, version):
    """0.16 and later restore <snapshot>:<path>; 0.14 restores the path whole (--include), moved up."""
    monkeypatch.setenv("FAKE_RESTIC_VERSION", version)
    cfg = offsite_cfg(tmp_path)
    bdir = write_backup(cfg.db_dir, "20261201T021500Z-full", "full", None)
    meta = json.loads((bdir / "backup.json").read_text())
    offsite.offsite_copy(cfg, "db", {**meta, "_path": str(bdir)}, cfg.db_dir)
    restic_ = offsite.Restic(cfg)
    entry = offsite.offsite_backups(restic_, "unit")["20261201T021500Z-full"]
    target = tmp_path / "fetched"
    target.mkdir()
    restic_.restore_path(entry["_snapshot"], entry["_path"], target)
    assert sorted(p.name for p in target.iterdir()) == sorted(p.name for p in bdir.iterdir())
    restore = [json.loads(line)["argv"] for line in (tmp_path / "restic.log").read_text().splitlines()][-1]
    old = "0.14" in version
    assert ("--include" in restore) is old and any(a.endswith(":" + entry["_path"]) for a in restore) is not old


def test_files_use_restics_own_rules(tmp_path, restic):
    cfg = offsite_cfg(tmp_path)
    (tmp_path / "f").mkdir()
    meta = {"id": "20261201T031500Z-files", "kind": "full", "start": "2026-12-01T03:15:00Z"}
    offsite.offsite_copy(cfg, "files", meta, tmp_path)
    calls = [json.loads(line)["argv"] for line in (tmp_path / "restic.log").read_text().splitlines()]
    forget = next(c for c in calls if "forget" in c)
    assert forget[forget.index("forget") :] == [
        "forget",
        "--tag",
        "mvp-files",
        "--host",
        "unit",
        "--group-by",
        "host",
        "--keep-last",
        "2",
    ]


def test_cli_outputs_json_and_records_failures(tmp_path, fake_docker, capsys, monkeypatch):
    monkeypatch.setenv("FAKE_EXEC_OUT", "17.6|170006|7000|1|on")
    data = make_config(tmp_path)
    (tmp_path / "pg-password").write_text("pw\n")
    data["db"]["password_file"] = str(tmp_path / "pg-password")
    (tmp_path / "config.json").write_text(json.dumps(data))
    conf = ["--config", str(tmp_path / "config.json")]
    assert cli.main([*conf, "check-config"]) == 0
    assert json.loads(capsys.readouterr().out) == {"config": "ok"}
    assert cli.main([*conf, "db", "--kind", "full"]) == 0
    full = json.loads(capsys.readouterr().out)
    assert full["kind"] == "full" and full["_path"].endswith(full["id"])
    assert cli.main([*conf, "check-backup", "--id", "latest"]) == 0
    assert json.loads(capsys.readouterr().out) == {"chain": [full["id"]], "problems": {}}
    assert cli.main([*conf, "list"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [m["id"] for m in listed["db"]] == [full["id"]] and "_path" not in listed["db"][0]
    assert "wal_ranges" not in listed["db"][0] and listed["files"] == []
    assert cli.main([*conf, "status"]) == 0
    assert json.loads(capsys.readouterr().out)["full"]["last_status"] == 1
    monkeypatch.setenv("FAKE_BASEBACKUP_FAIL", "1")
    assert cli.main([*conf, "db", "--kind", "incremental"]) == 1
    err = capsys.readouterr().err
    assert "mvp-backup: err: db failed: " in err and "connection refused" in err
    prom = (tmp_path / "metrics" / "mvp_backup_incremental.prom").read_text()
    assert 'mvp_backup_last_status{kind="incremental"} 0' in prom
    assert cli.main([*conf, "dump"]) == 1
    assert "database mode logical only" in capsys.readouterr().err


def test_cli_parser_is_the_documented_one():
    p = cli.parser()
    commands = p._subparsers._group_actions[0].choices
    assert sorted(commands) == sorted(
        [
            "db",
            "files",
            "dump",
            "redis",
            "offsite-check",
            "verify",
            "prepare-restore",
            "prepare-files-restore",
            "list",
            "check-backup",
            "swap-volume",
            "status",
            "check-config",
            "wal-receive",
            "wal-status",
            "wal-push",
            "state",
            "restore-state",
        ]
    )
    args = p.parse_args(["swap-volume", "--volume", "v", "--staged", "/s", "--keep-name", "k", "--label", "a=b"])
    assert (args.volume, args.label, args.force_full) == ("v", ["a=b"], False)
    with pytest.raises(SystemExit):
        p.parse_args(["db", "--kind", "differential"])
