# Copyright (c) mvp_platform.infra contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""managed_pending, managed_probe, managed_units_pending and managed_units (documented beside this file),
over module_utils/_managed_state.py."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.mvp_platform.infra.plugins.module_utils._managed_state import (
    pending,
    probe_paths,
    unit_names,
    units_pending,
)


def managed_pending(entries, in_sync=(), stage="main"):
    """The entries of one write step still to write (see the sidecar documentation)."""
    try:
        return pending(entries, in_sync, stage)
    except ValueError as exc:
        raise AnsibleFilterError(f"managed_pending: {exc}") from exc


def managed_probe(files, enabled=None):
    """The state probe's view of every enabled entry (see the sidecar documentation)."""
    try:
        return probe_paths(files, enabled)
    except ValueError as exc:
        raise AnsibleFilterError(f"managed_probe: {exc}") from exc


def managed_units_pending(entries, probed=None):
    """The units whose probed state is not the wanted one (see the sidecar documentation)."""
    try:
        return units_pending(entries, probed)
    except ValueError as exc:
        raise AnsibleFilterError(f"managed_units_pending: {exc}") from exc


def managed_units(units, enabled=None):
    """The names of the enabled units, for the state probe (see the sidecar documentation)."""
    try:
        return unit_names(units, enabled)
    except ValueError as exc:
        raise AnsibleFilterError(f"managed_units: {exc}") from exc


class FilterModule:
    """The files, directories and units a role manages, described once."""

    def filters(self):
        return {
            "managed_pending": managed_pending,
            "managed_probe": managed_probe,
            "managed_units_pending": managed_units_pending,
            "managed_units": managed_units,
        }
