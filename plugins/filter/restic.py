# Copyright (c) mvp_platform.infra contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""restic_repository_state (documented beside this file), over module_utils/_restic.py."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.mvp_platform.infra.plugins.module_utils._restic import repository_state


def restic_repository_state(result):
    """The state of the repository from a registered `restic cat config` result."""
    if not isinstance(result, dict):
        raise AnsibleFilterError(
            f"restic_repository_state: expects a registered command result, got {type(result).__name__}"
        )
    try:
        return repository_state(result.get("rc", 0), result.get("stderr", ""))
    except ValueError as exc:
        raise AnsibleFilterError(f"restic_repository_state: {exc}") from exc


class FilterModule:
    """restic's answers."""

    def filters(self):
        return {"restic_repository_state": restic_repository_state}
