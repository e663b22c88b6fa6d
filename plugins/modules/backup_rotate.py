#!/usr/bin/python
# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: backup_rotate
short_description: Remove old backups by a restic-style retention policy, keeping backup chains usable
version_added: 0.1.0
description:
  - Reads a directory in which every backup is a subdirectory with a JSON metadata file (V(backup.json) by default)
    holding at least C(id), C(kind) (V(full) or V(incremental)), C(parent), C(start), C(end), C(status)
    (V(complete), V(failed) or V(running)) and C(size).
  - Keeps the backups selected by the O(keep_last), O(keep_hourly), O(keep_daily), O(keep_weekly), O(keep_monthly),
    O(keep_yearly) and O(keep_within) rules, which mean exactly what restic's C(forget --keep-*) options mean; a
    backup is kept when any rule selects it. Without any rule the policy is O(keep_within=7d).
  - Chain-aware. Every backup a kept incremental depends on is kept too, the newest complete backup is never removed,
    failed or running backups older than the newest complete one are removed, and orphaned incrementals (whose parent
    chain does not reach a complete full) are removed because they cannot be restored.
  - Removal goes newest-dependent-first (children before parents), each directory is renamed to a hidden
    C(.<name>.removing) before it is deleted, so an interrupted run leaves only usable chains. Such leftovers are
    deleted by the next run.
  - Directories without valid metadata and symlinks are never touched; they are reported in RV(ignored) and as
    warnings.
  - The logic lives in the C(_retention.py) module utility, which is also a command line tool the scheduled job on the
    host runs (C(python3 _retention.py --dir ... --keep-within 7d)).
author:
  - mvp_platform infrastructure team (@mvp-platform)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - In check mode the module computes the plan and removes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - The diff lists the backup ids before and after the run, oldest first.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
options:
  path:
    description:
      - The directory that holds one subdirectory per backup.
    type: path
    required: true
  metadata_file:
    description:
      - Name of the metadata file inside each backup directory.
    type: str
    default: backup.json
  keep_last:
    description:
      - Keep the O(keep_last) newest backups.
    type: int
  keep_hourly:
    description:
      - For the last O(keep_hourly) hours that have backups, keep the newest backup of each hour.
      - As in restic, if the rule has counts left after the oldest hour, the oldest backup is kept as well.
    type: int
  keep_daily:
    description:
      - For the last O(keep_daily) days that have backups, keep the newest backup of each day (00:00 to 23:59 UTC).
    type: int
  keep_weekly:
    description:
      - For the last O(keep_weekly) ISO weeks (Monday to Sunday) that have backups, keep the newest backup of each.
    type: int
  keep_monthly:
    description:
      - For the last O(keep_monthly) calendar months that have backups, keep the newest backup of each.
    type: int
  keep_yearly:
    description:
      - For the last O(keep_yearly) calendar years that have backups, keep the newest backup of each.
    type: int
  keep_within:
    description:
      - Keep every backup newer than the newest backup's start time minus this duration (not the current time, so a
        host that stopped taking backups keeps its last ones).
      - A duration as restic parses it, numbers with units C(y) (years), C(m) (months), C(d) (days), C(h) (hours),
        for example V(7d), V(36h), V(1m) or V(1y2m3d); C(w) (weeks, 7 days) is accepted as well, for example V(2w).
      - When no C(keep_*) option is given at all, V(7d) is used. When options are given but all are zero, every
        usable backup is kept (as restic refuses an empty policy).
    type: str
notes:
  - Calendar periods are those of the backups' start timestamps, which the metadata records in UTC.
  - Counts must be zero or positive; restic's V(unlimited) is not supported (use a large number).
seealso:
  - name: restic forget
    description: The policy options this module reproduces.
    link: https://restic.readthedocs.io/en/stable/060_forget.html#removing-snapshots-according-to-a-policy
"""

EXAMPLES = r"""
- name: Keep everything from the last 7 days (the default policy)
  mvp_platform.infra.backup_rotate:
    path: /var/backups/mvp/db

- name: Keep 7 daily, 4 weekly and 6 monthly backups and everything from the last 36 hours
  mvp_platform.infra.backup_rotate:
    path: /var/backups/mvp/db
    keep_daily: 7
    keep_weekly: 4
    keep_monthly: 6
    keep_within: 36h
  register: rotation

- name: Show what was removed and why
  ansible.builtin.debug:
    msg: "{{ rotation.removed | map(attribute='id') | list }}"

- name: Preview the plan without removing anything
  mvp_platform.infra.backup_rotate:
    path: /var/backups/mvp/db
    keep_last: 3
  check_mode: true
  diff: true
"""

RETURN = r"""
kept:
  description: The backups kept, newest first, each with every rule or dependency that kept it.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Backup id.
      type: str
      sample: 20260131T020000Z-full
    reasons:
      description: >-
        Why it is kept, for example V(keep_daily), V(keep_within 7d), V(newest complete backup) or
        V(dependency of 20260131T080000Z-incr).
      type: list
      elements: str
      sample: [keep_daily, dependency of 20260131T080000Z-incr]
  sample:
    - id: 20260131T080000Z-incr
      reasons: [keep_within 7d, newest complete backup]
    - id: 20260131T020000Z-full
      reasons: [keep_within 7d, dependency of 20260131T080000Z-incr]
removed:
  description: >-
    The backups removed (in check mode: that would be removed), in removal order (children before parents), each
    with the reason.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Backup id.
      type: str
      sample: 20260120T020000Z-full
    reasons:
      description: Why it is removed.
      type: list
      elements: str
      sample: ["not kept by the policy (keep_within 7d)"]
  sample:
    - id: 20260120T080000Z-incr
      reasons: ["not kept by the policy (keep_within 7d)"]
    - id: 20260119T140000Z-incr
      reasons: ["orphan: parent 20260119T080000Z-incr of 20260119T140000Z-incr is missing"]
ignored:
  description: Entries that are not usable backups and were left alone (no or invalid metadata, symlinks).
  returned: success
  type: list
  elements: dict
  contains:
    path:
      description: The directory.
      type: str
    reason:
      description: Why it was not considered a backup.
      type: str
  sample:
    - path: /var/backups/mvp/db/tmp-upload
      reason: no backup.json
leftovers:
  description: Hidden C(.<name>.removing) directories of an interrupted earlier run, deleted by this run.
  returned: success
  type: list
  elements: str
  sample: [/var/backups/mvp/db/.20260101T020000Z-full.removing]
policy:
  description: The policy applied, as text.
  returned: success
  type: str
  sample: keep_daily 7, keep_within 36h
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.mvp_platform.infra.plugins.module_utils._retention import (  # noqa: E402
    POLICY_OPTIONS,
    Policy,
    RetentionError,
    apply_plan,
    plan_retention,
    scan_directory,
)


def _diff(path, backups, removed_ids):
    ordered = [b.id for b in sorted(backups, key=lambda b: (b.time, b.id))]
    removed = set(removed_ids)
    return {
        "before_header": path,
        "after_header": path,
        "before": "".join(f"{i}\n" for i in ordered),
        "after": "".join(f"{i}\n" for i in ordered if i not in removed),
    }


def argument_spec():
    return {
        "path": {"type": "path", "required": True},
        "metadata_file": {"type": "str", "default": "backup.json"},
        "keep_last": {"type": "int"},
        "keep_hourly": {"type": "int"},
        "keep_daily": {"type": "int"},
        "keep_weekly": {"type": "int"},
        "keep_monthly": {"type": "int"},
        "keep_yearly": {"type": "int"},
        "keep_within": {"type": "str"},
    }


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    path = params["path"]
    error = None
    try:
        policy = Policy.from_options(**{name: params[name] for name in POLICY_OPTIONS})
        inventory = scan_directory(path, params["metadata_file"])
        plan = plan_retention(inventory.backups, policy)
    except RetentionError as exc:
        error = str(exc)
    if error is not None:
        # Outside the except block: an invalid option is not an exception worth a traceback.
        module.fail_json(msg=error)
    plan.ignored = list(inventory.ignored)
    plan.leftovers = list(inventory.leftovers)
    for ignored_path, reason in plan.ignored:
        module.warn(f"ignored {ignored_path}: {reason}")

    result = plan.to_dict()
    result["changed"] = plan.changes
    if module._diff:
        result["diff"] = _diff(path, inventory.backups, plan.removed_ids)
    if plan.changes and not module.check_mode:
        try:
            apply_plan(plan)
        except RetentionError as exc:
            result.pop("diff", None)
            module.fail_json(msg=str(exc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
