"""The nginx pool (plugins/module_utils/_pool.py): how each proxy reaches each app host and on which
colour; the site path and the release path read it from here."""

from __future__ import annotations

import base64
import json

from ansible_collections.mvp_platform.infra.plugins.module_utils._pool import (
    live_colour,
    pool_entries,
    pool_files,
    pool_members,
)
from hypothesis import given
from hypothesis import strategies as st

HOSTVARS = {
    "proxy": {"ansible_host": "10.77.0.10"},
    "app1": {"app_stack_bind_address": "10.77.0.11", "platform_private_address": "10.77.0.111"},
    "app2": {"platform_private_address": "10.77.0.12", "ansible_host": "app2.example"},
    "app3": {"ansible_host": "10.77.0.13"},
    "app4": {},
}
SETTINGS = {
    "colours": ["blue", "green"],
    "active": "",
    "initial": "blue",
    "ports": {"blue": {"frontend": 3100, "backend": 3101}, "green": {"frontend": 3200, "backend": 3201}},
    "max_fails": 3,
    "fail_timeout": "10s",
}


def record(colour):
    return {"item": {"name": "app1"}, "content": base64.b64encode(json.dumps({"colour": colour}).encode()).decode()}


def test_addresses_as_seen_from_a_proxy():
    members = pool_members(["app1", "app2", "app3", "app4"], HOSTVARS, "proxy")
    assert [m["address"] for m in members] == ["10.77.0.11", "10.77.0.12", "10.77.0.13", "app4"]
    assert all(m["host"] == m["name"] for m in members)


def test_a_proxy_that_is_the_app_host_uses_its_bind_address_or_loopback():
    assert pool_members(["app1"], HOSTVARS, "app1")[0]["address"] == "10.77.0.11"
    assert pool_members(["app2"], HOSTVARS, "app2")[0]["address"] == "127.0.0.1"


def test_static_servers_replace_the_inventory():
    assert pool_members(["app1"], HOSTVARS, "proxy", ["192.0.2.5", "192.0.2.6"]) == [
        {"name": "static-1", "address": "192.0.2.5", "host": ""},
        {"name": "static-2", "address": "192.0.2.6", "host": ""},
    ]


def test_colour_from_the_record_else_initial_and_active_wins():
    members = pool_members(["app1", "app2"], HOSTVARS, "proxy")
    entries = pool_entries(members, [record("green"), {"item": {"name": "app2"}, "failed": True}], SETTINGS)
    assert [(e["name"], e["colour"], e["ports"]["frontend"]) for e in entries] == [
        ("app1", "green", 3200),
        ("app2", "blue", 3100),
    ]
    forced = pool_entries(members, [record("green")], {**SETTINGS, "active": "blue"})
    assert {e["colour"] for e in forced} == {"blue"}
    assert entries[0]["state"] == "up" and entries[0]["max_fails"] == 3 and entries[0]["fail_timeout"] == "10s"


def test_broken_records_mean_no_live_colour():
    assert live_colour({"content": "!!!"}) == ""
    assert live_colour({"content": base64.b64encode(b"[1]").decode()}) == ""
    assert live_colour({}) == ""
    members = pool_members(["app1"], HOSTVARS, "proxy")
    assert pool_entries(members, [record("purple")], SETTINGS)[0]["colour"] == "blue"


def test_pool_files():
    entries = [{"name": "app1"}, {"name": "app2"}]
    assert pool_files(entries, ["frontend", "backend"], "/p") == [
        "/p/frontend/app1.conf",
        "/p/backend/app1.conf",
        "/p/frontend/app2.conf",
        "/p/backend/app2.conf",
    ]
    entries = [{"name": "app1", "colour": "green"}, {"name": "app2", "colour": "blue"}]
    assert pool_files(entries, ["backend"], "/p", "/s", "/l") == [
        "/p/backend/app1.conf",
        "/p/backend/app2.conf",
        "/s/app1.conf",
        "/s/app2.conf",
        "/l/app1.green",
    ]


names = st.lists(st.from_regex(r"app[0-9]{1,3}", fullmatch=True), unique=True, max_size=8)


@given(names, st.sampled_from(["", "blue", "green"]))
def test_every_app_host_is_in_the_pool_once_in_inventory_order(hosts, active):
    members = pool_members(hosts, {}, "proxy")
    entries = pool_entries(members, [], {**SETTINGS, "active": active})
    assert [e["name"] for e in entries] == hosts
    assert all(e["colour"] == (active or "blue") for e in entries)
