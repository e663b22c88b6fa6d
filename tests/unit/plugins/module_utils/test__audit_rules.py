"""The audit rules checker: the role's rendered rules pass, each kind of mistake is caught.

The kernel's audit state belongs to the whole machine, so rules are never loaded in tests; this
checker (and, on the molecule hosts, the syscall table of `ausyscall --dump`) stands in for
`auditctl -R`.
"""

from pathlib import Path

import pytest
import yaml
from _program import load
from jinja2 import Environment

ROOT = Path(__file__).resolve().parents[4]
A = load("_audit_rules")

DUMP = "Using x86_64 syscall table:\n0\tread\n1\twrite\n59\texecve\n322\texecveat\n"


def render_role_rules(**overrides):
    """The role's audit.rules.j2 with its defaults (plain Jinja: the template uses no Ansible filters)."""
    defaults = yaml.safe_load((ROOT / "roles" / "hardening" / "defaults" / "main.yml").read_text())
    context = {
        "ansible_managed": "Managed by Ansible",
        "hardening_audit_watch_paths": defaults["hardening_audit_watch_paths"],
        "hardening_audit_admin_commands": True,
        "hardening_audit_immutable": True,
        "_hardening_audit_arches": ["b64", "b32"],
        **overrides,
    }
    env = Environment(trim_blocks=True, autoescape=False)  # noqa: S701 - renders a rules file, not HTML
    env.filters["bool"] = bool
    return env.from_string((ROOT / "roles" / "hardening" / "templates" / "audit.rules.j2").read_text()).render(context)


def test_the_roles_rules_are_valid():
    rules = render_role_rules()
    assert "-a always,exit -F arch=b64 -S execve" in rules
    assert A.check_rules(rules, A.parse_syscall_dump(DUMP)) == []


def test_the_roles_rules_without_admin_commands_are_valid():
    assert A.check_rules(render_role_rules(hardening_audit_admin_commands=False, hardening_audit_immutable=False)) == []


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("-w etc/passwd -p wa -k identity", "absolute path"),
        ("-w /etc/passwd -p wz -k identity", "-p takes letters of rwxa"),
        ("-w /etc/passwd -p wa -x identity", "unexpected '-x'"),
        ("-a always,exits -F arch=b64 -S execve", "needs list,action"),
        ("-a sometimes,exit -F arch=b64 -S execve", "needs list,action"),
        ("-a always,exit -S execve -F arch=b64", "-S before -F arch"),
        ("-a always,exit -F arch=b63 -S execve", "arch needs arch=b32 or arch=b64"),
        ("-a always,exit -F arch=b64 -S exceve", "unknown syscall 'exceve'"),
        ("-a always,exit -F arch=b64 -S execve -F auid>=someone", "auid needs a number or 'unset'"),
        ("-a always,exit -F arch=b64 -S execve -F colour=red", "unknown field 'colour'"),
        ("-a always,exit -F arch=b64 -S execve -F euid", "-F needs field<op>value"),
        ("-a always,exit -F arch=b64 -F auid>=1000", "needs -S or a path/dir"),
        ("-a always,exit -F arch=b64 -S execve -k", "-k without a value"),
        ("-e 3", "invalid control line"),
        ("-b many", "invalid control line"),
        ("-w /etc/passwd -p wa -k 'unterminated", "No closing quotation"),
    ],
)
def test_mistakes_are_reported_with_the_line(line, problem):
    problems = A.check_rules("# comment\n\n" + line + "\n", A.parse_syscall_dump(DUMP))
    assert problems and problems[0].startswith("line 3: "), problems
    assert problem in problems[0], problems


@pytest.mark.parametrize(
    "line",
    [
        "-D",
        "-b 8192",
        "-f 1",
        "--backlog_wait_time 60000",
        "--loginuid-immutable",
        "-w /etc/sudoers.d -p wa -k sudoers",
        "-a exit,always -F arch=b32 -S execve,execveat -F euid=0 -F auid!=unset -k admin_exec",
        "-A always,exit -F path=/usr/bin/sudo -F perm=x -F auid>=1000 -k sudo_exec",
        "-a never,exclude -F msgtype=CWD",
    ],
)
def test_valid_lines_pass(line):
    assert A.check_rules(line, A.parse_syscall_dump(DUMP)) == []


def test_script_exit_codes(tmp_path):
    good, bad, dump = tmp_path / "good.rules", tmp_path / "bad.rules", tmp_path / "dump"
    good.write_text(render_role_rules())
    bad.write_text("-w /etc/passwd -p q\n")
    dump.write_text(DUMP)
    assert A.main(["x", str(good), str(dump)]) == 0
    assert A.main(["x", str(bad)]) == 1
    assert A.main(["x"]) == 2
