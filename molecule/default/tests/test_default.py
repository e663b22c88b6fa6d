"""Full-stack checks of the default scenario, run by testinfra inside the test host."""

import pytest

testinfra_hosts = ["all"]


def test_systemd_is_pid1_and_running(host):
    assert host.run("cat /proc/1/comm").stdout.strip() == "systemd"
    state = host.run("systemctl is-system-running").stdout.strip()
    assert state in {"running", "degraded"}, state
    failed = host.run("systemctl --failed --no-legend --plain").stdout.strip()
    assert failed == "", f"failed units: {failed}"


@pytest.mark.parametrize("group", ["app", "proxy", "db", "monitoring"])
def test_host_is_in_every_group_of_a_single_host_environment(host, group):
    assert host.backend.get_hostname() in host.ansible.get_variables()["groups"][group]


def test_check_diff_on_converged_host_changes_nothing(check_diff_run):
    assert check_diff_run["rc"] == 0, check_diff_run["output"]
    assert check_diff_run["recap"], check_diff_run["output"]
    assert not check_diff_run["changed"], check_diff_run["output"]
