"""One description of each managed path (plugins/module_utils/_managed_state.py): the write tasks
and the state probe read the same entries, so what the probe calls in place is what a write wrote."""

from __future__ import annotations

import hashlib
import re

import pytest
from _program import ME, MY_GROUP, load
from ansible_collections.mvp_platform.infra.plugins.module_utils._managed_state import (
    normalise,
    pending,
    probe_paths,
    truth,
    unit_names,
    units_pending,
)
from hypothesis import given
from hypothesis import strategies as st

PROBE = load("_state_probe")


FILES = [
    {"path": "/etc/x.d", "state": "directory"},
    {"path": "/etc/x.d/a.conf", "content": "a = 1\n", "notify": "Restart x", "validate": "x -t %s"},
    {"path": "/etc/x.d/b.conf", "content": "b\n", "mode": "0600", "when": False},
    {"path": "/etc/x.d/old.conf", "state": "absent", "notify": ["Reload systemd", "Restart x"]},
    {"path": "/etc/x-early.conf", "content": "early\n", "stage": "before_install"},
]


def test_defaults_are_filled_in():
    assert normalise(FILES[0]) == {
        "path": "/etc/x.d",
        "state": "directory",
        "stage": "main",
        "notify": [],
        "owner": "root",
        "group": "root",
        "mode": "0755",
    }
    assert normalise(FILES[1]) == {
        "path": "/etc/x.d/a.conf",
        "state": "file",
        "stage": "main",
        "notify": ["Restart x"],
        "owner": "root",
        "group": "root",
        "mode": "0644",
        "content": "a = 1\n",
        "validate": "x -t %s",
    }
    # Nothing but the path to remove.
    assert normalise(FILES[3]) == {
        "path": "/etc/x.d/old.conf",
        "state": "absent",
        "stage": "main",
        "notify": ["Reload systemd", "Restart x"],
    }


def test_pending_keeps_the_order_and_skips_what_is_in_place_off_or_of_another_stage():
    assert [e["path"] for e in pending(FILES)] == ["/etc/x.d", "/etc/x.d/a.conf", "/etc/x.d/old.conf"]
    assert [e["path"] for e in pending(FILES, ["/etc/x.d", "/etc/x.d/old.conf"])] == ["/etc/x.d/a.conf"]
    assert [e["path"] for e in pending(FILES, [], "before_install")] == ["/etc/x-early.conf"]
    assert pending([], ["/etc/x.d"]) == []
    assert pending(None) == []


class Lazy(dict):
    """Like Ansible's lazily templated variables: reading a value renders it, and counts the reads."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read = []

    def __getitem__(self, key):
        self.read.append(key)
        return super().__getitem__(key)


def test_an_entry_in_place_has_only_its_path_when_and_stage_read():
    entry = Lazy(path="/etc/x.conf", content="rendered from a template\n", mode="0600", validate="x -t %s")
    assert pending([entry], ["/etc/x.conf"]) == []
    assert "content" not in entry.read
    assert "validate" not in entry.read


def test_probe_paths_of_a_list():
    assert probe_paths(FILES) == [
        {"path": "/etc/x.d", "type": "directory", "owner": "root", "group": "root", "mode": "0755"},
        {
            "path": "/etc/x.d/a.conf",
            "type": "file",
            "owner": "root",
            "group": "root",
            "mode": "0644",
            "sha256": hashlib.sha256(b"a = 1\n").hexdigest(),
        },
        {"path": "/etc/x.d/old.conf", "type": "absent"},
        {
            "path": "/etc/x-early.conf",
            "type": "file",
            "owner": "root",
            "group": "root",
            "mode": "0644",
            "sha256": hashlib.sha256(b"early\n").hexdigest(),
        },
    ]


def test_probe_paths_of_areas_takes_the_enabled_ones_only():
    areas = {"one": FILES[:2], "two": [{"path": "/etc/two.conf", "content": "2\n"}]}
    assert [p["path"] for p in probe_paths(areas, {"one": True, "two": False})] == ["/etc/x.d", "/etc/x.d/a.conf"]
    assert [p["path"] for p in probe_paths(areas, {"one": "false", "two": "yes"})] == ["/etc/two.conf"]


def test_an_area_without_a_toggle_is_an_error():
    with pytest.raises(ValueError, match=re.escape("no toggle given for the area(s) two")):
        probe_paths({"one": [], "two": []}, {"one": True})


def test_a_path_described_twice_is_an_error():
    with pytest.raises(ValueError, match="described twice"):
        probe_paths(
            {"one": [{"path": "/etc/a", "content": ""}], "two": [{"path": "/etc/a", "state": "absent"}]},
            {"one": True, "two": True},
        )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"path": "etc/x"}, "absolute 'path'"),
        ({"path": "/etc/x/"}, "absolute 'path'"),
        ({"path": "/etc//x"}, "absolute 'path'"),
        ({"content": "x"}, "absolute 'path'"),
        ({"path": "/etc/x", "state": "link"}, "'state' of /etc/x must be one of"),
        ({"path": "/etc/x", "content": "x", "mode": 420}, "quoted octal string"),
        ({"path": "/etc/x", "content": "x", "mode": "u=rw"}, "quoted octal string"),
        ({"path": "/etc/x"}, "needs a 'content' string"),
        ({"path": "/etc/x", "content": "x", "when": "maybe"}, "'when' of /etc/x must be true or false"),
        ("/etc/x", "must be a dict"),
    ],
)
def test_bad_entries_are_refused(entry, message):
    with pytest.raises(ValueError, match=message):
        probe_paths([entry])


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), ("yes", True), ("On", True), (1, True), (False, False), ("false", False), ("0", False), (0, False)],
)
def test_truth(value, expected):
    assert truth(value, "x") is expected


@given(content=st.text(), mode=st.sampled_from(["0600", "0640", "0644", "0750"]))
def test_what_a_write_leaves_the_probe_calls_in_sync(tmp_path_factory, content, mode):
    """Write an entry as the role's copy task does, then probe it: in sync; drifted: not."""
    path = tmp_path_factory.mktemp("managed") / "file.conf"
    entry = {"path": str(path), "content": content, "owner": ME, "group": MY_GROUP, "mode": mode}
    item = pending([entry])[0]
    path.write_bytes(item["content"].encode("utf-8"))
    path.chmod(int(item["mode"], 8))
    (want,) = probe_paths([entry])
    assert PROBE.path_in_sync(want)
    path.write_bytes(item["content"].encode("utf-8") + b"#")
    assert not PROBE.path_in_sync(want)


def test_an_absent_entry_is_in_sync_only_while_missing(tmp_path):
    (want,) = probe_paths([{"path": str(tmp_path / "gone.conf"), "state": "absent"}])
    assert PROBE.path_in_sync(want)
    (tmp_path / "gone.conf").write_text("back\n")
    assert not PROBE.path_in_sync(want)


def test_the_probe_reads_neither_validate_nor_notify():
    """They may name what the role learns after the probe (the docker role's dockerd version)."""
    entry = Lazy(path="/etc/x.conf", content="x\n", validate="later %s", notify="Restart x", stage="main")
    probe_paths([entry])
    assert not {"validate", "notify", "stage"} & set(entry.read)


UNITS = [
    {"name": "nftables", "enabled": True, "state": "started"},
    {"name": "systemd-timesyncd", "enabled": True},
    {"name": "dailyaidecheck.timer", "enabled": False, "state": "stopped"},
    {"name": "mvp-aide-check.timer", "enabled": True, "state": "started", "daemon_reload": True},
    {"name": "usbguard", "enabled": True, "state": "", "when": True},
    {"name": "off.service", "enabled": True, "when": False},
]
RUNNING = {"enabled": "enabled", "active": "active"}
OFF = {"enabled": "disabled", "active": "inactive"}


def test_units_unknown_to_the_probe_are_all_pending_with_defaults_filled_in():
    assert units_pending(UNITS, {}) == [
        {"name": "nftables", "daemon_reload": False, "enabled": True, "state": "started"},
        {"name": "systemd-timesyncd", "daemon_reload": False, "enabled": True},
        {"name": "dailyaidecheck.timer", "daemon_reload": False, "enabled": False, "state": "stopped"},
        {"name": "mvp-aide-check.timer", "daemon_reload": True, "enabled": True, "state": "started"},
        # An empty state (a daemon that cannot run here) leaves the state alone.
        {"name": "usbguard", "daemon_reload": False, "enabled": True},
    ]


def test_units_in_their_wanted_state_are_skipped():
    probed = {
        "nftables": RUNNING,
        "systemd-timesyncd": {"enabled": "enabled", "active": "inactive"},
        "dailyaidecheck.timer": OFF,
        "mvp-aide-check.timer": RUNNING,
        "usbguard": {"enabled": "enabled", "active": "inactive"},
    }
    assert units_pending(UNITS, probed) == []


@pytest.mark.parametrize(
    ("name", "probed"),
    [
        ("nftables", {"enabled": "enabled", "active": "failed"}),
        ("nftables", {"enabled": "disabled", "active": "active"}),
        ("systemd-timesyncd", {"enabled": "masked", "active": "inactive"}),
        ("dailyaidecheck.timer", {"enabled": "enabled", "active": "inactive"}),
        ("dailyaidecheck.timer", {"enabled": "disabled", "active": "active"}),
        ("mvp-aide-check.timer", {"enabled": "not-found", "active": "inactive"}),
    ],
)
def test_a_unit_off_its_wanted_state_is_pending(name, probed):
    (entry,) = [u for u in UNITS if u["name"] == name]
    assert [u["name"] for u in units_pending([entry], {name: probed})] == [name]


def test_unit_names_of_the_enabled_areas():
    areas = {"firewall": UNITS[:1], "aide": UNITS[2:4], "other": UNITS[5:]}
    assert unit_names(areas, {"firewall": True, "aide": True, "other": True}) == [
        "nftables",
        "dailyaidecheck.timer",
        "mvp-aide-check.timer",
    ]
    assert unit_names(areas, {"firewall": False, "aide": "yes", "other": True}) == [
        "dailyaidecheck.timer",
        "mvp-aide-check.timer",
    ]
    with pytest.raises(ValueError, match="no toggle given for the area"):
        unit_names(areas, {"firewall": True})
    with pytest.raises(ValueError, match="described twice"):
        unit_names(UNITS[:1] + UNITS[:1])


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": ""}, "needs a 'name'"),
        ({"name": "a b"}, "needs a 'name'"),
        ({"name": "x", "state": "restarted"}, "must be started or stopped"),
        ({"name": "x", "enabled": "maybe"}, "'enabled' of x must be true or false"),
        ("x", "must be a dict"),
    ],
)
def test_bad_units_are_refused(entry, message):
    with pytest.raises(ValueError, match=message):
        units_pending([entry], {})
