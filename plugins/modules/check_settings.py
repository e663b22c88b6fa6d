#!/usr/bin/python
# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The work is done by the action plugin of the same name (plugins/action/check_settings.py), on
# the controller; this file holds its documentation.

from __future__ import annotations

DOCUMENTATION = r"""
module: check_settings
short_description: Check a role's settings against its table of formats and ranges, on the controller
version_added: 0.1.0
author:
  - mvp_platform infrastructure team (@mvp-platform)
description:
  - Reads each variable named in O(rules) from the task's variables (templated, as the role sees
    it) and checks it against its rule. Fails with one message that names every variable breaking
    its rule, its value and what it must be, as C(Invalid <role> settings) followed by one C(name=value must be ...)
    per variable, separated by semicolons.
  - A rule is a test name of this collection (for example V(port), V(dns_name), V(safe_dir)) or a
    mapping with C(test), C(args) (the test's keyword arguments), C(min) and C(max) (a number range),
    C(elements) (apply the rule to every item of a list), C(empty_ok) (an empty value means unset) and
    C(hint) (a clearer description for the message); the same rules as the
    P(mvp_platform.infra.rule_errors#filter) filter.
  - A variable named in O(rules) that is not defined, or whose template cannot be resolved, is
    reported by name too.
  - Every role of this collection keeps its table as C(_<role>_rules) in C(vars/main.yml) and runs
    this action as the first check of its preflight, before anything changes.
  - Runs on the controller only; the host is never contacted.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.conn
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  become:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details:
      - The action only reads variables; it runs the same in check mode.
  connection:
    support: none
  delegation:
    support: none
    details: The variables checked are those of the host the task runs for.
  diff_mode:
    support: none
  platform:
    platforms: all
options:
  rules:
    description:
      - The rule of each variable to check, by variable name (a role's C(_<role>_rules)).
    type: dict
    required: true
  role:
    description:
      - The name the failure message gives the settings (C(Invalid <role> settings)).
      - Default - the role the task belongs to; outside a role the message says C(Invalid settings).
    type: str
seealso:
  - plugin: mvp_platform.infra.rule_errors
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Check the formats and ranges of the settings
  mvp_platform.infra.check_settings:
    rules: "{{ _myrole_rules }}"

- name: Check two settings of a playbook
  mvp_platform.infra.check_settings:
    role: backup restore
    rules:
      restore_port: port
      restore_retries: {min: 1, max: 10}
      restore_target: {test: safe_dir, args: {forbidden: [/, /var]}}
"""

RETURN = r"""
errors:
  description: One message per variable that breaks its rule (empty when every value is valid).
  returned: always
  type: list
  elements: str
  sample: ["myrole_port=70000 must be a port number from 1 to 65535"]
msg:
  description: The failure message naming every bad setting, or how many settings were checked.
  returned: always
  type: str
  sample: "Invalid myrole settings: myrole_port=70000 must be a port number from 1 to 65535."
"""
