# Copyright (c) mvp_platform.infra contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One description of each file, directory and unit a role manages, read by its tasks and its state probe.

No Ansible imports. A role lists each managed path once (``_hardening_files`` keyed by area,
``_docker_files``) as a dict:

    path       absolute path (required)
    state      file (default), directory or absent
    content    the file's whole content (required for a file; a template's is
               ``lookup('ansible.builtin.template', ...)``)
    owner, group   default root
    mode       a quoted octal string; default "0644" for a file, "0755" for a directory
    validate   the write task's validate command (optional)
    notify     a handler name or a list of them (optional)
    when       false leaves the path out of both the writes and the probe (default true)
    stage      which of an area's write steps writes it (default "main"; e.g. "before_install"
               for a unit drop-in that must exist before the package starts the daemon)

``pending`` gives the write tasks the entries of one step that the probe did not find in place;
``probe_paths`` gives the state probe (_state_probe.py, ``paths``) what each enabled entry must
look like. Both read an entry's values only when they need them: the role's variables are
templated lazily, so a template is rendered for an entry that is written or probed, not for one
that is skipped.

Each systemd unit the role enables, starts or stops is listed once too (``_hardening_units``,
``_docker_units``): ``name``; ``enabled`` (true or false; left alone when not given); ``state``
(started or stopped; left alone when not given or empty); ``daemon_reload``; ``when``.
``units_pending`` gives the unit task the entries whose probed state differs (or is unknown);
``unit_names`` gives the probe (``units``) the names of the enabled ones.
"""

from __future__ import annotations

import hashlib
import re

STATES = ("file", "directory", "absent")
DEFAULT_MODES = {"file": "0644", "directory": "0755"}
_MODE = re.compile(r"^[0-7]{3,4}$")
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def truth(value, what: str) -> bool:
    """A yes/no value as a bool (what Ansible's ``bool`` filter accepts); anything else is an error."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{what} must be true or false, not {value!r}")


def _field(entry, key: str, default=None):
    try:
        value = entry[key]
    except KeyError:
        return default
    return default if value is None else value


def _path(entry) -> str:
    if not hasattr(entry, "keys"):
        raise ValueError(f"a managed path must be a dict, not {entry!r}")
    path = _field(entry, "path")
    if not isinstance(path, str) or not path.startswith("/") or path.rstrip("/") != path or "//" in path:
        raise ValueError(f"a managed path needs an absolute 'path' without a trailing slash, not {path!r}")
    return path


def _enabled(entry, path: str) -> bool:
    return truth(_field(entry, "when", True), f"'when' of {path}")


def _described(entry) -> dict:
    """What the host must have: path, state and, unless absent, owner, group, mode (and a file's content)."""
    path = _path(entry)
    state = _field(entry, "state", "file")
    if state not in STATES:
        raise ValueError(f"'state' of {path} must be one of {', '.join(STATES)}, not {state!r}")
    out = {"path": path, "state": state}
    if state == "absent":
        return out
    mode = _field(entry, "mode", DEFAULT_MODES[state])
    if not isinstance(mode, str) or not _MODE.match(mode):
        # An unquoted YAML 0644 arrives as the integer 420: refuse it rather than guess.
        raise ValueError(f"'mode' of {path} must be a quoted octal string such as \"0644\", not {mode!r}")
    out.update(owner=str(_field(entry, "owner", "root")), group=str(_field(entry, "group", "root")), mode=mode)
    if state == "file":
        content = _field(entry, "content")
        if not isinstance(content, str):
            raise ValueError(f"the file {path} needs a 'content' string")
        out["content"] = content
    return out


def normalise(entry) -> dict:
    """The entry with every default filled in, for a write task (notify as a list, stage, validate).

    ``validate`` and ``notify`` are read here only: the probe does not need them, so they may
    refer to what the role learns after the probe (the docker role's dockerd version).
    """
    out = _described(entry)
    out["stage"] = str(_field(entry, "stage", "main"))
    notify = _field(entry, "notify", [])
    out["notify"] = [notify] if isinstance(notify, str) else list(notify)
    validate = _field(entry, "validate")
    if validate is not None and out["state"] == "file":
        out["validate"] = str(validate)
    return out


def pending(entries, in_sync=(), stage: str = "main") -> list:
    """The normalised entries of ``stage`` whose ``when`` holds and whose path is not in ``in_sync``.

    ``in_sync`` is the probe's list of paths already as described. Order is kept: a directory is
    listed before the files in it, and the write tasks write directories first.
    """
    in_sync = set(in_sync or ())
    out = []
    for entry in entries or []:
        path = _path(entry)
        if not _enabled(entry, path) or path in in_sync or str(_field(entry, "stage", "main")) != stage:
            continue
        out.append(normalise(entry))
    return out


def _entries_of(described, enabled, what: str) -> list:
    """A list of entries as it is, or the entries of the enabled areas of a dict of area to entries."""
    if not hasattr(described, "keys"):
        return list(described or [])
    enabled = enabled if enabled is not None else {}
    missing = sorted(set(described) - set(enabled))
    if missing:
        raise ValueError(f"no toggle given for the area(s) {', '.join(missing)} of the {what}")
    return [e for area in described if truth(enabled[area], f"the toggle of {area}") for e in described[area] or []]


def probe_paths(files, enabled=None) -> list:
    """What the state probe compares for every enabled entry: {path, type, owner, group, mode, sha256}.

    ``files`` is a list of entries, or a dict of area to entries; then ``enabled`` maps every area
    to its toggle and only enabled areas count (an area it does not name is an error, so a new
    area cannot be probed or skipped by accident). A path listed twice is an error.
    """
    if hasattr(files, "keys"):
        enabled = enabled if enabled is not None else {}
        missing = sorted(set(files.keys()) - set(enabled.keys()))
        if missing:
            raise ValueError(f"no toggle given for the area(s) {', '.join(missing)}")
        entries = [e for area in files if truth(enabled[area], f"the toggle of {area}") for e in files[area] or []]
    else:
        entries = list(files or [])
    out, seen = [], set()
    for entry in entries:
        path = _path(entry)
        if path in seen:
            raise ValueError(f"{path} is described twice")
        seen.add(path)
        if not _enabled(entry, path):
            continue
        item = _described(entry)
        want = {"path": path, "type": item["state"]}
        if item["state"] != "absent":
            want.update(owner=item["owner"], group=item["group"], mode=item["mode"])
        if item["state"] == "file":
            want["sha256"] = hashlib.sha256(item["content"].encode("utf-8")).hexdigest()
        out.append(want)
    return out


UNIT_STATES = ("started", "stopped")


def _unit_name(entry) -> str:
    if not hasattr(entry, "keys"):
        raise ValueError(f"a managed unit must be a dict, not {entry!r}")
    name = _field(entry, "name")
    if not isinstance(name, str) or not name or "/" in name or " " in name:
        raise ValueError(f"a managed unit needs a 'name', not {name!r}")
    return name


def normalise_unit(entry) -> dict:
    """{name, daemon_reload} and, when wanted, enabled (a bool) and state (started or stopped)."""
    name = _unit_name(entry)
    out = {"name": name, "daemon_reload": truth(_field(entry, "daemon_reload", False), f"'daemon_reload' of {name}")}
    enabled = _field(entry, "enabled")
    if enabled is not None and enabled != "":
        out["enabled"] = truth(enabled, f"'enabled' of {name}")
    state = _field(entry, "state", "")
    if state:
        if state not in UNIT_STATES:
            raise ValueError(f"'state' of {name} must be started or stopped, not {state!r}")
        out["state"] = state
    return out


def unit_in_place(want: dict, probed) -> bool:
    """Whether the probe's answer ({enabled: <is-enabled>, active: <is-active>}) is what ``want`` asks."""
    if not hasattr(probed, "keys"):
        return False
    if "enabled" in want and (_field(probed, "enabled", "") == "enabled") != want["enabled"]:
        return False
    return "state" not in want or (_field(probed, "active", "") == "active") == (want["state"] == "started")


def units_pending(entries, probed=None) -> list:
    """The normalised units whose ``when`` holds and whose probed state is not the wanted one.

    ``probed`` is the probe's ``units`` ({name: {enabled, active}}); a unit it does not name is
    pending (pass an empty dict when its answers cannot be trusted, e.g. while a package that may
    enable a unit is still to be installed).
    """
    probed = probed or {}
    out = []
    for entry in entries or []:
        name = _unit_name(entry)
        if not truth(_field(entry, "when", True), f"'when' of {name}"):
            continue
        want = normalise_unit(entry)
        if name in probed and unit_in_place(want, probed[name]):
            continue
        out.append(want)
    return out


def unit_names(units, enabled=None) -> list:
    """The names of the units whose ``when`` holds (of the enabled areas), for the probe's ``units``."""
    out = []
    for entry in _entries_of(units, enabled, "units"):
        name = _unit_name(entry)
        if name in out:
            raise ValueError(f"the unit {name} is described twice")
        if truth(_field(entry, "when", True), f"'when' of {name}"):
            out.append(name)
    return out
