# Copyright (c) mvp_platform.infra contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which releases a host keeps, from its release log (no Ansible imports).

The log (<app_stack_root>/releases.json) is a list of records, oldest first, each with at least
``version`` and ``result``. Rollback targets and image pruning both read "the last N successful
releases" from here, so the two can never disagree.
"""

from __future__ import annotations


def retained_releases(log, keep) -> list:
    """The versions of the last ``keep`` successful releases, newest first, each once."""
    keep = int(keep)
    out = []
    for record in reversed(list(log or []) if keep > 0 else []):
        if not isinstance(record, dict) or record.get("result") != "success":
            continue
        version = str(record.get("version", ""))
        if version and version not in out:
            out.append(version)
        if len(out) >= keep:
            break
    return out


def prunable_images(refs, kept_versions, used) -> list:
    """The image references (repository:tag) no kept release and no container uses."""
    kept = {str(v) for v in kept_versions}
    in_use = set(used or [])
    out = []
    for ref in refs or []:
        tag = ref.rsplit(":", 1)[-1] if ":" in ref.rsplit("/", 1)[-1] else ""
        if tag and tag != "<none>" and tag not in kept and ref not in in_use and ref not in out:
            out.append(ref)
    return out
