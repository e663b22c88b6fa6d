# Copyright (c) mvp_platform.infra contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""database_url and database_url_params (documented beside this file), over module_utils/_database_url.py."""

from __future__ import annotations

from ansible_collections.mvp_platform.infra.plugins.module_utils._database_url import database_url, with_params


def _database_url(host, user, password, database, *, port=5432, params=()):
    return database_url(user, password, host, database, port=port, params=params)


class FilterModule:
    """PostgreSQL connection URLs."""

    def filters(self):
        return {"database_url": _database_url, "database_url_params": with_params}
