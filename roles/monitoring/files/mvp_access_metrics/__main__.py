"""One run: python3 -m mvp_access_metrics --log LOG --state STATE --output FILE [--prefix /api ...]."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

from . import logline, tailer
from .aggregate import DEFAULT_BUCKETS, Totals


def write_atomically(path: str, text: str) -> None:
    # Same directory, then rename: node_exporter never reads half a file.
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".mvp_http.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mvp_access_metrics", description=__doc__)
    parser.add_argument("--log", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--prefix", action="append", default=[], help="route prefix counted by name (repeat)")
    parser.add_argument("--depth", type=int, default=4, help="path segments kept in a route")
    parser.add_argument("--bucket", action="append", type=float, default=[], help="histogram bound (repeat)")
    args = parser.parse_args(argv)
    buckets = tuple(sorted(args.bucket)) or DEFAULT_BUCKETS
    prefixes = tuple(args.prefix) or ("/api",)
    try:
        with open(args.state, encoding="utf-8") as f:
            saved = json.load(f)
    except (FileNotFoundError, ValueError):
        saved = {}
    totals = Totals.from_dict(saved.get("totals", {}), buckets)
    position = saved.get("position", {})
    for line in tailer.new_lines(args.log, position):
        totals.add(logline.parse(line, prefixes, args.depth))
    write_atomically(args.output, totals.render(time.time()))
    write_atomically(args.state, json.dumps({"position": position, "totals": totals.to_dict()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
