# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The role_default lookup, over plugins/module_utils/_role_defaults.py."""

from __future__ import annotations

DOCUMENTATION = r"""
name: role_default
version_added: 0.1.0
author:
  - mvp_platform infrastructure team (@mvp-platform)
short_description: The default of another role's variable, read from that role's defaults file
description:
  - Returns the value each variable in O(_terms) has in the C(defaults/main.yml) of the role of
    this collection that owns it - the role whose name prefixes the variable (C(app_stack_root) is
    the C(app_stack) role's).
  - For a fact that one role owns and others need (the application root, its colour ports, the
    backend's metrics ports) - the owner's file stays the only place the value is written. Use it
    as the fallback of the owner's variable, which the inventory may set for a host or a group (see
    the examples). It reads the collection's own files on the controller, so it works whichever
    hosts and plays ran before.
  - Only literal defaults can be read; a templated default (it depends on the owner's other
    variables) is an error, as is a variable the owner does not define.
options:
  _terms:
    description: The variables, each prefixed with the name of the role that owns it.
    type: list
    elements: str
    required: true
  role:
    description:
      - The role that owns the variables. Default - the role whose name prefixes each variable.
    type: str
"""

EXAMPLES = r"""
- name: The application's root on an app host (its inventory value, else app_stack's default)
  ansible.builtin.debug:
    msg: "{{ hostvars['app1']['app_stack_root'] | default(_app_stack_root) }}"
  vars:
    _app_stack_root: "{{ lookup('mvp_platform.infra.role_default', 'app_stack_root') }}"

- name: Two defaults at once, as a list
  ansible.builtin.debug:
    msg: "{{ query('mvp_platform.infra.role_default', 'app_stack_colour_ports', 'app_stack_backend_metrics_ports') }}"
"""

RETURN = r"""
_raw:
  description: The default of each variable, in the order of O(_terms).
  type: list
  elements: raw
"""

from functools import cache  # noqa: E402
from pathlib import Path  # noqa: E402

import yaml  # noqa: E402
from ansible.errors import AnsibleLookupError  # noqa: E402
from ansible.plugins.lookup import LookupBase  # noqa: E402
from ansible_collections.mvp_platform.infra.plugins.module_utils._role_defaults import (  # noqa: E402
    literal_default,
    owner_of,
)

ROLES = Path(__file__).resolve().parents[2] / "roles"


@cache
def _defaults(role: str, _mtime: float) -> dict:
    return yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text()) or {}


def role_defaults(role: str) -> dict:
    """The parsed defaults/main.yml of a role of this collection (re-read when the file changes)."""
    path = ROLES / role / "defaults" / "main.yml"
    if not path.is_file():
        raise ValueError(f"the collection has no role {role!r} with defaults ({path})")
    return _defaults(role, path.stat().st_mtime)


class LookupModule(LookupBase):
    """The owner's literal default of each variable."""

    def run(self, terms, variables=None, **kwargs):
        role = kwargs.pop("role", None)
        if kwargs:
            raise AnsibleLookupError(f"role_default: unknown options {sorted(kwargs)} (it takes role)")
        roles = sorted(p.name for p in ROLES.iterdir() if (p / "defaults" / "main.yml").is_file())
        values = []
        for term in terms:
            try:
                owner = role or owner_of(str(term), roles)
                values.append(literal_default(role_defaults(owner), str(term), owner))
            except (ValueError, OSError, yaml.YAMLError) as error:
                raise AnsibleLookupError(f"role_default: {error}") from error
        return values
