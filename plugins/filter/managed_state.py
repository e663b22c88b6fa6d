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


def _named(name, func):
    """func as the filter `name`: a ValueError becomes a template error that names the filter."""

    def run(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ValueError as exc:
            raise AnsibleFilterError(f"{name}: {exc}") from exc

    run.__name__ = name
    return run


# Each filter: the entries of one write step still to write, the state probe's view of every enabled
# entry, the units whose probed state is not the wanted one, the names of the enabled units.
FILTERS = {
    "managed_pending": pending,
    "managed_probe": probe_paths,
    "managed_units_pending": units_pending,
    "managed_units": unit_names,
}


class FilterModule:
    """The files, directories and units a role manages, described once."""

    def filters(self):
        return {name: _named(name, func) for name, func in FILTERS.items()}
