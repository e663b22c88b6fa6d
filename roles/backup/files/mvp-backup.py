#!/usr/bin/python3
# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""mvp-backup: the launcher of the mvp_backup package installed beside it (with _retention.py)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

from mvp_backup.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
