# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests of the backup_rotate module: the real module run by ``ansible localhost -m`` on a
temporary directory of fake backups (check mode, diff, real run, idempotence, bad input), and its
documentation against its argument spec."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import _runner
import pytest
import yaml

REPO = Path(__file__).resolve().parents[4]
MODULE = "mvp_platform.infra.backup_rotate"

try:
    from ansible_collections.mvp_platform.infra.plugins.modules import backup_rotate
except ImportError:  # plain pytest from a clone: the tree is linked under .ansible/collections
    sys.path.insert(0, str(REPO / ".ansible" / "collections"))
    from ansible_collections.mvp_platform.infra.plugins.modules import backup_rotate


@pytest.fixture
def run_module(tmp_path):
    """Run the module through ``ansible localhost -m``; returns the host's result dict."""

    def run(args, check=False, diff=False):
        return _runner.run_module(
            MODULE, args, check=check, diff=diff, ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp")
        )[1]

    return run


def write_backup(directory, backup_id, start, kind="full", parent=None, *, status="complete"):
    path = directory / backup_id
    path.mkdir()
    (path / "base.tar").write_text("data")
    meta = {
        "id": backup_id,
        "kind": kind,
        "parent": parent,
        "start": start,
        "end": start if status == "complete" else None,
        "status": status,
        "size": 4,
        "pg_version": "17.2",
        "checksums": {"base.tar": "sha256:0"},
    }
    (path / "backup.json").write_text(json.dumps(meta))


@pytest.fixture
def backups(tmp_path):
    """Three days of a daily full plus incrementals at 06, 12 and 18, a failed and an orphan."""
    directory = tmp_path / "db"
    directory.mkdir()
    for day in (1, 2, 3):
        parent = f"f{day}"
        write_backup(directory, parent, f"2025-03-0{day}T00:00:00Z")
        for hour in (6, 12, 18):
            backup_id = f"i{day}-{hour:02d}"
            write_backup(directory, backup_id, f"2025-03-0{day}T{hour:02d}:00:00Z", "incremental", parent)
            parent = backup_id
    write_backup(directory, "failed", "2025-03-02T03:00:00Z", "incremental", "f2", status="failed")
    write_backup(directory, "orphan", "2025-03-02T04:00:00Z", "incremental", "lost")
    (directory / "not-a-backup").mkdir()
    return directory


def ids(entries):
    return [entry["id"] for entry in entries]


def test_check_mode_reports_the_plan_and_removes_nothing(run_module, backups):
    before = sorted(os.listdir(backups))
    result = run_module({"path": str(backups), "keep_daily": 2}, check=True, diff=True)
    assert result["changed"] is True, result
    assert sorted(os.listdir(backups)) == before
    assert set(ids(result["kept"])) == {"f2", "i2-06", "i2-12", "i2-18", "f3", "i3-06", "i3-12", "i3-18"}
    assert ids(result["removed"]) == ["orphan", "failed", "i1-18", "i1-12", "i1-06", "f1"]
    kept = {entry["id"]: entry["reasons"] for entry in result["kept"]}
    assert kept["i3-18"] == ["keep_daily", "newest complete backup"]
    assert kept["f2"] == ["dependency of i2-18"]
    removed = {entry["id"]: entry["reasons"] for entry in result["removed"]}
    assert removed["orphan"] == ["orphan: parent lost of orphan is missing"]
    assert removed["failed"] == ["failed and older than the newest complete backup"]
    assert removed["f1"] == ["not kept by the policy (keep_daily 2)"]
    assert result["ignored"] == [{"path": str(backups / "not-a-backup"), "reason": "no backup.json"}]
    assert any("not-a-backup" in warning for warning in result.get("warnings", []))
    diff = result["diff"]
    after = ["f2", "i2-06", "i2-12", "i2-18", "f3", "i3-06", "i3-12", "i3-18"]
    assert diff["after"].split() == after  # oldest first
    assert diff["before"].split() == ["f1", "i1-06", "i1-12", "i1-18", "f2", "failed", "orphan", *after[1:]]


def test_real_run_removes_then_second_run_changes_nothing(run_module, backups):
    args = {"path": str(backups), "keep_daily": 2}
    first = run_module(args)
    assert first["changed"] is True, first
    assert ids(first["removed"]) == ["orphan", "failed", "i1-18", "i1-12", "i1-06", "f1"]
    assert sorted(os.listdir(backups)) == sorted(["not-a-backup", *ids(first["kept"])])

    second = run_module(args, diff=True)
    assert second["changed"] is False, second
    assert second["removed"] == []
    assert ids(second["kept"]) == ids(first["kept"])
    assert second["diff"]["before"] == second["diff"]["after"]


def test_default_policy_keeps_seven_days_relative_to_the_newest_backup(run_module, tmp_path):
    directory = tmp_path / "files"
    directory.mkdir()
    write_backup(directory, "old", "2025-01-01T00:00:00Z")
    write_backup(directory, "week-ago", "2025-01-03T00:00:01Z")
    write_backup(directory, "newest", "2025-01-10T00:00:00Z")
    result = run_module({"path": str(directory)})
    assert result["policy"] == "keep_within 7d"
    assert ids(result["removed"]) == ["old"]
    assert sorted(os.listdir(directory)) == ["newest", "week-ago"]


def test_custom_metadata_file(run_module, tmp_path):
    directory = tmp_path / "custom"
    directory.mkdir()
    write_backup(directory, "a", "2025-01-01T00:00:00Z")
    write_backup(directory, "b", "2025-01-02T00:00:00Z")
    for name in ("a", "b"):
        (directory / name / "backup.json").rename(directory / name / "meta.json")
    result = run_module({"path": str(directory), "keep_last": 1, "metadata_file": "meta.json"}, check=True)
    assert ids(result["removed"]) == ["a"]


@pytest.mark.parametrize(
    ("args", "option"),
    [
        ({"keep_daily": -1}, "keep_daily"),
        ({"keep_last": -3}, "keep_last"),
        ({"keep_within": "7x"}, "keep_within"),
        ({"keep_within": "1d1d"}, "keep_within"),
        ({"keep_weekly": "many"}, "keep_weekly"),
        ({"metadata_file": "../backup.json"}, "metadata_file"),
    ],
)
def test_bad_input_fails_naming_the_option(run_module, backups, args, option):
    before = sorted(os.listdir(backups))
    result = run_module({"path": str(backups), **args})
    assert result.get("failed") is True, result
    assert option in result["msg"]
    assert sorted(os.listdir(backups)) == before


def test_missing_path_fails(run_module, tmp_path):
    result = run_module({"path": str(tmp_path / "nowhere")})
    assert result.get("failed") is True
    assert "path" in result["msg"]
    assert "nowhere" in result["msg"]


# --------------------------------------------------------------------------------------------
# Documentation
# --------------------------------------------------------------------------------------------


def test_documentation_matches_argument_spec():
    doc = yaml.safe_load(backup_rotate.DOCUMENTATION)
    spec = backup_rotate.argument_spec()
    assert set(doc["options"]) == set(spec)
    for name, option in spec.items():
        documented = doc["options"][name]
        assert documented.get("type", "str") == option.get("type", "str"), name
        assert documented.get("default") == option.get("default"), name
        assert bool(documented.get("required")) == bool(option.get("required")), name
    assert doc["attributes"]["check_mode"]["support"] == "full"
    assert doc["attributes"]["diff_mode"]["support"] == "full"
    assert doc["attributes"]["platform"]["platforms"] == "posix"


def test_return_and_examples_are_consistent():
    returned = yaml.safe_load(backup_rotate.RETURN)
    assert set(returned) == {"kept", "removed", "ignored", "leftovers", "policy"}
    options = yaml.safe_load(backup_rotate.DOCUMENTATION)["options"]
    for task in yaml.safe_load(backup_rotate.EXAMPLES):
        if MODULE in task:
            assert set(task[MODULE]) <= set(options), task["name"]
