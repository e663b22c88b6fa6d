# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Chain-aware retention of backup directories (restic ``forget --keep-*`` semantics).

Pure Python, standard library only, no Ansible imports, Python 3.9+. The same file is used by
the ``mvp_platform.infra.backup_rotate`` module and, deployed as is, by the scheduled job on
the host::

    python3 _retention.py --dir /var/backups/mvp/db --keep-within 7d [--dry-run] [--json]

Backup directory layout and metadata schema
-------------------------------------------
Each backup is a subdirectory of the backup directory (its name should be the backup id) that
holds a metadata file, ``backup.json`` by default, with one JSON object:

``id`` (string, required)
    Unique within the directory.
``kind`` (``"full"`` or ``"incremental"``, required)
    A full is restorable on its own; an incremental needs its parent chain down to a full.
``parent`` (string or null)
    Id of the backup an incremental was taken against; ignored for a full.
``start`` (ISO 8601 timestamp, required)
    When the backup started; this is the backup's time for every rule below (as restic uses a
    snapshot's start time). Written in UTC (``2026-01-31T02:00:00Z``); an explicit offset is
    accepted, a timestamp without one is read as UTC.
``end`` (ISO 8601 timestamp, or null while running/after a failure)
    Required for a complete backup.
``status`` (``"complete"``, ``"failed"`` or ``"running"``, required)
    Only ``complete`` backups are restore points and parents.
``size`` (integer bytes >= 0, or null unless complete)

Other keys (PostgreSQL version, checksums, ...) are allowed and ignored here. A directory whose
metadata is missing or invalid is never touched; it is reported in ``ignored``. Directories and
files whose names start with ``.`` and symlinks are skipped, except the ``.<name>.removing``
leftovers of an interrupted removal, which are reported in ``leftovers`` and deleted by
``apply_plan``. Two backups with the same id make the scan fail (the chains would be ambiguous).

Policy (the meaning of restic's ``forget --keep-*``)
---------------------------------------------------
The rules are evaluated over the *usable* complete backups (see chains below), newest first:

``keep_last n``
    The n newest backups.
``keep_hourly / keep_daily / keep_weekly / keep_monthly / keep_yearly n``
    For the last n hours/days/ISO weeks (Monday to Sunday)/months/years *that have backups*, the
    newest backup of each. Periods are calendar periods of the timestamp as written (UTC for
    the documented format), not relative to now. As restic (0.17 and later) does, when a rule
    still has counts left after the newest backup of every period, the oldest backup is kept
    too (reason ``keep_daily (oldest)``).
``keep_within duration``
    Every backup strictly newer than the newest backup's time minus the duration. The
    reference is the newest usable complete backup that is not in the future, not the current
    time: a host that stopped taking backups keeps its last week of them. Durations are
    restic's ``1y2m3d4h`` (years, months, days, hours, calendar arithmetic as Go's
    ``AddDate``), plus ``w`` for weeks (7 days, which restic does not accept). Each unit at
    most once, no negative numbers.

A backup is kept when at least one rule matches (rules combine by union). With no rule given,
the default policy is ``keep_within 7d`` (BAK-1). A policy whose rules are all zero keeps every
usable backup (``policy is empty``), as restic refuses to act on an empty policy.

Chains and safety rules (applied whatever the policy)
-----------------------------------------------------
* Every ancestor of a kept backup is kept (``dependency of <id>``), so a kept incremental can
  always be restored.
* The newest complete backup is never removed (``newest complete backup``).
* A failed or running backup never counts as a parent. One that is older than the newest
  complete backup is removed (abandoned); one that is not older is left alone (it may be in
  progress, and the backup job cleans up its own failures), and so are its ancestors.
* An *orphan* is a complete incremental whose chain does not reach a complete full: a parent is
  missing, failed/running, or the chain loops. It cannot be restored, takes part in no rule and
  is removed (``orphan: ...``) -- unless it is the newest complete backup, which is kept anyway
  (with the problem in its reasons), so that the rule above holds without exception.
* Removal goes newest-dependent-first: a backup is removed only after every backup that
  depends on it, so a run interrupted at any point leaves only usable chains. Each removal
  renames the directory to ``.<name>.removing`` (atomic) before deleting it, so a partly deleted
  backup never looks like a backup.

API: ``parse_duration``, ``Policy``, ``Backup``, ``walk_chain``, ``newest_complete``,
``scan_directory``, ``plan_retention``, ``apply_plan``, ``rotate``, ``main`` (the CLI). Errors are
``RetentionError`` with a message naming the option.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

DEFAULT_METADATA_FILE = "backup.json"
DEFAULT_KEEP_WITHIN = "7d"
KINDS = ("full", "incremental")
STATUSES = ("complete", "failed", "running")
COUNT_RULES = ("keep_last", "keep_hourly", "keep_daily", "keep_weekly", "keep_monthly", "keep_yearly")
POLICY_OPTIONS = (*COUNT_RULES, "keep_within")
REMOVING_SUFFIX = ".removing"

UTC = datetime.timezone.utc

_DURATION_PART = re.compile(r"([0-9]{1,7})([ymwdh])")  # at most 9999999 of a unit
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$"
)


class RetentionError(Exception):
    """Invalid policy, unreadable backup directory or failed removal."""


# --------------------------------------------------------------------------------------------
# Durations (restic's internal/restic/duration.go, plus weeks)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Duration:
    years: int = 0
    months: int = 0
    days: int = 0
    hours: int = 0

    def is_zero(self) -> bool:
        return not (self.years or self.months or self.days or self.hours)

    def __str__(self) -> str:
        parts = [(self.years, "y"), (self.months, "m"), (self.days, "d"), (self.hours, "h")]
        return "".join(f"{n}{unit}" for n, unit in parts if n) or "0h"

    def before(self, when: datetime.datetime) -> datetime.datetime | None:
        """``when`` minus this duration, as Go's ``t.AddDate(-y, -m, -d).Add(-h hours)``.

        Go normalises out-of-range days (31 March minus one month is 3 March), and so does this.
        Returns None when the result is before year 1 (everything is then within the duration).
        """
        total_months = (when.year - self.years) * 12 + (when.month - 1) - self.months
        year, month0 = divmod(total_months, 12)
        if year < 1:
            return None
        try:
            first = when.replace(year=year, month=month0 + 1, day=1)
            return first + datetime.timedelta(days=when.day - 1 - self.days, hours=-self.hours)
        except (ValueError, OverflowError):
            return None


def parse_duration(text: Any, option: str = "keep_within") -> Duration:
    """Parse ``1y2m3d4h`` (any subset, in any order, each unit once; ``w`` = 7 days)."""
    if not isinstance(text, str) or not text.strip():
        raise RetentionError(f"{option}: expected a duration such as 7d, 36h, 2w, 1m or 1y2m3d, got {text!r}")
    s = text.strip()
    values = {}
    pos = 0
    for match in _DURATION_PART.finditer(s):
        if match.start() != pos:
            break
        unit = match.group(2)
        if unit in values:
            raise RetentionError(f"{option}: unit {unit!r} appears twice in duration {text!r}")
        values[unit] = int(match.group(1))
        pos = match.end()
    if pos != len(s) or not values:
        raise RetentionError(
            f"{option}: invalid duration {text!r}; use numbers with units y (years), m (months), "
            "w (weeks), d (days), h (hours), e.g. 7d, 36h, 2w, 1m, 1y2m3d"
        )
    return Duration(
        years=values.get("y", 0),
        months=values.get("m", 0),
        days=values.get("d", 0) + 7 * values.get("w", 0),
        hours=values.get("h", 0),
    )


# --------------------------------------------------------------------------------------------
# Policy
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    keep_last: int = 0
    keep_hourly: int = 0
    keep_daily: int = 0
    keep_weekly: int = 0
    keep_monthly: int = 0
    keep_yearly: int = 0
    keep_within: Duration | None = None
    keep_within_text: str = ""

    @classmethod
    def from_options(cls, **options: Any) -> Policy:
        """Build a validated policy from option values (None = not given).

        With every option None (or absent) the default policy ``keep_within 7d`` applies.
        """
        unknown = sorted(set(options) - set(POLICY_OPTIONS))
        if unknown:
            raise RetentionError(f"unknown policy option(s): {', '.join(unknown)}")
        given = {k: v for k, v in options.items() if v is not None}
        if not given:
            given = {"keep_within": DEFAULT_KEEP_WITHIN}
        counts = {}
        for name in COUNT_RULES:
            value = given.get(name, 0)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise RetentionError(f"{name}: expected a non-negative integer, got {value!r}")
            counts[name] = value
        within = None
        within_text = ""
        if "keep_within" in given:
            within_text = str(given["keep_within"]).strip()
            within = parse_duration(given["keep_within"])
            if within.is_zero():
                within = None
        return cls(keep_within=within, keep_within_text=within_text if within else "", **counts)

    def is_empty(self) -> bool:
        return self.keep_within is None and not any(getattr(self, name) for name in COUNT_RULES)

    def describe(self) -> str:
        parts = [f"{name} {getattr(self, name)}" for name in COUNT_RULES if getattr(self, name)]
        if self.keep_within is not None:
            parts.append(f"keep_within {self.keep_within_text}")
        return ", ".join(parts) if parts else "empty (keep everything)"


# --------------------------------------------------------------------------------------------
# Backups and metadata
# --------------------------------------------------------------------------------------------


def parse_timestamp(value: Any) -> datetime.datetime:
    """Parse an ISO 8601 timestamp into an aware datetime (no offset = UTC)."""
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 timestamp string, got {value!r}")
    match = _TIMESTAMP.match(value.strip())
    if not match:
        raise ValueError(f"not an ISO 8601 timestamp: {value!r}")
    year, month, day, hour, minute, second, frac, _zulu, sign, off_h, off_m = match.groups()
    tz = UTC
    if sign:
        offset = datetime.timedelta(hours=int(off_h), minutes=int(off_m))
        tz = datetime.timezone(-offset if sign == "-" else offset)
    micro = int((frac or "0")[:6].ljust(6, "0"))
    return datetime.datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tzinfo=tz
    )


@dataclass(frozen=True)
class Backup:
    id: str
    kind: str
    parent: str | None
    start: datetime.datetime
    status: str
    end: datetime.datetime | None = None
    size: int | None = None
    path: str | None = None

    @property
    def time(self) -> datetime.datetime:
        return self.start

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    @classmethod
    def from_metadata(cls, data: Any, path: str | None = None) -> Backup:
        """Validate one metadata object; raises ValueError naming the bad field."""
        if not isinstance(data, dict):
            raise ValueError("metadata is not a JSON object")
        missing = [k for k in ("id", "kind", "start", "status") if k not in data]
        if missing:
            raise ValueError(f"missing field(s): {', '.join(missing)}")
        backup_id = data["id"]
        if not isinstance(backup_id, str) or not backup_id.strip():
            raise ValueError(f"id: expected a non-empty string, got {backup_id!r}")
        kind = data["kind"]
        if kind not in KINDS:
            raise ValueError(f"kind: expected one of {', '.join(KINDS)}, got {kind!r}")
        status = data["status"]
        if status not in STATUSES:
            raise ValueError(f"status: expected one of {', '.join(STATUSES)}, got {status!r}")
        parent = data.get("parent")
        if parent is not None and (not isinstance(parent, str) or not parent.strip()):
            raise ValueError(f"parent: expected a backup id or null, got {parent!r}")
        if kind == "full":
            parent = None
        try:
            start = parse_timestamp(data["start"])
        except ValueError as exc:
            raise ValueError(f"start: {exc}") from None
        end = data.get("end")
        if end is not None:
            try:
                end = parse_timestamp(end)
            except ValueError as exc:
                raise ValueError(f"end: {exc}") from None
        elif status == "complete":
            raise ValueError("end: required for a complete backup")
        size = data.get("size")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise ValueError(f"size: expected a non-negative integer, got {size!r}")
        return cls(id=backup_id, kind=kind, parent=parent, start=start, status=status, end=end, size=size, path=path)


@dataclass
class Inventory:
    """What ``scan_directory`` found."""

    directory: str
    backups: list = field(default_factory=list)  # list[Backup]
    ignored: list = field(default_factory=list)  # list[(path, reason)]
    leftovers: list = field(default_factory=list)  # list[path] of interrupted removals


def _read_backup(path: str, metadata_file: str) -> tuple:
    """(Backup, None) for a valid backup directory, else (None, reason)."""
    meta_path = os.path.join(path, metadata_file)
    try:
        with open(meta_path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return None, f"no {metadata_file}"
    except (OSError, ValueError) as exc:
        return None, f"unreadable {metadata_file}: {exc}"
    try:
        return Backup.from_metadata(data, path=path), None
    except ValueError as exc:
        return None, f"invalid {metadata_file}: {exc}"


def scan_directory(directory: str, metadata_file: str = DEFAULT_METADATA_FILE) -> Inventory:
    """Read every backup below ``directory``; see the module docstring for the layout."""
    if not metadata_file or os.sep in metadata_file or metadata_file in (".", ".."):
        raise RetentionError(f"metadata_file: expected a plain file name, got {metadata_file!r}")
    if not os.path.isdir(directory):
        raise RetentionError(f"path: {directory} is not a directory")
    inventory = Inventory(directory=directory)
    seen: dict = {}
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        raise RetentionError(f"path: cannot read {directory}: {exc}") from None
    for entry in entries:
        path = os.path.join(directory, entry.name)
        if entry.name.startswith("."):
            if entry.name.endswith(REMOVING_SUFFIX) and entry.is_dir(follow_symlinks=False):
                inventory.leftovers.append(path)
            continue
        if not entry.is_dir():  # follows symlinks: a symlink to a directory is reported below
            continue
        if entry.is_symlink():
            inventory.ignored.append((path, "symlink, not followed"))
            continue
        backup, reason = _read_backup(path, metadata_file)
        if backup is None:
            inventory.ignored.append((path, reason))
            continue
        if backup.id in seen:
            raise RetentionError(
                f"path: backup id {backup.id!r} appears twice ({seen[backup.id]} and {path}); refusing to rotate"
            )
        seen[backup.id] = path
        inventory.backups.append(backup)
    return inventory


# --------------------------------------------------------------------------------------------
# Planning
# --------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """The decision: ``kept`` newest first, ``removed`` in removal order (children first)."""

    policy: str
    kept: list = field(default_factory=list)  # list[(id, [reasons])]
    removed: list = field(default_factory=list)  # list[(id, [reasons])]
    backups: dict = field(default_factory=dict)  # id -> Backup
    ignored: list = field(default_factory=list)  # list[(path, reason)]
    leftovers: list = field(default_factory=list)  # list[path]

    @property
    def kept_ids(self) -> list:
        return [item[0] for item in self.kept]

    @property
    def removed_ids(self) -> list:
        return [item[0] for item in self.removed]

    @property
    def changes(self) -> bool:
        return bool(self.removed or self.leftovers)

    def to_dict(self) -> dict:
        return {
            "policy": self.policy,
            "kept": [{"id": i, "reasons": list(r)} for i, r in self.kept],
            "removed": [{"id": i, "reasons": list(r)} for i, r in self.removed],
            "ignored": [{"path": p, "reason": r} for p, r in self.ignored],
            "leftovers": list(self.leftovers),
        }


def _newest_first(backups):
    return sorted(backups, key=lambda b: (b.time, b.id), reverse=True)


@dataclass(frozen=True)
class ChainBreak:
    """Where a chain stops short of a complete full.

    ``reason``: ``no-parent`` (``at`` is the incremental without one), ``missing``, ``incomplete``
    (``status`` says what it is instead) or ``loop``; for those three ``at`` is the parent and
    ``child`` the backup that names it.
    """

    reason: str
    at: str
    child: str | None = None
    status: str | None = None


def walk_chain(backup: Backup, by_id: dict) -> tuple:
    """(``backup`` and its complete ancestors nearest first, ChainBreak or None).

    The one walk of a chain: retention, the backup job's restore and its off-site catalogue all
    use it. None means the list ends with a full and every parent was complete.
    """
    chain = [backup]
    seen = {backup.id}
    current = backup
    while current.kind == "incremental":
        if current.parent is None:
            return chain, ChainBreak("no-parent", current.id)
        parent = by_id.get(current.parent)
        if parent is None:
            return chain, ChainBreak("missing", current.parent, current.id)
        if not parent.complete:
            return chain, ChainBreak("incomplete", parent.id, current.id, parent.status)
        if parent.id in seen:
            return chain, ChainBreak("loop", parent.id, current.id)
        seen.add(parent.id)
        chain.append(parent)
        current = parent
    return chain, None


def newest_complete(backups) -> Backup | None:
    """The newest complete backup (by time, then id), or None."""
    complete = _newest_first(b for b in backups if b.complete)
    return complete[0] if complete else None


def _chain_problem(backup: Backup, by_id: dict) -> str | None:
    """None if ``backup``'s chain reaches a complete full through complete backups."""
    _chain, brk = walk_chain(backup, by_id)
    if brk is None:
        return None
    if brk.reason == "no-parent":
        return f"incremental {brk.at} has no parent"
    if brk.reason == "loop":
        return f"parent chain of {backup.id} loops at {brk.at}"
    return f"parent {brk.at} of {brk.child} is {brk.status or 'missing'}"


def ancestors(backup: Backup, by_id: dict) -> list:
    """The complete backups ``backup`` depends on, nearest first (stops where the chain breaks)."""
    return walk_chain(backup, by_id)[0][1:]


def _period_keys():
    return {
        "keep_last": lambda t, nr: nr,
        "keep_hourly": lambda t, nr: (t.year, t.month, t.day, t.hour),
        "keep_daily": lambda t, nr: (t.year, t.month, t.day),
        "keep_weekly": lambda t, nr: tuple(t.isocalendar()[:2]),
        "keep_monthly": lambda t, nr: (t.year, t.month),
        "keep_yearly": lambda t, nr: t.year,
    }


def apply_policy(candidates: list, policy: Policy, now: datetime.datetime) -> dict:
    """restic's ``ApplyPolicy`` over ``candidates``: id -> reasons for the ones kept."""
    ordered = _newest_first(candidates)
    reasons: dict = {}
    if not ordered:
        return reasons
    if policy.is_empty():
        return {b.id: ["policy is empty"] for b in ordered}

    past = [b.time for b in ordered if b.time < now]
    latest = max(past) if past else None
    within_cutoff = None
    keep_all_within = False
    if policy.keep_within is not None:
        within_cutoff = policy.keep_within.before(latest) if latest is not None else None
        keep_all_within = within_cutoff is None

    keys = _period_keys()
    buckets = [[name, getattr(policy, name), keys[name], object()] for name in COUNT_RULES if getattr(policy, name)]
    last_index = len(ordered) - 1
    for nr, backup in enumerate(ordered):
        matched = []
        if policy.keep_within is not None and (keep_all_within or backup.time > within_cutoff):
            matched.append(f"keep_within {policy.keep_within_text}")
        for bucket in buckets:
            name, count, key, last = bucket
            if count <= 0:
                continue
            value = key(backup.time, nr)
            if value != last or nr == last_index:
                matched.append(f"{name} (oldest)" if value == last else name)
                bucket[1] = count - 1
                bucket[3] = value
        if matched:
            reasons[backup.id] = matched
    return reasons


def _removal_order(removed_ids: set, backups: list) -> list:
    """Removed ids ordered so that every backup comes after all backups that depend on it."""
    children: dict = {}
    for backup in backups:
        if backup.parent is not None and backup.kind == "incremental":
            children.setdefault(backup.parent, []).append(backup)
    order: list = []
    done: set = set()
    for root in _newest_first(b for b in backups if b.id in removed_ids):
        if root.id in done:
            continue
        # Iterative post-order DFS over removed descendants (no recursion limit on long chains).
        stack = [(root, iter(_newest_first(children.get(root.id, ()))))]
        done.add(root.id)
        while stack:
            node, pending = stack[-1]
            for child in pending:
                if child.id in removed_ids and child.id not in done:
                    done.add(child.id)
                    stack.append((child, iter(_newest_first(children.get(child.id, ())))))
                    break
            else:
                stack.pop()
                order.append(node.id)
    return order


def _index(backups: list) -> dict:
    by_id = {}
    for backup in backups:
        if backup.id in by_id:
            raise RetentionError(f"backup id {backup.id!r} appears twice; refusing to rotate")
        by_id[backup.id] = backup
    return by_id


def _removal_reason(backup: Backup, problem: str | None, policy: Policy) -> str:
    if not backup.complete:
        return f"{backup.status} and older than the newest complete backup"
    if problem:
        return f"orphan: {problem}"
    return f"not kept by the policy ({policy.describe()})"


def plan_retention(backups: list, policy: Policy | None = None, now: datetime.datetime | None = None) -> Plan:
    """Decide which backups to keep and which to remove. Pure: touches nothing.

    ``now`` (default: the current time) only matters for ``keep_within``: backups in the future
    are not used as its reference, as in restic.
    """
    policy = policy if policy is not None else Policy.from_options()
    now = now if now is not None else datetime.datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    by_id = _index(backups)

    complete = _newest_first(b for b in backups if b.complete)
    newest = newest_complete(complete)
    problems = {b.id: _chain_problem(b, by_id) for b in complete}
    candidates = [b for b in complete if problems[b.id] is None]

    kept: dict = {b_id: list(r) for b_id, r in apply_policy(candidates, policy, now).items()}
    if newest is not None:
        reasons = kept.setdefault(newest.id, [])
        reasons.append("newest complete backup")
        if problems[newest.id]:
            reasons.append(f"kept although unusable: {problems[newest.id]}")
    for backup in backups:
        if not backup.complete and (newest is None or backup.time >= newest.time):
            kept.setdefault(backup.id, []).append(
                f"{backup.status} and not older than the newest complete backup (left to the backup job)"
            )

    # Every ancestor of a directly kept backup is kept too.
    for backup in _newest_first([by_id[i] for i in kept]):
        for ancestor in ancestors(backup, by_id):
            kept.setdefault(ancestor.id, []).append(f"dependency of {backup.id}")

    removed = {b.id: [_removal_reason(b, problems.get(b.id), policy)] for b in backups if b.id not in kept}
    return Plan(
        policy=policy.describe(),
        kept=[(b.id, kept[b.id]) for b in _newest_first(by_id[i] for i in kept)],
        removed=[(i, removed[i]) for i in _removal_order(set(removed), backups)],
        backups=by_id,
    )


# --------------------------------------------------------------------------------------------
# Applying
# --------------------------------------------------------------------------------------------


def remove_tree(path: str) -> None:
    """Remove one backup directory: atomic rename to ``.<name>.removing``, then delete it."""
    parent, name = os.path.split(os.path.normpath(path))
    if name.startswith(".") and name.endswith(REMOVING_SUFFIX):
        if os.path.lexists(path):  # a leftover may already be gone (removed again below)
            shutil.rmtree(path)
        return
    hidden = os.path.join(parent, f".{name}{REMOVING_SUFFIX}")
    if os.path.lexists(hidden):
        shutil.rmtree(hidden)
    os.rename(path, hidden)
    shutil.rmtree(hidden)


def apply_plan(plan: Plan, remover: Callable[[str], None] | None = None) -> list:
    """Remove ``plan.removed`` in order (children first), then the leftovers.

    ``remover`` is called with each directory path (default ``remove_tree``); tests inject a
    recorder. Returns the removed ids. On the first failure raises RetentionError naming what
    was already removed; the rest stays (every remaining chain is still usable).
    """
    remover = remover or remove_tree
    done: list = []
    for backup_id, _reasons in plan.removed:
        backup = plan.backups[backup_id]
        target = backup.path if backup.path is not None else backup_id
        try:
            remover(target)
        except Exception as exc:
            raise RetentionError(
                f"removing backup {backup_id} ({target}) failed: {exc}; "
                f"already removed: {', '.join(done) if done else 'nothing'}"
            ) from exc
        done.append(backup_id)
    for path in plan.leftovers:
        try:
            remover(path)
        except Exception as exc:
            raise RetentionError(f"removing leftover {path} failed: {exc}") from exc
    return done


def rotate(
    directory: str,
    policy: Policy | None = None,
    *,
    metadata_file: str = DEFAULT_METADATA_FILE,
    dry_run: bool = False,
    now: datetime.datetime | None = None,
    remover: Callable[[str], None] | None = None,
) -> Plan:
    """Scan ``directory``, plan, and (unless ``dry_run``) apply. Returns the plan."""
    inventory = scan_directory(directory, metadata_file)
    plan = plan_retention(inventory.backups, policy, now)
    plan.ignored = list(inventory.ignored)
    plan.leftovers = list(inventory.leftovers)
    if not dry_run:
        apply_plan(plan, remover)
    return plan


# --------------------------------------------------------------------------------------------
# Command line (the scheduled job on the host)
# --------------------------------------------------------------------------------------------


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="_retention.py",
        description="Apply the chain-aware retention policy to a directory of backups "
        "(restic forget --keep-* semantics). Without any --keep-* option: --keep-within 7d.",
    )
    parser.add_argument("--dir", required=True, help="directory holding one subdirectory per backup")
    parser.add_argument("--metadata-file", default=DEFAULT_METADATA_FILE, help="metadata file name (backup.json)")
    for name in COUNT_RULES:
        period = name.split("_", 1)[1]
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=None, metavar="N", help=f"keep {period}")
    parser.add_argument("--keep-within", default=None, metavar="DURATION", help="e.g. 7d, 36h, 2w, 1m, 1y2m3d")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, remove nothing")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.add_argument("--now", default=None, help=argparse.SUPPRESS)  # tests: fixed current time
    return parser


def _out(text: str = "", stream: Any = None) -> None:
    # sys.stdout.write rather than print(): this file is also an Ansible module_utils.
    (stream or sys.stdout).write(text + "\n")


def main(argv: list | None = None) -> int:
    """CLI entry point; returns the exit status (0 done, 1 error, 2 usage)."""
    args = _build_parser().parse_args(argv)
    prog = "backup-rotate"
    try:
        policy = Policy.from_options(**{name: getattr(args, name) for name in POLICY_OPTIONS})
        now = parse_timestamp(args.now) if args.now else None
        plan = rotate(args.dir, policy, metadata_file=args.metadata_file, dry_run=args.dry_run, now=now)
    except (RetentionError, ValueError) as exc:
        _out(f"{prog}: error: {exc}", sys.stderr)
        return 1
    for path, reason in plan.ignored:
        _out(f"{prog}: warning: ignored {path}: {reason}", sys.stderr)
    if args.json:
        result = plan.to_dict()
        result["dry_run"] = args.dry_run
        _out(json.dumps(result, indent=2))
        return 0
    verb = "would remove" if args.dry_run else "removed"
    _out(f"policy: {plan.policy}")
    for backup_id, reasons in plan.kept:
        _out(f"keep {backup_id}: {'; '.join(reasons)}")
    for backup_id, reasons in plan.removed:
        _out(f"{verb} {backup_id}: {'; '.join(reasons)}")
    for path in plan.leftovers:
        _out(f"{verb} leftover {path}")
    _out(f"{len(plan.kept)} kept, {len(plan.removed)} {verb}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
