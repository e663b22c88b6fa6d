"""Which OS-specific vars file a role loads (plugins/module_utils/_os_vars.py)."""

from ansible_collections.mvp_platform.infra.plugins.module_utils._os_vars import os_vars_files


def test_most_specific_first_and_debian_last():
    facts = {"distribution": "Ubuntu", "distribution_major_version": "24", "os_family": "Debian"}
    assert os_vars_files(facts, "/r/vars") == ["/r/vars/Ubuntu-24.yml", "/r/vars/Ubuntu.yml", "/r/vars/Debian.yml"]


def test_without_facts_the_baseline():
    assert os_vars_files({}, "/r/vars") == ["/r/vars/Debian.yml"]
    assert os_vars_files(None, "/r/vars") == ["/r/vars/Debian.yml"]
