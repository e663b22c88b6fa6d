# Copyright (c) mvp_platform.infra contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""os_vars_files (documented beside this file), over module_utils/_os_vars.py."""

from __future__ import annotations

from ansible_collections.mvp_platform.infra.plugins.module_utils._os_vars import os_vars_files


class FilterModule:
    """The OS-specific vars files of a role."""

    def filters(self):
        return {"os_vars_files": os_vars_files}
