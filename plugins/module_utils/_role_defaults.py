# Copyright (c) mvp_platform.infra contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A role's default, read by another role or playbook from its owner (no Ansible imports).

Every variable is prefixed with the name of the role that owns it (tests/harness checks it), so
the owner of ``app_stack_root`` is ``app_stack`` and its value when no inventory sets it is the
one in ``roles/app_stack/defaults/main.yml``. Only literal defaults can be read this way: a
templated one depends on the owner's other variables and is read through the owner's play.
"""

from __future__ import annotations


def owner_of(name: str, roles) -> str:
    """The role whose prefix the variable carries (the longest matching role name)."""
    owners = [role for role in roles if name.startswith(f"{role}_")]
    if not owners:
        raise ValueError(f"no role of this collection owns {name!r} (its name must start with <role>_)")
    return max(owners, key=len)


def _has_template(value) -> bool:
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, dict):
        return any(_has_template(k) or _has_template(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_template(v) for v in value)
    return False


def literal_default(defaults, name: str, role: str):
    """The owner's literal default of name, from its parsed defaults/main.yml."""
    if not isinstance(defaults, dict) or name not in defaults:
        raise ValueError(f"{name} is not a default of the {role} role (roles/{role}/defaults/main.yml)")
    value = defaults[name]
    if _has_template(value):
        raise ValueError(
            f"the {role} role's default of {name} is a template ({value!r}); only literal defaults can be read"
            " from another role"
        )
    return value
