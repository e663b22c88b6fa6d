# Copyright (c) mvp_platform.infra contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which OS-specific vars file a role loads (no Ansible imports)."""

from __future__ import annotations


def os_vars_files(facts, vars_dir: str) -> list:
    """The OS-specific vars files of a role, most specific first (Debian-13.yml, Debian.yml, ...).

    Without facts (a preflight-only run) the list ends with Debian.yml, the roles' baseline.
    """
    facts = facts if isinstance(facts, dict) else {}
    distribution = facts.get("distribution", "")
    names = []
    if distribution:
        names += [f"{distribution}-{facts.get('distribution_major_version', '')}.yml", f"{distribution}.yml"]
    if facts.get("os_family"):
        names.append(f"{facts['os_family']}.yml")
    names.append("Debian.yml")
    return [f"{vars_dir}/{name}" for name in dict.fromkeys(names)]
