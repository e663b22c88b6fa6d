# Copyright (c) mvp_platform.infra contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What restic's answer to `restic cat config` says about a repository (no Ansible imports).

restic 0.17 and later exit 10 when there is no repository and 12 for a wrong password; older ones
(Debian 12 packages 0.14) exit 1 for both, and only their message tells them apart. Both versions
print the same two messages, so the message decides when the exit code is the generic 1.
"""

from __future__ import annotations

NO_REPOSITORY = "Is there a repository at the following location?"
BAD_KEY_MESSAGE = "wrong password or no key found"


def repository_state(rc, stderr="") -> str:
    """'found', 'absent', 'wrong_password' or 'error' for `restic cat config`'s exit code and stderr."""
    try:
        code = int(rc)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"restic's exit code must be a number, got {rc!r}") from exc
    text = stderr or ""
    if code == 0:
        return "found"
    if code == 10 or (code == 1 and NO_REPOSITORY in text):
        return "absent"
    if code == 12 or (code == 1 and BAD_KEY_MESSAGE in text):
        return "wrong_password"
    return "error"
