# Copyright (c) mvp_platform.infra contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""retained_releases and prunable_images (documented beside this file), over module_utils/_releases.py."""

from __future__ import annotations

from ansible_collections.mvp_platform.infra.plugins.module_utils._releases import prunable_images, retained_releases


class FilterModule:
    """What a host keeps of its releases."""

    def filters(self):
        return {"retained_releases": retained_releases, "prunable_images": prunable_images}
