# Copyright (c) mvp_platform.infra contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Value rules as Jinja tests (documented in the YAML file of each test beside this one).

Every test is a thin wrapper over plugins/module_utils/_validate.py, the one place a rule is
written, so roles and playbooks share it: ``when: name is mvp_platform.infra.docker_name``.
"""

from __future__ import annotations

from ansible_collections.mvp_platform.infra.plugins.module_utils import _validate

_TESTS = (
    "abs_path",
    "backup_id",
    "cidr",
    "compose_project",
    "dns_name",
    "docker_name",
    "duration",
    "email",
    "host_port",
    "http_url",
    "image_ref",
    "image_tag",
    "ip_address",
    "linux_user",
    "loopback_address",
    "placeholder_secret",
    "port",
    "postgres_url",
    "private_address",
    "safe_dir",
    "size",
    "sql_identifier",
    "url_path",
    "weak_secret",
)


class TestModule:
    """The collection's value rules."""

    def tests(self):
        return {name: getattr(_validate, name) for name in _TESTS}
