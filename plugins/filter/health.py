# Copyright (c) mvp_platform.infra contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""health_checks, health_report and health_failures (documented beside this file), over _health_report.py."""

from __future__ import annotations

from ansible_collections.mvp_platform.infra.plugins.module_utils._health_report import (
    failing_checks,
    internal_checks,
    report_lines,
)


class FilterModule:
    """What healthcheck.yml probes and reports."""

    def filters(self):
        return {"health_checks": internal_checks, "health_report": report_lines, "health_failures": failing_checks}
