# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.mvp_platform.infra.plugins.module_utils._netcheck import address_in_networks


def ip_in_networks(address, networks):
    """True when address lies in one of networks (see the sidecar documentation)."""
    if isinstance(networks, str):
        networks = [networks]
    try:
        return address_in_networks(address, list(networks))
    except ValueError as exc:
        raise AnsibleFilterError(f"ip_in_networks: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"ip_in_networks": ip_in_networks}
