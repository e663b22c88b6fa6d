"""Read-only probe of the state a converged host must already have (mvp_platform.infra).

Run as ``python3 -c <this file> SPEC_JSON`` by one task: one round trip replaces a stat, a
systemctl and a dpkg task per item on the second run. SPEC_JSON keys (all optional):

    paths: [{path, type: file|directory|any|absent, owner, group, mode: "0644", sha256 (files, optional)}]
    authorized_keys: [[user, [public keys]]]
    stats: [paths whose state is compared later, when the wanted content is known]
    units: [unit names]
    packages_present: [names], packages_absent: [names]
    commands: {name: argv}

Prints JSON: ``in_sync`` (the paths whose type, owner, group, mode and content match),
``missing`` (the paths that do not exist), ``units`` ({unit: {enabled: <systemctl is-enabled>,
active: <systemctl is-active>}}), ``packages`` ({present_ok: every package installed, absent_ok:
none installed, not even its configuration files}) and ``commands`` ({name: {rc, stdout, stderr,
stdout_lines, stderr_lines}}, rc 127 when the program is missing; the commands must only read)
``stats`` ({path: "<type> <owner> <group> <mode> <sha256>"}, "" when missing) and
``keys_in_sync`` (the users whose ~/.ssh (0700) and ~/.ssh/authorized_keys (0600, exactly
these keys) they own already).
One file for the hardening and docker roles (they read it through role_path, as the backup role
reads _retention.py), with no Ansible import, so it runs on the host's plain python3.
"""

import grp
import hashlib
import json
import os
import pwd
import stat
import subprocess
import sys


def path_in_sync(want: dict) -> bool:
    try:
        st = os.lstat(want["path"])
    except FileNotFoundError:
        return want["type"] == "absent"
    try:
        owner, group = pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name
    except (OSError, KeyError):
        return False
    kind = "directory" if stat.S_ISDIR(st.st_mode) else "file" if stat.S_ISREG(st.st_mode) else "other"
    same = (kind if want["type"] != "any" else "any", owner, group, stat.S_IMODE(st.st_mode)) == (
        want["type"],
        want.get("owner"),
        want.get("group"),
        int(want.get("mode", "0"), 8),
    )
    if same and kind == "file" and "sha256" in want:
        with open(want["path"], "rb") as handle:
            same = hashlib.sha256(handle.read()).hexdigest() == want["sha256"]
    return same


def systemctl(verb: str, unit: str) -> str:
    proc = subprocess.run(  # noqa: S603 - fixed systemctl query on the role's own unit names
        ["/usr/bin/systemctl", verb, unit], capture_output=True, text=True, check=False
    )
    return proc.stdout.strip()


def package_states(names: list) -> dict:
    if not names:
        return {}
    proc = subprocess.run(  # noqa: S603 - read-only dpkg query on the role's own package names
        ["/usr/bin/dpkg-query", "-W", "-f=${Package}\t${db:Status-Abbrev}\n", *names],
        capture_output=True,
        text=True,
        check=False,
    )
    return dict(line.split("\t", 1) for line in proc.stdout.splitlines() if "\t" in line)


def run(argv: list) -> dict:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603 - the role's own read-only queries
    except OSError as exc:
        proc = subprocess.CompletedProcess(argv, 127, "", str(exc))
    return {
        "rc": proc.returncode,
        "stdout": proc.stdout.rstrip("\n"),
        "stderr": proc.stderr.rstrip("\n"),
        "stdout_lines": proc.stdout.splitlines(),
        "stderr_lines": proc.stderr.splitlines(),
    }


def keys_in_sync(user: str, keys: list) -> bool:
    try:
        home = pwd.getpwnam(user).pw_dir
    except KeyError:
        return False
    content = ("\n".join(keys) + "\n") if keys else ""
    dot_ssh = {"path": home + "/.ssh", "type": "directory", "owner": user, "group": user, "mode": "0700"}
    key_file = {"path": home + "/.ssh/authorized_keys", "type": "file", "owner": user, "group": user, "mode": "0600"}
    key_file["sha256"] = hashlib.sha256(content.encode()).hexdigest()
    return path_in_sync(dot_ssh) and path_in_sync(key_file)


def describe(path: str) -> str:
    try:
        st = os.lstat(path)
        owner, group = pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name
    except (OSError, KeyError):
        return ""
    if not stat.S_ISREG(st.st_mode):
        return "other"
    with open(path, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    return f"file {owner} {group} {stat.S_IMODE(st.st_mode):04o} {digest}"


def main() -> None:
    spec = json.loads(sys.argv[1])
    present, absent = spec.get("packages_present", []), spec.get("packages_absent", [])
    states = package_states(present + absent)
    result = {
        "in_sync": [want["path"] for want in spec.get("paths", []) if path_in_sync(want)],
        "missing": [want["path"] for want in spec.get("paths", []) if not os.path.lexists(want["path"])],
        "units": {
            unit: {"enabled": systemctl("is-enabled", unit), "active": systemctl("is-active", unit)}
            for unit in spec.get("units", [])
        },
        "packages": {
            # dpkg's status: "ii " installed (or "hi " held); absent is unknown to dpkg or "un"/"pn",
            # never "rc" (removed, configuration left: apt's purge would change it).
            "present_ok": all(states.get(name, "").rstrip() in ("ii", "hi") for name in present),
            "absent_ok": all(states.get(name, "un")[1:2] == "n" for name in absent),
        },
        "commands": {name: run(argv) for name, argv in spec.get("commands", {}).items()},
        "stats": {path: describe(path) for path in spec.get("stats", [])},
        "keys_in_sync": [user for user, keys in spec.get("authorized_keys", []) if keys_in_sync(user, keys)],
    }
    sys.stdout.write(json.dumps(result) + "\n")  # a host script, not a module: its output is the result


if __name__ == "__main__":
    main()
