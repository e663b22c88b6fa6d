# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of the retention library (``plugins/module_utils/_retention.py``).

Table tests follow restic's documented ``forget --keep-*`` semantics
(https://restic.readthedocs.io/en/stable/060_forget.html and ``internal/restic/snapshot_policy.go``);
hypothesis checks the chain invariants on random backup sets.
"""

from __future__ import annotations

import datetime
import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[4]
RETENTION_FILE = REPO / "plugins" / "module_utils" / "_retention.py"
MODULE_NAME = "ansible_collections.mvp_platform.infra.plugins.module_utils._retention"


def _load_retention():
    """Import through the collection name when it resolves, else straight from the file."""
    try:
        return importlib.import_module(MODULE_NAME)
    except ImportError:
        spec = importlib.util.spec_from_file_location("_retention", RETENTION_FILE)
        module = importlib.util.module_from_spec(spec)
        sys.modules["_retention"] = module
        spec.loader.exec_module(module)
        return module


R = _load_retention()
UTC = datetime.timezone.utc
NOW = datetime.datetime(2030, 1, 1, tzinfo=UTC)  # far after every fixture: "now" never matters unless stated


def ts(text):
    return R.parse_timestamp(text)


def full(backup_id, start, status="complete"):
    return R.Backup(id=backup_id, kind="full", parent=None, start=ts(start), status=status, end=_end(start, status))


def incr(backup_id, parent, start, status="complete"):
    return R.Backup(
        id=backup_id, kind="incremental", parent=parent, start=ts(start), status=status, end=_end(start, status)
    )


def _end(start, status):
    return ts(start) + datetime.timedelta(minutes=5) if status == "complete" else None


def fulls(*starts):
    """Full backups whose id is their start time."""
    return [full(s, s) for s in starts]


def plan(backups, now=NOW, **options):
    return R.plan_retention(backups, R.Policy.from_options(**options), now=now)


def kept_ids(p):
    return set(p.kept_ids)


def reasons_of(p, backup_id):
    return dict(p.kept)[backup_id] if backup_id in dict(p.kept) else dict(p.removed)[backup_id]


# --------------------------------------------------------------------------------------------
# Durations
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", (0, 0, 7, 0)),
        ("36h", (0, 0, 0, 36)),
        ("2w", (0, 0, 14, 0)),
        ("1m", (0, 1, 0, 0)),
        ("1y2m3d", (1, 2, 3, 0)),
        ("2y5m7d3h", (2, 5, 7, 3)),  # restic's documented example
        ("1y5m7d2h", (1, 5, 7, 2)),  # restic's --help example
        ("3h1d", (0, 0, 1, 3)),  # any order, as restic
        ("1w2d", (0, 0, 9, 0)),
        (" 7d ", (0, 0, 7, 0)),
        ("0d", (0, 0, 0, 0)),
    ],
)
def test_parse_duration(text, expected):
    d = R.parse_duration(text)
    assert (d.years, d.months, d.days, d.hours) == expected


@pytest.mark.parametrize(
    "text", ["", "  ", "7", "d", "-1d", "7x", "1d2d", "7 d", "1.5d", "7D", "P7D", None, 7, "9" * 5000 + "d"]
)
def test_parse_duration_rejects(text):
    with pytest.raises(R.RetentionError, match="keep_within"):
        R.parse_duration(text)


@pytest.mark.parametrize(
    ("latest", "duration", "cutoff"),
    [
        ("2026-01-10T00:00:00Z", "7d", "2026-01-03T00:00:00Z"),
        ("2026-01-10T00:00:00Z", "36h", "2026-01-08T12:00:00Z"),
        ("2026-01-10T00:00:00Z", "2w", "2025-12-27T00:00:00Z"),
        # Go's AddDate normalises: 31 March minus 1 month is "31 February" = 3 March.
        ("2026-03-31T12:00:00Z", "1m", "2026-03-03T12:00:00Z"),
        ("2024-02-29T00:00:00Z", "1y", "2023-03-01T00:00:00Z"),
        ("2026-05-15T06:00:00Z", "1y2m3d4h", "2025-03-12T02:00:00Z"),
    ],
)
def test_duration_before_is_go_adddate(latest, duration, cutoff):
    assert R.parse_duration(duration).before(ts(latest)) == ts(cutoff)


def test_duration_before_year_one_means_everything():
    assert R.parse_duration("3000y").before(ts("2026-01-01T00:00:00Z")) is None


# --------------------------------------------------------------------------------------------
# Timestamps and metadata
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-31T02:00:00Z", datetime.datetime(2026, 1, 31, 2, tzinfo=UTC)),
        ("2026-01-31T02:00:00.123456Z", datetime.datetime(2026, 1, 31, 2, 0, 0, 123456, tzinfo=UTC)),
        ("2026-01-31T02:00:00+00:00", datetime.datetime(2026, 1, 31, 2, tzinfo=UTC)),
        ("2026-01-31T05:00:00+03:00", datetime.datetime(2026, 1, 31, 2, tzinfo=UTC)),
        ("2026-01-31 02:00:00", datetime.datetime(2026, 1, 31, 2, tzinfo=UTC)),
        ("2026-01-31T02:00Z", datetime.datetime(2026, 1, 31, 2, tzinfo=UTC)),
    ],
)
def test_parse_timestamp(text, expected):
    assert R.parse_timestamp(text) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2026-01-31", "2026-13-01T00:00:00Z", "2026-01-31T25:00:00Z", 5])
def test_parse_timestamp_rejects(text):
    with pytest.raises(ValueError):
        R.parse_timestamp(text)


GOOD_META = {
    "id": "b1",
    "kind": "full",
    "parent": None,
    "start": "2026-01-01T00:00:00Z",
    "end": "2026-01-01T00:05:00Z",
    "status": "complete",
    "size": 10,
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": ""}, "id"),
        ({"kind": "differential"}, "kind"),
        ({"status": "ok"}, "status"),
        ({"start": "soon"}, "start"),
        ({"end": None}, "end"),
        ({"end": "later"}, "end"),
        ({"size": -1}, "size"),
        ({"size": True}, "size"),
        ({"parent": 5}, "parent"),
    ],
)
def test_metadata_validation_names_the_field(change, message):
    with pytest.raises(ValueError, match=message):
        R.Backup.from_metadata({**GOOD_META, **change})


def test_metadata_missing_fields_and_extras():
    with pytest.raises(ValueError, match="missing field"):
        R.Backup.from_metadata({"id": "x"})
    backup = R.Backup.from_metadata({**GOOD_META, "checksums": {"a": "b"}, "pg_version": 17})
    assert backup.id == "b1"
    assert backup.parent is None
    running = R.Backup.from_metadata({**GOOD_META, "status": "running", "end": None, "size": None})
    assert not running.complete


def test_full_ignores_parent():
    assert R.Backup.from_metadata({**GOOD_META, "parent": "other"}).parent is None


# --------------------------------------------------------------------------------------------
# Policy options
# --------------------------------------------------------------------------------------------


def test_default_policy_is_keep_within_7d():
    policy = R.Policy.from_options()
    assert policy.keep_within == R.Duration(days=7)
    assert policy.describe() == "keep_within 7d"
    assert R.Policy.from_options(keep_last=None, keep_within=None) == policy


@pytest.mark.parametrize("name", R.COUNT_RULES)
@pytest.mark.parametrize("value", [-1, True, 1.5, "3"])
def test_invalid_counts_name_the_option(name, value):
    with pytest.raises(R.RetentionError, match=name):
        R.Policy.from_options(**{name: value})


def test_unknown_option():
    with pytest.raises(R.RetentionError, match="keep_tag"):
        R.Policy.from_options(keep_tag="x")


def test_explicit_zero_policy_is_empty_and_keeps_everything_usable():
    backups = fulls("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z")
    p = plan(backups, keep_last=0, keep_within="0d")
    assert p.removed == []
    assert all("policy is empty" in entry[1] for entry in p.kept)


# --------------------------------------------------------------------------------------------
# Table tests: one rule at a time, restic semantics (all fulls, so chains play no role)
# --------------------------------------------------------------------------------------------

RESTIC_DOC_SUNDAYS = [f"2019-{md}T11:00:00Z" for md in (
    "09-01", "09-08", "09-15", "09-22", "09-29", "10-06", "10-13", "10-20", "10-27", "11-03", "11-10", "11-17",
)]  # fmt: skip

HOURS = ["2026-05-31T10:05:00Z", "2026-05-31T10:40:00Z", "2026-05-31T11:10:00Z", "2026-05-31T11:50:00Z",
         "2026-05-31T12:30:00Z"]  # fmt: skip

DAYS = ["2026-05-30T08:00:00Z", "2026-05-30T20:00:00Z", "2026-05-31T23:59:00Z", "2026-06-01T00:01:00Z",
        "2026-06-01T12:00:00Z"]  # fmt: skip

# Monday 25 May, Wednesday 27 May and Sunday 31 May 2026 are ISO week 22; Monday 1 June is week 23.
WEEKS = ["2026-05-18T00:00:00Z", "2026-05-25T00:00:00Z", "2026-05-27T00:00:00Z", "2026-05-31T23:00:00Z",
         "2026-06-01T01:00:00Z"]  # fmt: skip

MONTHS = ["2025-12-31T23:00:00Z", "2026-01-15T00:00:00Z", "2026-01-31T00:00:00Z", "2026-02-01T00:00:00Z",
          "2026-02-28T00:00:00Z", "2026-03-01T00:00:00Z"]  # fmt: skip

YEARS = ["2023-06-01T00:00:00Z", "2024-01-01T00:00:00Z", "2024-12-31T23:00:00Z", "2025-07-01T00:00:00Z",
         "2026-01-01T00:00:00Z"]  # fmt: skip


@pytest.mark.parametrize(
    ("starts", "options", "expected_kept", "expected_reason"),
    [
        # restic docs: 12 Sunday snapshots, "forget --keep-daily 4" keeps the last four Sundays.
        (RESTIC_DOC_SUNDAYS, {"keep_daily": 4}, RESTIC_DOC_SUNDAYS[-4:], "keep_daily"),
        (RESTIC_DOC_SUNDAYS, {"keep_weekly": 2}, RESTIC_DOC_SUNDAYS[-2:], "keep_weekly"),
        (RESTIC_DOC_SUNDAYS, {"keep_monthly": 2}, ["2019-10-27T11:00:00Z", "2019-11-17T11:00:00Z"], "keep_monthly"),
        # keep_last: the n newest.
        (HOURS, {"keep_last": 3}, HOURS[2:], "keep_last"),
        (HOURS, {"keep_last": 1}, HOURS[-1:], "keep_last"),
        # keep_hourly: newest of each of the last n hours having backups.
        (HOURS, {"keep_hourly": 2}, ["2026-05-31T11:50:00Z", "2026-05-31T12:30:00Z"], "keep_hourly"),
        (HOURS, {"keep_hourly": 3}, HOURS[1:2] + HOURS[3:], "keep_hourly"),
        # keep_daily: calendar days 00:00-23:59 (UTC), not 24 h windows.
        (DAYS, {"keep_daily": 2}, ["2026-05-31T23:59:00Z", "2026-06-01T12:00:00Z"], "keep_daily"),
        (DAYS, {"keep_daily": 3}, [DAYS[1], DAYS[2], DAYS[4]], "keep_daily"),
        # keep_weekly: ISO weeks, Monday to Sunday.
        (WEEKS, {"keep_weekly": 2}, ["2026-05-31T23:00:00Z", "2026-06-01T01:00:00Z"], "keep_weekly"),
        # keep_monthly: calendar months.
        (MONTHS, {"keep_monthly": 2}, ["2026-02-28T00:00:00Z", "2026-03-01T00:00:00Z"], "keep_monthly"),
        (MONTHS, {"keep_monthly": 3}, [MONTHS[2], MONTHS[4], MONTHS[5]], "keep_monthly"),
        # keep_yearly: calendar years.
        (YEARS, {"keep_yearly": 2}, ["2025-07-01T00:00:00Z", "2026-01-01T00:00:00Z"], "keep_yearly"),
        (YEARS, {"keep_yearly": 3}, YEARS[2:], "keep_yearly"),
        # keep_within: strictly newer than (newest - duration); exactly 7 days before is out.
        (["2026-01-02T23:59:00Z", "2026-01-03T00:00:00Z", "2026-01-03T00:01:00Z", "2026-01-10T00:00:00Z"],
         {"keep_within": "7d"}, ["2026-01-03T00:01:00Z", "2026-01-10T00:00:00Z"], "keep_within 7d"),
        (["2026-01-08T11:00:00Z", "2026-01-08T13:00:00Z", "2026-01-10T00:00:00Z"],
         {"keep_within": "36h"}, ["2026-01-08T13:00:00Z", "2026-01-10T00:00:00Z"], "keep_within 36h"),
        (["2025-12-26T12:00:00Z", "2025-12-27T12:00:00Z", "2026-01-10T00:00:00Z"],
         {"keep_within": "2w"}, ["2025-12-27T12:00:00Z", "2026-01-10T00:00:00Z"], "keep_within 2w"),
        # 1 month before 31 March is 3 March in restic (Go AddDate), not 28 February.
        (["2026-03-01T00:00:00Z", "2026-03-03T12:00:00Z", "2026-03-03T12:00:01Z", "2026-03-31T12:00:00Z"],
         {"keep_within": "1m"}, ["2026-03-03T12:00:01Z", "2026-03-31T12:00:00Z"], "keep_within 1m"),
    ],
)  # fmt: skip
def test_single_rule(starts, options, expected_kept, expected_reason):
    p = plan(fulls(*starts), **options)
    assert kept_ids(p) == set(expected_kept)
    assert set(p.kept_ids) | set(p.removed_ids) == set(starts)
    for backup_id in expected_kept:
        assert expected_reason in reasons_of(p, backup_id)


@pytest.mark.parametrize(
    ("starts", "options", "oldest_reason"),
    [
        # restic >= 0.17 (PR #4366/#5039): a rule with counts left also keeps the oldest backup.
        (HOURS, {"keep_hourly": 5}, "keep_hourly (oldest)"),
        (DAYS, {"keep_daily": 10}, "keep_daily (oldest)"),
        (MONTHS[1:], {"keep_monthly": 10}, "keep_monthly (oldest)"),
    ],
)
def test_counts_left_keep_the_oldest_backup_too(starts, options, oldest_reason):
    p = plan(fulls(*starts), **options)
    assert starts[0] in kept_ids(p)
    assert oldest_reason in reasons_of(p, starts[0])


def test_counts_exhausted_do_not_keep_the_oldest():
    p = plan(fulls(*HOURS), keep_hourly=3)  # 3 hours exist: count reaches 0 at the newest of hour 10
    assert HOURS[0] not in kept_ids(p)


def test_keep_within_is_relative_to_the_newest_backup_not_now():
    backups = fulls("2026-01-01T00:00:00Z", "2026-01-05T00:00:00Z", "2026-01-09T00:00:00Z")
    much_later = datetime.datetime(2027, 1, 1, tzinfo=UTC)
    p = plan(backups, now=much_later, keep_within="7d")
    assert kept_ids(p) == {"2026-01-05T00:00:00Z", "2026-01-09T00:00:00Z"}


def test_keep_within_ignores_future_backups_as_reference():
    backups = fulls("2026-01-01T00:00:00Z", "2026-01-05T00:00:00Z", "2026-02-01T00:00:00Z")
    p = plan(backups, now=ts("2026-01-10T00:00:00Z"), keep_within="3d")
    # Reference is 5 January (the newest not in the future); the future backup is kept as well.
    assert kept_ids(p) == {"2026-01-05T00:00:00Z", "2026-02-01T00:00:00Z"}


def test_rules_combine_by_union_with_every_reason():
    starts = ["2026-05-29T10:00:00Z", "2026-05-30T10:00:00Z", "2026-05-31T10:00:00Z", "2026-05-31T20:00:00Z"]
    p = plan(fulls(*starts), keep_last=2, keep_daily=2)
    assert kept_ids(p) == {"2026-05-30T10:00:00Z", "2026-05-31T10:00:00Z", "2026-05-31T20:00:00Z"}
    assert reasons_of(p, "2026-05-31T20:00:00Z")[:2] == ["keep_last", "keep_daily"]
    assert reasons_of(p, "2026-05-31T10:00:00Z") == ["keep_last"]
    assert reasons_of(p, "2026-05-30T10:00:00Z") == ["keep_daily"]


def test_default_policy_applies_without_options():
    starts = ["2026-01-01T00:00:00Z", "2026-01-03T00:00:01Z", "2026-01-10T00:00:00Z"]
    p = R.plan_retention(fulls(*starts), now=NOW)
    assert kept_ids(p) == set(starts[1:])
    assert p.policy == "keep_within 7d"


# --------------------------------------------------------------------------------------------
# Chains
# --------------------------------------------------------------------------------------------


def week_of_chains():
    """Daily full at 00:00 plus incrementals at 06, 12, 18 (the design's schedule), 1-3 Jan 2026."""
    backups = []
    for day in (1, 2, 3):
        parent = f"f{day}"
        backups.append(full(parent, f"2026-01-0{day}T00:00:00Z"))
        for hour in (6, 12, 18):
            backup_id = f"i{day}-{hour:02d}"
            backups.append(incr(backup_id, parent, f"2026-01-0{day}T{hour:02d}:00:00Z"))
            parent = backup_id
    return backups


def test_kept_incremental_keeps_its_whole_chain():
    p = plan(week_of_chains(), keep_last=1)
    assert kept_ids(p) == {"f3", "i3-06", "i3-12", "i3-18"}
    assert "dependency of i3-18" in reasons_of(p, "f3")
    assert "dependency of i3-18" in reasons_of(p, "i3-06")
    assert reasons_of(p, "i3-18") == ["keep_last", "newest complete backup"]


def test_keep_daily_on_chains_keeps_the_last_incremental_and_its_full():
    p = plan(week_of_chains(), keep_daily=2)
    assert kept_ids(p) == {"f2", "i2-06", "i2-12", "i2-18", "f3", "i3-06", "i3-12", "i3-18"}


def test_full_kept_only_while_a_kept_incremental_depends_on_it():
    p = plan(week_of_chains(), keep_hourly=1)
    assert "f3" in kept_ids(p)
    assert "f1" not in kept_ids(p)
    assert "f2" not in kept_ids(p)


def test_newest_complete_backup_is_marked_as_such():
    p = plan(week_of_chains(), keep_within="1h")
    assert reasons_of(p, "i3-18") == ["keep_within 1h", "newest complete backup"]
    assert kept_ids(p) == {"f3", "i3-06", "i3-12", "i3-18"}


def test_orphans_are_removed_and_take_no_keep_slot():
    backups = [
        full("f1", "2026-01-01T00:00:00Z"),
        incr("orphan", "gone", "2026-01-01T06:00:00Z"),
        incr("orphan-child", "orphan", "2026-01-01T12:00:00Z"),
        full("f2", "2026-01-02T00:00:00Z"),
    ]
    p = plan(backups, keep_last=2)
    assert kept_ids(p) == {"f1", "f2"}
    assert reasons_of(p, "orphan") == ["orphan: parent gone of orphan is missing"]
    assert reasons_of(p, "orphan-child")[0].startswith("orphan:")
    assert p.removed_ids == ["orphan-child", "orphan"]


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        ([incr("i", None, "2026-01-01T06:00:00Z")], "has no parent"),
        ([full("p", "2026-01-01T00:00:00Z", "failed"), incr("i", "p", "2026-01-01T06:00:00Z")], "is failed"),
        ([incr("a", "b", "2026-01-01T06:00:00Z"), incr("i", "a", "2026-01-01T07:00:00Z"),
          incr("b", "a", "2026-01-01T05:00:00Z")], "loops"),
    ],
)  # fmt: skip
def test_broken_chains_are_orphans(broken, problem):
    backups = [*broken, full("f", "2026-01-02T00:00:00Z")]
    p = plan(backups, keep_last=10)
    assert "i" in p.removed_ids
    assert problem in reasons_of(p, "i")[0]


def test_newest_complete_orphan_is_kept_with_a_warning_reason():
    backups = [full("f1", "2026-01-01T00:00:00Z"), incr("i", "gone", "2026-01-02T00:00:00Z")]
    p = plan(backups, keep_last=5)
    assert kept_ids(p) == {"f1", "i"}
    assert any(r.startswith("kept although unusable") for r in reasons_of(p, "i"))


def test_failed_and_running_older_than_newest_complete_are_removed():
    backups = [
        full("f1", "2026-01-01T00:00:00Z"),
        incr("bad", "f1", "2026-01-01T06:00:00Z", status="failed"),
        incr("stuck", "f1", "2026-01-01T07:00:00Z", status="running"),
        incr("i1", "f1", "2026-01-01T12:00:00Z"),
        incr("running", "i1", "2026-01-01T18:00:00Z", status="running"),
        incr("failed-new", "i1", "2026-01-01T19:00:00Z", status="failed"),
    ]
    p = plan(backups, keep_last=1)
    assert set(p.removed_ids) == {"bad", "stuck"}
    assert reasons_of(p, "bad") == ["failed and older than the newest complete backup"]
    assert reasons_of(p, "stuck") == ["running and older than the newest complete backup"]
    assert kept_ids(p) == {"f1", "i1", "running", "failed-new"}


def test_in_progress_backup_keeps_its_parent_chain():
    backups = [
        full("f1", "2026-01-01T00:00:00Z"),
        incr("i1", "f1", "2026-01-01T06:00:00Z"),
        full("f2", "2026-01-02T00:00:00Z"),
        incr("running", "i1", "2026-01-02T06:00:00Z", status="running"),
    ]
    p = plan(backups, keep_last=1)
    assert kept_ids(p) == {"f2", "running", "i1", "f1"}
    assert "dependency of running" in reasons_of(p, "i1")


def test_only_failed_backups_are_left_alone():
    backups = [full("a", "2026-01-01T00:00:00Z", "failed"), full("b", "2026-01-02T00:00:00Z", "running")]
    p = plan(backups, keep_last=1)
    assert p.removed == []


def test_removal_order_children_first():
    p = plan(week_of_chains(), keep_last=1)
    order = p.removed_ids
    for day in (1, 2):
        assert (
            order.index(f"i{day}-18") < order.index(f"i{day}-12") < order.index(f"i{day}-06") < order.index(f"f{day}")
        )
    assert order.index("i2-18") < order.index("i1-18")  # newest chain first


def test_duplicate_ids_refused():
    with pytest.raises(R.RetentionError, match="twice"):
        plan([full("x", "2026-01-01T00:00:00Z"), full("x", "2026-01-02T00:00:00Z")])


def test_reason_texts_for_policy_removal():
    p = plan(fulls("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"), keep_last=1)
    assert reasons_of(p, "2026-01-01T00:00:00Z") == ["not kept by the policy (keep_last 1)"]
    assert p.to_dict()["removed"] == [
        {"id": "2026-01-01T00:00:00Z", "reasons": ["not kept by the policy (keep_last 1)"]}
    ]


# --------------------------------------------------------------------------------------------
# apply_plan, scan_directory, rotate
# --------------------------------------------------------------------------------------------


def test_apply_plan_uses_injected_remover_in_order():
    p = plan(week_of_chains(), keep_last=1)
    calls = []
    done = R.apply_plan(p, remover=calls.append)
    assert done == p.removed_ids
    assert calls == p.removed_ids  # Backups without a path are passed by id


def test_apply_plan_stops_at_first_failure_and_says_what_was_done():
    p = plan(week_of_chains(), keep_last=1)
    calls = []

    def remover(target):
        if len(calls) == 2:
            raise OSError("disk on fire")
        calls.append(target)

    with pytest.raises(R.RetentionError, match="disk on fire") as info:
        R.apply_plan(p, remover=remover)
    assert f"already removed: {calls[0]}, {calls[1]}" in str(info.value)


def write_backup(directory, backup_id, *, kind="full", parent=None, start="2026-01-01T00:00:00Z", name=None):
    path = Path(directory) / (name or backup_id)
    path.mkdir()
    (path / "data").write_text("payload")
    meta = {"id": backup_id, "kind": kind, "parent": parent, "start": start, "end": start, "status": "complete"}
    (path / "backup.json").write_text(json.dumps({**meta, "size": 7}))
    return path


def test_scan_directory_reports_what_it_ignores(tmp_path):
    write_backup(tmp_path, "f1")
    write_backup(tmp_path, "weird-dir-name", name="other-name", start="2026-01-02T00:00:00Z")
    (tmp_path / "nometa").mkdir()
    (tmp_path / "badjson").mkdir()
    (tmp_path / "badjson" / "backup.json").write_text("{not json")
    (tmp_path / "badfield").mkdir()
    (tmp_path / "badfield" / "backup.json").write_text(json.dumps({**GOOD_META, "kind": "weird"}))
    (tmp_path / "link").symlink_to(tmp_path / "nometa")
    (tmp_path / "a-file").write_text("x")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".old.removing").mkdir()
    inventory = R.scan_directory(str(tmp_path))
    assert sorted(b.id for b in inventory.backups) == ["f1", "weird-dir-name"]
    ignored = {Path(p).name: reason for p, reason in inventory.ignored}
    assert ignored == {
        "nometa": "no backup.json",
        "badjson": ignored["badjson"],
        "badfield": ignored["badfield"],
        "link": "symlink, not followed",
    }
    assert ignored["badjson"].startswith("unreadable backup.json")
    assert ignored["badfield"].startswith("invalid backup.json: kind")
    assert [Path(p).name for p in inventory.leftovers] == [".old.removing"]


def test_scan_directory_errors(tmp_path):
    with pytest.raises(R.RetentionError, match="path"):
        R.scan_directory(str(tmp_path / "missing"))
    with pytest.raises(R.RetentionError, match="metadata_file"):
        R.scan_directory(str(tmp_path), "../x.json")
    write_backup(tmp_path, "same", name="a")
    write_backup(tmp_path, "same", name="b")
    with pytest.raises(R.RetentionError, match="appears twice"):
        R.scan_directory(str(tmp_path))


def test_rotate_removes_directories_and_leftovers(tmp_path):
    write_backup(tmp_path, "f1", start="2026-01-01T00:00:00Z")
    write_backup(tmp_path, "i1", kind="incremental", parent="f1", start="2026-01-01T06:00:00Z")
    write_backup(tmp_path, "f2", start="2026-01-02T00:00:00Z")
    (tmp_path / ".f0.removing" / "deep").mkdir(parents=True)
    (tmp_path / "keepme").mkdir()
    policy = R.Policy.from_options(keep_last=1)

    dry = R.rotate(str(tmp_path), policy, dry_run=True, now=NOW)
    assert dry.removed_ids == ["i1", "f1"]
    assert sorted(os.listdir(tmp_path)) == [".f0.removing", "f1", "f2", "i1", "keepme"]

    done = R.rotate(str(tmp_path), policy, now=NOW)
    assert done.removed_ids == ["i1", "f1"]
    assert sorted(os.listdir(tmp_path)) == ["f2", "keepme"]

    again = R.rotate(str(tmp_path), policy, now=NOW)
    assert again.removed == []
    assert not again.changes


def test_remove_tree_renames_before_deleting(tmp_path, monkeypatch):
    target = write_backup(tmp_path, "f1")
    seen = []
    real_rmtree = shutil.rmtree

    class RecordingShutil:
        @staticmethod
        def rmtree(path):
            seen.append(os.path.basename(path))
            real_rmtree(path)

    monkeypatch.setattr(R, "shutil", RecordingShutil)
    R.remove_tree(str(target))
    assert seen == [".f1.removing"]
    assert os.listdir(tmp_path) == []


def test_leftover_with_the_same_name_as_a_removed_backup(tmp_path):
    write_backup(tmp_path, "f1", start="2026-01-01T00:00:00Z")
    write_backup(tmp_path, "f2", start="2026-01-02T00:00:00Z")
    (tmp_path / ".f1.removing").mkdir()
    p = R.rotate(str(tmp_path), R.Policy.from_options(keep_last=1), now=NOW)
    assert p.removed_ids == ["f1"]
    assert os.listdir(tmp_path) == ["f2"]


def test_interrupted_removal_leaves_a_hidden_leftover_that_the_next_run_deletes(tmp_path, monkeypatch):
    write_backup(tmp_path, "f1", start="2026-01-01T00:00:00Z")
    write_backup(tmp_path, "f2", start="2026-01-02T00:00:00Z")
    policy = R.Policy.from_options(keep_last=1)

    class CrashingShutil:
        @staticmethod
        def rmtree(path):
            raise OSError("power cut")

    monkeypatch.setattr(R, "shutil", CrashingShutil)
    with pytest.raises(R.RetentionError):
        R.rotate(str(tmp_path), policy, now=NOW)
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == [".f1.removing", "f2"]
    p = R.rotate(str(tmp_path), policy, now=NOW)
    assert p.removed == []
    assert [os.path.basename(x) for x in p.leftovers] == [".f1.removing"]
    assert os.listdir(tmp_path) == ["f2"]


# --------------------------------------------------------------------------------------------
# CLI (the scheduled job runs this very file)
# --------------------------------------------------------------------------------------------


def _python_interpreters():
    found = [sys.executable]
    candidate = shutil.which("python3.9")
    if candidate:
        try:
            ok = subprocess.run([candidate, "--version"], capture_output=True, check=False, timeout=30).returncode == 0
        except OSError:
            ok = False
        if ok:
            found.append(candidate)
    return found


@pytest.mark.parametrize("python", _python_interpreters())
def test_cli_dry_run_json_then_real_run(tmp_path, python):
    write_backup(tmp_path, "f1", start="2026-01-01T00:00:00Z")
    write_backup(tmp_path, "i1", kind="incremental", parent="f1", start="2026-01-01T06:00:00Z")
    write_backup(tmp_path, "f2", start="2026-01-09T00:00:00Z")
    (tmp_path / "junk").mkdir()
    cmd = [python, str(RETENTION_FILE), "--dir", str(tmp_path), "--keep-within", "7d"]

    dry = subprocess.run([*cmd, "--dry-run", "--json"], capture_output=True, text=True, check=False, timeout=60)
    assert dry.returncode == 0, dry.stderr
    result = json.loads(dry.stdout)
    assert result["dry_run"] is True
    assert [r["id"] for r in result["removed"]] == ["i1", "f1"]
    assert result["kept"] == [{"id": "f2", "reasons": ["keep_within 7d", "newest complete backup"]}]
    assert "ignored" in dry.stderr
    assert "junk" in dry.stderr
    assert sorted(os.listdir(tmp_path)) == ["f1", "f2", "i1", "junk"]

    real = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=60)
    assert real.returncode == 0, real.stderr
    assert "removed i1: not kept by the policy (keep_within 7d)" in real.stdout
    assert sorted(os.listdir(tmp_path)) == ["f2", "junk"]

    bad = subprocess.run([*cmd[:-1], "7x"], capture_output=True, text=True, check=False, timeout=60)
    assert bad.returncode == 1
    assert "keep_within" in bad.stderr


def test_main_in_process(tmp_path, capsys):
    write_backup(tmp_path, "f1", start="2026-01-01T00:00:00Z")
    write_backup(tmp_path, "f2", start="2026-01-02T00:00:00Z")
    assert R.main(["--dir", str(tmp_path), "--keep-last", "1", "--dry-run", "--now", "2026-02-01T00:00:00Z"]) == 0
    out = capsys.readouterr().out
    assert "would remove f1" in out
    assert "1 kept, 1 would remove" in out
    assert R.main(["--dir", str(tmp_path), "--keep-daily", "-1"]) == 1
    assert "keep_daily" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

BASE = datetime.datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def backup_sets(draw):
    """Random histories: times increasing (ties allowed), chains, broken parents, failures."""
    count = draw(st.integers(min_value=0, max_value=24))
    backups = []
    moment = BASE
    for index in range(count):
        moment += datetime.timedelta(minutes=draw(st.sampled_from([0, 30, 60, 360, 1440, 4000, 20000, 60000])))
        backup_id = f"b{index:02d}"
        kind = draw(st.sampled_from(["full", "incremental", "incremental"]))
        parent = None
        if kind == "incremental":
            choice = draw(st.sampled_from(["previous", "previous", "any", "missing", "none"]))
            if backups and choice == "previous":
                parent = backups[-1].id
            elif backups and choice == "any":
                parent = draw(st.sampled_from([b.id for b in backups]))
            elif choice == "missing":
                parent = "gone"
        status = draw(st.sampled_from(["complete"] * 6 + ["failed", "running"]))
        end = moment + datetime.timedelta(minutes=5) if status == "complete" else None
        backups.append(R.Backup(id=backup_id, kind=kind, parent=parent, start=moment, status=status, end=end))
    return backups


durations = st.sampled_from([None, "1h", "36h", "1d", "7d", "2w", "1m", "1y2m3d"])
counts = st.one_of(st.none(), st.integers(min_value=0, max_value=6))
policies = st.builds(
    R.Policy.from_options,
    keep_last=counts,
    keep_hourly=counts,
    keep_daily=counts,
    keep_weekly=counts,
    keep_monthly=counts,
    keep_yearly=counts,
    keep_within=durations,
)
nows = st.sampled_from([NOW, BASE + datetime.timedelta(days=20)])  # the second one puts some backups in the future

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _remaining(backups, removed_ids):
    removed = set(removed_ids)
    return [b for b in backups if b.id not in removed]


@PROPERTY_SETTINGS
@given(backups=backup_sets(), policy=policies, now=nows)
def test_property_partition_and_no_kept_backup_loses_an_ancestor(backups, policy, now):
    p = R.plan_retention(backups, policy, now=now)
    assert sorted(p.kept_ids + p.removed_ids) == sorted(b.id for b in backups)
    by_id = {b.id: b for b in backups}
    kept = set(p.kept_ids)
    for backup_id in kept:
        for ancestor in R.ancestors(by_id[backup_id], by_id):
            assert ancestor.id in kept, f"{backup_id} lost ancestor {ancestor.id}"
    # Every kept usable backup is still usable once the plan is applied.
    after = {b.id: b for b in _remaining(backups, p.removed_ids)}
    for backup in backups:
        if backup.id in kept and backup.complete and R._chain_problem(backup, by_id) is None:
            assert R._chain_problem(backup, after) is None


@PROPERTY_SETTINGS
@given(backups=backup_sets(), policy=policies, now=nows)
def test_property_idempotent(backups, policy, now):
    first = R.plan_retention(backups, policy, now=now)
    second = R.plan_retention(_remaining(backups, first.removed_ids), policy, now=now)
    assert second.removed == []
    assert set(second.kept_ids) == set(first.kept_ids)


@PROPERTY_SETTINGS
@given(backups=backup_sets(), policy=policies, now=nows)
def test_property_newest_complete_survives(backups, policy, now):
    complete = [b for b in backups if b.complete]
    p = R.plan_retention(backups, policy, now=now)
    if complete:
        newest = max(complete, key=lambda b: (b.time, b.id))
        assert newest.id in p.kept_ids
        assert "newest complete backup" in dict(p.kept)[newest.id]


@PROPERTY_SETTINGS
@given(backups=backup_sets(), policy=policies, now=nows)
def test_property_removal_order_children_before_parents(backups, policy, now):
    p = R.plan_retention(backups, policy, now=now)
    order = {backup_id: index for index, backup_id in enumerate(p.removed_ids)}
    by_id = {b.id: b for b in backups}
    looped = {b.id for b in backups if b.complete and "loops" in (R._chain_problem(b, by_id) or "")}
    for backup in backups:
        if backup.id in order and backup.parent in order and backup.kind == "incremental" and backup.id not in looped:
            assert order[backup.id] < order[backup.parent]
    # Stopping after any prefix of the removal order leaves every still-present usable backup usable.
    usable = {b.id for b in backups if b.complete and R._chain_problem(b, by_id) is None}
    for stop in range(len(p.removed_ids) + 1):
        present = {b.id: b for b in _remaining(backups, p.removed_ids[:stop])}
        for backup_id in usable & set(present):
            assert R._chain_problem(present[backup_id], present) is None


def _oracle_keep(starts, policy, now):
    """restic's documented rules, written independently: for fulls only, newest first."""
    ordered = sorted(starts, reverse=True)
    keep = set()
    periods = {
        "keep_last": lambda t: t,
        "keep_hourly": lambda t: t.strftime("%Y%m%d%H"),
        "keep_daily": lambda t: t.strftime("%Y%m%d"),
        "keep_weekly": lambda t: t.isocalendar()[:2],
        "keep_monthly": lambda t: t.strftime("%Y%m"),
        "keep_yearly": lambda t: t.year,
    }
    for name, period in periods.items():
        n = getattr(policy, name)
        if not n:
            continue
        newest_of = {}
        for t in ordered:
            newest_of.setdefault(period(t), t)
        chosen = sorted(newest_of.values(), reverse=True)[:n]
        keep.update(chosen)
        if len(newest_of) < n:  # counts left after every period: the oldest is kept too
            keep.add(ordered[-1])
    if policy.keep_within is not None:
        past = [t for t in ordered if t < now]
        cutoff = policy.keep_within.before(max(past)) if past else None
        keep.update(t for t in ordered if cutoff is None or t > cutoff)
    if policy.is_empty():
        keep.update(ordered)
    return keep


@PROPERTY_SETTINGS
@given(
    gaps=st.lists(st.integers(min_value=1, max_value=60 * 24 * 40), min_size=1, max_size=30),
    policy=policies,
    now=nows,
)
def test_property_policy_matches_independent_oracle_on_fulls(gaps, policy, now):
    starts = []
    moment = BASE
    for gap in gaps:
        moment += datetime.timedelta(minutes=gap)
        starts.append(moment)
    backups = [R.Backup(id=t.isoformat(), kind="full", parent=None, start=t, status="complete", end=t) for t in starts]
    p = R.plan_retention(backups, policy, now=now)
    expected = {t.isoformat() for t in _oracle_keep(starts, policy, now)} | {max(starts).isoformat()}
    assert set(p.kept_ids) == expected
