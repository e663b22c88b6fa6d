# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The check_settings action (documented in plugins/modules/check_settings.py).

Runs on the controller only: it reads the variables named by the rules from the task's variables,
checks them with plugins/module_utils/_validate.py and fails with one message naming every bad
setting. It never opens a connection to the host.
"""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible_collections.mvp_platform.infra.plugins.module_utils._validate import (
    normalise_rule,
    rule_errors,
    settings_failure,
)

ARGUMENT_SPEC = {
    "rules": {"type": "dict", "required": True},
    "role": {"type": "str"},
}


class ActionModule(ActionBase):
    """Check a role's settings against its table of formats and ranges, on the controller."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def _role_name(self, role):
        if role:
            return role
        owner = getattr(self._task, "_role", None)
        return owner.get_name(include_role_fqcn=False) if owner is not None else ""

    def _values(self, names, task_vars):
        """{name: templated value} of the defined variables, and {name: why} of the unreadable ones."""
        values, unresolved = {}, {}
        for name in names:
            if name not in task_vars:
                continue
            try:
                values[name] = self._templar.template(task_vars[name])
            except AnsibleError as error:
                unresolved[name] = f"cannot be read: {str(error).splitlines()[0]}"
        return values, unresolved

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        rules = args["rules"]
        for name, rule in rules.items():
            try:
                normalise_rule(rule)
            except (TypeError, ValueError) as error:
                return {**result, "failed": True, "msg": f"Invalid rule for {name}: {error}"}
        values, unresolved = self._values(rules, task_vars)
        errors = rule_errors(values, rules, unresolved=unresolved, strict=True)
        result.update(changed=False, errors=errors)
        message = settings_failure(errors, self._role_name(args["role"]))
        if message:
            result.update(failed=True, msg=message)
        else:
            result["msg"] = f"{len(rules)} settings checked"
        return result
