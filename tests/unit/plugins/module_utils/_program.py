"""Host-side programs loaded from their files, as the hosts run them: standalone, outside the package.

Importing them as ``ansible_collections...module_utils`` would hide an accidental import of a
sibling or of Ansible, which the hosts do not have.
"""

from __future__ import annotations

import grp
import importlib.util
import os
import pwd
from pathlib import Path
from types import ModuleType

MODULE_UTILS = Path(__file__).resolve().parents[4] / "plugins" / "module_utils"
# The user and group running the tests: the owner a test tree's files really have.
ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


def load(name: str) -> ModuleType:
    """plugins/module_utils/<name>.py as a module of its own."""
    spec = importlib.util.spec_from_file_location(name, MODULE_UTILS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
