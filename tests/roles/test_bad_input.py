"""Bad input to the hardening and docker roles stops the play before anything changes.

Each case runs the role on the control node in check mode (ansible-playbook, local connection)
with one bad variable and asserts: a non-zero exit, a message naming the variable, no task
past the preflight checks, and changed=0 in the recap. A control case with the same playbook
and valid variables passes the preflight (`--tags <role>_preflight`).
"""

import json
from pathlib import Path

import pytest
from _runner import ansible_playbook
from _runner import recap as recap_of

PLAYBOOK = Path(__file__).resolve().parent / "playbooks" / "preflight.yml"
ADMIN_WITHOUT_KEY = [{"name": "alice"}]

CASES = {
    "no admin key while disabling passwords": (
        "hardening",
        {"hardening_admin_users": ADMIN_WITHOUT_KEY},
        ["hardening_ssh_password_authentication is false", "hardening_admin_users"],
    ),
    "invalid SSH allow CIDR": (
        "hardening",
        {"hardening_ssh_allow_cidrs": ["10.0.0.0/33"]},
        ["hardening_ssh_allow_cidrs=['10.0.0.0/33'] must be a list of an IP network", "(not '10.0.0.0/33')"],
    ),
    "invalid source CIDR of an allowed port": (
        "hardening",
        {"hardening_firewall_allowed_ports": [{"port": 443, "sources": ["300.1.2.3"]}]},
        ["Invalid CIDR '300.1.2.3'", "hardening_firewall_allowed_ports"],
    ),
    "SSH port out of range": (
        "hardening",
        {"hardening_ssh_port": 70000},
        ["hardening_ssh_port=70000 must be a port number from 1 to 65535"],
    ),
    "SSH port not a number": (
        "hardening",
        {"hardening_ssh_port": "ssh"},
        ["hardening_ssh_port"],
    ),
    "firewall port zero": (
        "hardening",
        {"hardening_firewall_allowed_ports": [{"port": 0, "proto": "tcp"}]},
        ["Invalid port '0'", "hardening_firewall_allowed_ports"],
    ),
    "unknown docker_install_source": (
        "docker",
        {"docker_install_source": "snap"},
        ["docker_install_source must be one of: docker, distro, got: snap"],
    ),
    "docker address pool not a CIDR": (
        "docker",
        {"docker_install_source": "distro", "docker_default_address_pools": [{"base": "10.300.0.0/16", "size": 24}]},
        ["docker_default_address_pools"],
    ),
}


def run_playbook(role, extra_vars, *args):
    variables = {"role_under_test": role, **extra_vars}
    proc = ansible_playbook(PLAYBOOK, "--check", "--diff", "-e", json.dumps(variables), *args)
    return proc, recap_of(proc.stdout, "localhost")


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_stops_before_any_change(case):
    role, bad_vars, messages = CASES[case]
    proc, recap = run_playbook(role, bad_vars)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    for message in messages:
        assert message in output, f"{message!r} not in output:\n{output[-4000:]}"
    assert recap, output[-4000:]
    assert recap.group(2) == "0", output[-4000:]
    # The failure is in the preflight: the first task that could change the host never ran.
    first_change = {"hardening": "Install the hardening packages", "docker": "Create /etc/docker"}[role]
    assert first_change not in proc.stdout, output[-4000:]


@pytest.mark.parametrize("role", ["hardening", "docker"])
def test_valid_input_passes_preflight(role):
    good = {"docker_install_source": "distro", "docker_userland_proxy": True} if role == "docker" else {}
    proc, recap = run_playbook(role, good, "--tags", f"{role}_preflight")
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert recap
    assert recap.group(2) == "0"
