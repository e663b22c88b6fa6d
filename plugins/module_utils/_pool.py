# Copyright (c) mvp_platform.infra contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nginx upstream pool: which app hosts it holds, how a proxy reaches each, on which colour.

No Ansible imports. The nginx role's site path (upstream.yml) and its release path (member.yml)
both read the pool from here, so a proxy reaches an app host the same way in both.
"""

from __future__ import annotations

import base64
import binascii
import json


def _get(mapping, key, default):
    try:
        value = mapping[key]
    except (KeyError, TypeError):
        return default
    return default if value is None else value


def pool_members(app_hosts, hostvars, viewer, static_servers=()) -> list:
    """[{name, address, host}] of the pool as the proxy ``viewer`` reaches it.

    Static servers (nginx_upstream_servers) replace the inventory's app hosts. The viewer reaches
    itself on its app_stack_bind_address (loopback by default); other app hosts on their
    app_stack_bind_address, else platform_private_address, else ansible_host, else their name.
    """
    if static_servers:
        return [{"name": f"static-{i}", "address": str(a), "host": ""} for i, a in enumerate(static_servers, 1)]
    members = []
    for host in app_hosts or []:
        hv = _get(hostvars, host, {})
        if host == viewer:
            address = _get(hv, "app_stack_bind_address", "127.0.0.1")
        else:
            fallback = _get(hv, "platform_private_address", _get(hv, "ansible_host", host))
            address = _get(hv, "app_stack_bind_address", fallback)
        members.append({"name": host, "address": str(address), "host": host})
    return members


def live_colour(slurp_result) -> str:
    """The colour a host's release record (a slurp result of current.json) says is live, or ''."""
    content = _get(slurp_result, "content", "")
    if not content:
        return ""
    try:
        record = json.loads(base64.b64decode(content))
    except (binascii.Error, ValueError, TypeError):
        return ""
    colour = record.get("colour", "") if isinstance(record, dict) else ""
    return colour if isinstance(colour, str) else ""


def pool_entries(members, records, settings) -> list:
    """Each member with its colour, state and ports, ready for the pool-member template.

    records: slurp results of each member's current.json (``item`` is the member); settings:
    {colours, active, initial, ports, max_fails, fail_timeout}. An explicit active colour wins;
    otherwise a member keeps the colour its record says is live, else the initial colour.
    """
    live = {}
    for result in records or []:
        name = _get(_get(result, "item", {}), "name", None)
        if name is not None:
            live[name] = live_colour(result)
    entries = []
    for member in members:
        colour = settings["active"] or ""
        if not colour:
            recorded = live.get(member["name"], "")
            colour = recorded if recorded in settings["colours"] else settings["initial"]
        entries.append(
            {
                **member,
                "colour": colour,
                "state": "up",
                "ports": settings["ports"][colour],
                "max_fails": settings["max_fails"],
                "fail_timeout": settings["fail_timeout"],
            }
        )
    return entries


def pool_files(entries, services, pool_dir, switch_dir=None, live_dir=None) -> list:
    """The files a proxy should hold for its pool: <pool_dir>/<service>/<member>.conf; with
    switch_dir each member's colour switch <switch_dir>/<member>.conf, with live_dir the marker
    <live_dir>/<member>.green of each member on green. Anything else there is a leftover."""
    files = [f"{pool_dir}/{service}/{entry['name']}.conf" for entry in entries for service in services]
    if switch_dir:
        files += [f"{switch_dir}/{entry['name']}.conf" for entry in entries]
    if live_dir:
        files += [f"{live_dir}/{entry['name']}.green" for entry in entries if entry.get("colour") == "green"]
    return files
