"""Bad input to the hardening and docker roles stops the play before anything changes.

Each case runs the role on the control node in check mode (ansible-playbook, local connection)
with one bad variable and asserts: a non-zero exit, a message naming the variable, no task
past the preflight checks, and changed=0 in the recap. A control case with the same play and
valid variables passes the preflight (`--tags <role>_preflight`).
"""

import pytest
from _runner import LOCAL_HOST_VARS, local_role_play, run_batch

ADMIN_WITHOUT_KEY = [{"name": "alice"}]
# A valid baseline, which each case spoils with one bad value.
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKV2nwcFhC6kboHxlM33mYmxRDjFo7i910hZtWIY2wi5 alice-example"
BASELINE = {"hardening_admin_users": [{"name": "alice", "ssh_keys": [KEY]}]}

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


FIRST_CHANGE = {"hardening": "Install the hardening packages", "docker": "Create /etc/docker"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Each role's cases in one check-mode run on the control node, one host per case."""
    results = {}
    for role in FIRST_CHANGE:
        results.update(
            run_batch(
                tmp_path_factory.mktemp(role),
                local_role_play(role),
                {case: bad for case, (case_role, bad, _messages) in CASES.items() if case_role == role},
                "--check",
                "--diff",
                prefix=f"mvp-bad-{role}",
                common=BASELINE,
                host_vars=LOCAL_HOST_VARS,
            )
        )
    return results


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_stops_before_any_change(runs, case):
    role, _bad, messages = CASES[case]
    run = runs[case]
    assert run.result is not None, f"{case}: accepted"
    for message in messages:
        assert message in run.output, f"{message!r} not in output:\n{run.output[:4000]}"
    assert not run.stats.get("changed"), run.stats
    # The failure is in the preflight: the first task that could change the host never ran.
    assert not run.ran(FIRST_CHANGE[role]), run.tasks


@pytest.mark.parametrize("role", ["hardening", "docker"])
def test_valid_input_passes_preflight(role, tmp_path):
    good = {"docker_install_source": "distro", "docker_userland_proxy": True} if role == "docker" else {}
    run = run_batch(
        tmp_path,
        local_role_play(role),
        {"valid": good},
        "--check",
        "--diff",
        "--tags",
        f"{role}_preflight",
        prefix=f"mvp-good-{role}",
        common=BASELINE,
        host_vars=LOCAL_HOST_VARS,
    )["valid"]
    assert run.result is None, run.output[:4000]
    assert run.stats.get("ok"), run.stats
    assert not run.stats.get("changed"), run.stats
