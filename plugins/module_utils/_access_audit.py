# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Access audit of one host (SEC-2): who can log in, with which keys and rights, against the inventory.

Standard library only, no Ansible imports, Python 3.9+. access_audit.yml runs this file on each
host as ``python3 -c <file> SPEC_JSON`` (read-only) and prints one JSON object:

``accounts``
    Every login-capable account (a shell that is not nologin/false, or authorised keys): name,
    uid, shell, shadow (password ``set``/``locked``/``none``), key fingerprints, sudo (from ``sudo -l -U``),
    docker group, MFA enrolment (``~/.google_authenticator``) and last login (``lastlog2``/``lastlog``).
``findings``
    What the inventory does not declare: an undeclared login account, an undeclared key of a
    declared account, sudo or docker rights of an account not meant to have them, a declared MFA
    admin without enrolment (only reported when nullok is off), and a usable password.

SPEC: {"declared": {name: {"keys": [public key lines], "sudo": bool, "docker": bool, "mfa": bool,
"password_ok": bool}}, "mfa_enforced": bool, "ignore": [names]}. The comparison,
``compare(spec, accounts)``, is pure; fingerprints are OpenSSH's SHA256 form.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import pwd
import subprocess
import sys

NO_LOGIN_SHELLS = ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false", "")


def _run(argv: list) -> str:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)  # noqa: S603 - fixed read-only queries
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return proc.stdout if proc.returncode == 0 else ""


def fingerprint(key_line: str) -> str | None:
    """OpenSSH's SHA256 fingerprint of a public key line (options before the key type are skipped)."""
    tokens = key_line.split()
    for index, token in enumerate(tokens[:-1]):
        if token.startswith(("ssh-", "ecdsa-", "sk-")):
            try:
                blob = base64.b64decode(tokens[index + 1], validate=True)
            except (ValueError, binascii.Error):
                return None
            return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return None


def key_fingerprints(path: str) -> list:
    """Fingerprints of the keys in an authorized_keys file, sorted (comments and blanks skipped)."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = [line.strip() for line in handle if line.strip() and not line.lstrip().startswith("#")]
    except OSError:
        return []
    return sorted({fp or "unreadable key" for fp in map(fingerprint, lines)})


def password_state(shadow_field: str | None) -> str:
    """'none' (empty: logs in without one), 'locked' (! or *), else 'set'."""
    if shadow_field is None:
        return "locked"
    if shadow_field == "":
        return "none"
    return "locked" if shadow_field[0] in "!*" else "set"


def read_shadow(path: str = "/etc/shadow") -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            return {parts[0]: parts[1] for parts in (line.split(":") for line in handle) if len(parts) > 1}
    except OSError:
        return {}


def sudo_rights(user: str) -> list:
    """The rules `sudo -l -U user` lists (empty when the user may not run sudo)."""
    out = _run(["sudo", "-n", "-l", "-U", user])
    rules, in_rules = [], False
    for line in out.splitlines():
        if line.startswith(f"User {user} may run"):
            in_rules = True
        elif in_rules and line.strip():
            rules.append(line.strip())
    return rules


def last_login(user: str) -> str:
    """The last-login line of lastlog2 (Debian 13) or lastlog (Debian 12), '' when never."""
    for argv in (["lastlog2", "-u", user], ["lastlog", "-u", user]):
        lines = _run(argv).splitlines()
        if len(lines) > 1:
            fields = lines[1].split(None, 1)
            text = fields[1].strip() if len(fields) > 1 else ""
            return "" if "Never logged in" in text else text
    return ""


def group_members(name: str) -> set:
    out = _run(["getent", "group", name]).strip()
    members = set(out.split(":")[3].split(",")) - {""} if out.count(":") >= 3 else set()
    # Primary-group members count too.
    gid = out.split(":")[2] if out.count(":") >= 3 else None
    return members | {entry.pw_name for entry in pwd.getpwall() if gid is not None and str(entry.pw_gid) == gid}


def collect(ignore: list) -> list:
    shadow = read_shadow()
    docker = group_members("docker")
    accounts = []
    for entry in sorted(pwd.getpwall(), key=lambda e: e.pw_uid):
        keys = key_fingerprints(os.path.join(entry.pw_dir, ".ssh", "authorized_keys"))
        if entry.pw_name in ignore or (entry.pw_shell in NO_LOGIN_SHELLS and not keys):
            continue
        accounts.append(
            {
                "name": entry.pw_name,
                "uid": entry.pw_uid,
                "shell": entry.pw_shell,
                "shadow": password_state(shadow.get(entry.pw_name)),
                "keys": keys,
                "sudo": sudo_rights(entry.pw_name),
                "docker": entry.pw_name in docker,
                "mfa_enrolled": os.path.isfile(os.path.join(entry.pw_dir, ".google_authenticator")),
                "last_login": last_login(entry.pw_name),
            }
        )
    return accounts


def compare(spec: dict, accounts: list) -> list:
    """Findings (strings) of what the inventory does not declare; empty when the host matches."""
    declared = spec.get("declared", {})
    findings = []
    for account in accounts:
        name, want = account["name"], declared.get(account["name"])
        if want is None:
            if account["keys"] or account["shadow"] != "locked":
                findings.append(f"{name}: login-capable account not in the inventory")
            if account["sudo"]:
                findings.append(f"{name}: sudo rights not in the inventory ({'; '.join(account['sudo'])})")
            if account["docker"]:
                findings.append(f"{name}: in the docker group but not in the inventory")
            continue
        extra = sorted(set(account["keys"]) - {fingerprint(key) for key in want.get("keys", [])})
        if extra:
            findings.append(f"{name}: authorised key(s) not in the inventory: {', '.join(extra)}")
        if account["sudo"] and not want.get("sudo", False):
            findings.append(f"{name}: has sudo rights the inventory does not give")
        if account["docker"] and not want.get("docker", False):
            findings.append(f"{name}: in the docker group, the inventory does not put it there")
        if account["shadow"] != "locked" and not want.get("password_ok", False):
            findings.append(f"{name}: has a usable password ({account['shadow']}); admins log in with keys")
        if want.get("mfa") and spec.get("mfa_enforced") and not account["mfa_enrolled"]:
            findings.append(f"{name}: mfa: true but not enrolled")
    return findings


def main() -> None:
    spec = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    accounts = collect(spec.get("ignore", []))
    sys.stdout.write(json.dumps({"accounts": accounts, "findings": compare(spec, accounts)}) + "\n")


if __name__ == "__main__":
    main()
