# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Syntax check of an auditctl rules file without loading it (standard library only).

Loading rules (``auditctl -R``, ``augenrules --load``) changes the kernel's audit state for the
whole machine, so tests and test containers must not do it. This checker follows auditctl's
command-line grammar for the rule forms the hardening role writes and the common control lines:

* control: ``-D``, ``-b N``, ``-f 0|1|2``, ``-e 0|1|2``, ``-r N``, ``--backlog_wait_time N``,
  ``-i``, ``-c``, ``--loginuid-immutable``;
* watches: ``-w /path -p [rwxa]+ [-k key]...``;
* syscall rules: ``-a|-A list,action`` (either order) with ``-F field op value``, ``-S names``,
  ``-C``, ``-k key``; ``arch=`` must come before ``-S`` (auditctl needs it to resolve names) and
  a syscall rule on the ``exit`` list needs ``-S`` or a path/dir field.

``check_rules(text, syscalls=None)`` returns a list of ``"line N: problem"`` strings (empty when
valid). ``syscalls``, when given, is the set of syscall names the host knows (``ausyscall --dump``).
Run as a script: ``python3 _audit_rules.py FILE [SYSCALL_DUMP_FILE]`` exits 1 on any problem.
"""

from __future__ import annotations

import re
import shlex
import sys

LISTS = {"task", "exit", "user", "exclude", "filesystem", "io_uring"}
ACTIONS = {"never", "always"}
FIELDS = {
    "a0", "a1", "a2", "a3", "arch", "auid", "loginuid", "devmajor", "devminor", "dir", "egid", "euid",
    "exe", "exit", "fsgid", "fstype", "fsuid", "filetype", "gid", "inode", "key", "msgtype", "obj_uid",
    "obj_gid", "obj_user", "obj_role", "obj_type", "obj_lev_low", "obj_lev_high", "path", "perm", "pers",
    "pid", "ppid", "sessionid", "sgid", "subj_user", "subj_role", "subj_type", "subj_sen", "subj_clr",
    "success", "suid", "uid", "saddr_fam",
}  # fmt: skip
OPERATORS = ("!=", "<=", ">=", "&=", "=", "<", ">", "&")
ID_FIELDS = {"auid", "loginuid", "uid", "euid", "suid", "fsuid", "obj_uid", "gid", "egid", "sgid", "fsgid", "obj_gid"}
KEY_MAX = 256
INT_RE = re.compile(r"^-?[0-9]+$|^0x[0-9a-fA-F]+$")


def _field(expr: str) -> tuple[str, str, str] | None:
    for op in OPERATORS:
        name, sep, value = expr.partition(op)
        if sep and name and value and re.fullmatch(r"[a-z0-9_]+", name):
            return name, op, value
    return None


def _id_ok(op: str, value: str) -> bool:
    return bool(INT_RE.match(value)) or value in ("unset", "-1")


def _path_ok(op: str, value: str) -> bool:
    return op in ("=", "!=") and value.startswith("/")


# field: (rule its value must follow, what the message says)
FIELD_RULES = {
    "arch": (lambda op, value: op in ("=", "!=") and value in ("b32", "b64"), "arch=b32 or arch=b64"),
    "perm": (lambda op, value: bool(re.fullmatch(r"[rwxa]+", value)), "letters of rwxa"),
    "success": (lambda op, value: value in ("0", "1"), "0 or 1"),
    "key": (lambda op, value: len(value) <= KEY_MAX, "at most 256 characters"),
    **{name: (_path_ok, "an absolute path with = or !=") for name in ("path", "dir", "exe")},
    **{name: (_id_ok, "a number or 'unset'") for name in ID_FIELDS},
}


def _check_field(name: str, op: str, value: str) -> str | None:
    if name not in FIELDS:
        return f"unknown field '{name}'"
    rule = FIELD_RULES.get(name)
    if rule and not rule[0](op, value):
        return f"{name} needs {rule[1]}, not '{name}{op}{value}'"
    return None


def _check_syscalls(value: str, syscalls: set[str] | None) -> list[str]:
    return [
        f"unknown syscall '{name}'"
        for name in value.split(",")
        if not (name == "all" or INT_RE.match(name))
        and (not re.fullmatch(r"[a-z0-9_]+", name) or (syscalls is not None and name not in syscalls))
    ]


def _check_syscall_rule(args: list[str], syscalls: set[str] | None) -> list[str]:
    parts = set(args[1].split(",")) if len(args) > 1 else set()
    if len(parts) != 2 or not (parts & LISTS) or not (parts & ACTIONS):
        return [
            f"{args[0]} needs list,action (lists {sorted(LISTS)}, actions never|always), not '{' '.join(args[1:2])}'"
        ]
    problems, seen = [], set()
    for opt, value in zip(args[2::2], [*args[3::2], None]):
        if opt not in ("-F", "-S", "-k", "-C"):
            problems.append(f"unexpected '{opt}' in a syscall rule")
        elif value is None:
            problems.append(f"{opt} without a value")
        elif opt == "-F":
            parsed = _field(value)
            problem = _check_field(*parsed) if parsed else f"-F needs field<op>value, not '{value}'"
            problems += [problem] if problem else []
            seen.add(parsed[0] if parsed else "")
        elif opt == "-S":
            if "arch" not in seen:
                problems.append("-S before -F arch=...: auditctl cannot resolve the syscall names")
            problems += _check_syscalls(value, syscalls)
            seen.add("-S")
        elif opt == "-k" and len(value) > KEY_MAX:
            problems.append("key longer than 256 characters")
    if "exit" in parts and not seen & {"-S", "path", "dir"}:
        problems.append("a rule on the exit list needs -S or a path/dir field")
    return problems


def _check_watch(args: list[str]) -> list[str]:
    problems = []
    if len(args) < 2 or not args[1].startswith("/"):
        return ["-w needs an absolute path"]
    i = 2
    while i < len(args):
        opt, value = args[i], args[i + 1] if i + 1 < len(args) else None
        if value is None:
            problems.append(f"{opt} without a value")
            break
        if opt == "-p":
            if not re.fullmatch(r"[rwxa]+", value):
                problems.append(f"-p takes letters of rwxa, not '{value}'")
        elif opt == "-k":
            if len(value) > KEY_MAX:
                problems.append("key longer than 256 characters")
        else:
            problems.append(f"unexpected '{opt}' in a watch")
        i += 2
    return problems


def _check_control(args: list[str]) -> list[str]:
    opt = args[0]
    if opt in ("-D", "-i", "-c", "--loginuid-immutable") and len(args) == 1:
        return []
    if opt in ("-e", "-f") and len(args) == 2 and args[1] in ("0", "1", "2"):
        return []
    if opt in ("-b", "-r", "--backlog_wait_time") and len(args) == 2 and args[1].isdigit():
        return []
    return [f"invalid control line '{' '.join(args)}'"]


def check_rules(text: str, syscalls: set[str] | None = None) -> list[str]:
    """Problems of an audit rules file, as 'line N: ...' strings; an empty list means valid."""
    problems = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            args = shlex.split(line, comments=False)
        except ValueError as exc:
            problems.append(f"line {number}: {exc}")
            continue
        if args[0] in ("-a", "-A"):
            found = _check_syscall_rule(args, syscalls)
        elif args[0] == "-w":
            found = _check_watch(args)
        else:
            found = _check_control(args)
        problems += [f"line {number}: {problem}" for problem in found]
    return problems


def parse_syscall_dump(text: str) -> set[str]:
    """Syscall names from `ausyscall --dump` ("Using x86_64 syscall table:" then "N<TAB>name")."""
    return {
        parts[1] for parts in (line.split() for line in text.splitlines()) if len(parts) == 2 and parts[0].isdigit()
    }


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        sys.stderr.write("usage: _audit_rules.py RULES_FILE [AUSYSCALL_DUMP_FILE]\n")
        return 2
    with open(argv[1], encoding="utf-8") as handle:
        text = handle.read()
    syscalls = None
    if len(argv) == 3:
        with open(argv[2], encoding="utf-8") as handle:
            syscalls = parse_syscall_dump(handle.read())
    problems = check_rules(text, syscalls)
    for problem in problems:
        sys.stderr.write(problem + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
