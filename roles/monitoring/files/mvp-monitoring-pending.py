#!/usr/bin/python3
"""Print the daemons that run with an older configuration than the one on disk (mvp_platform.infra.monitoring).

    mvp-monitoring-pending.py SPEC_JSON

SPEC_JSON: a list of {"unit": NAME, "action": restarted|reloaded, "files": [PATH...],
"reload_metrics": URL or null, "reload_metric": NAME or null}. A unit is pending when one of its
files changed after the unit last started or, for daemons that reload on SIGHUP (reload_metrics),
after their last successful configuration reload. This catches a run that wrote a configuration but
failed before its handlers ran. Prints the pending entries as one JSON list of {unit, action}; reads
only.
"""

import json
import os
import re
import subprocess
import sys
import urllib.request


def started(unit: str) -> float:
    out = subprocess.run(  # noqa: S603 - fixed systemctl call on the role's own unit names
        ["/usr/bin/systemctl", "show", "--property=ActiveEnterTimestamp", "--timestamp=unix", unit],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    m = re.search(r"@(\d+)", out)
    return float(m.group(1)) if m else 0.0


def reloaded(url: str, metric: str) -> float:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - loopback metrics URL
            text = resp.read().decode()
    except OSError:
        return 0.0
    m = re.search(rf"^{re.escape(metric)} (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def main() -> int:
    pending = []
    for item in json.loads(sys.argv[1]):
        loaded = started(item["unit"])
        if item.get("reload_metrics"):
            loaded = max(loaded, reloaded(item["reload_metrics"], item["reload_metric"]))
        newest = max((os.stat(f).st_mtime for f in item["files"] if os.path.exists(f)), default=0.0)
        if loaded and newest > loaded + 1:
            pending.append({"unit": item["unit"], "action": item["action"]})
    print(json.dumps(pending))
    return 0


if __name__ == "__main__":
    sys.exit(main())
