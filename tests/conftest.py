"""Make the working tree importable as the collection (``ansible_collections.mvp_platform.infra``).

`make setup` links the tree under .ansible/collections; the plugins import their module_utils by
that name, as they do when Ansible loads them. Every test imports the shared runner as ``_runner``.
"""

import sys
from pathlib import Path

COLLECTIONS = Path(__file__).resolve().parents[1] / ".ansible" / "collections"
# The tests' one Ansible runner (tests/roles/_runner.py; tests/roles is not a package).
RUNNER = Path(__file__).resolve().parent / "roles"
for path in (COLLECTIONS, RUNNER):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
