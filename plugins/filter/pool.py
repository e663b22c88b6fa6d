# Copyright (c) mvp_platform.infra contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pool_members, pool_entries and pool_files (documented beside this file), over module_utils/_pool.py."""

from __future__ import annotations

from ansible_collections.mvp_platform.infra.plugins.module_utils._pool import pool_entries, pool_files, pool_members


class FilterModule:
    """The nginx upstream pool."""

    def filters(self):
        return {"pool_members": pool_members, "pool_entries": pool_entries, "pool_files": pool_files}
