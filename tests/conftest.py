"""Make the working tree importable as the collection (``ansible_collections.mvp_platform.infra``).

`make setup` links the tree under .ansible/collections; the plugins import their module_utils by
that name, as they do when Ansible loads them.
"""

import sys
from pathlib import Path

COLLECTIONS = Path(__file__).resolve().parents[1] / ".ansible" / "collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
