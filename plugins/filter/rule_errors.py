# Copyright (c) mvp_platform.infra contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rule_errors filter (documented in rule_errors.yml), over plugins/module_utils/_validate.py."""

from __future__ import annotations

from ansible_collections.mvp_platform.infra.plugins.module_utils._validate import rule_errors


def _rule_errors(rules, values):
    """rules | rule_errors(values): values by name, or in the order of rules (query('vars', *rules))."""
    if not isinstance(values, dict):
        values = dict(zip(rules, values))
    return rule_errors(values, rules)


class FilterModule:
    """Check settings against a role's table of formats and ranges."""

    def filters(self):
        return {"rule_errors": _rule_errors}
