# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Address-in-network checks for the lockout guards (standard library only, no Ansible imports).

The hardening role's preflight asks whether the address the control node connects from is inside
an SSH allowlist, or inside a blocked range, before it writes a firewall that could cut it off.
"""

from __future__ import annotations

import ipaddress


def address_in_networks(address: str, networks: list[str]) -> bool:
    """True when address (IPv4 or IPv6, an IPv4-mapped IPv6 counts as IPv4) lies in any network.

    Networks of the other family never match. Host bits in a network are ignored
    (``10.81.0.5/24`` means ``10.81.0.0/24``). Raises ValueError on a malformed address or network.
    """
    ip = ipaddress.ip_address(str(address).strip())
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for network in networks:
        net = ipaddress.ip_network(str(network).strip(), strict=False)
        if net.version == ip.version and ip in net:
            return True
    return False
