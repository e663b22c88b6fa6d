"""One line of nginx's mvp_json access log -> (route, method, status, upstream seconds)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

# Path segments that identify one resource rather than a route: numbers, UUIDs, long hex/base64ish
# tokens. They become ":id" so that /api/orders/42 and /api/orders/43 count as one route.
_ID = re.compile(
    r"^(\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{16,}|[A-Za-z0-9_-]{24,})$"
)
_SAFE = re.compile(r"^[A-Za-z0-9._~:-]+$")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class Request:
    route: str
    method: str
    status: int
    upstream_seconds: float | None


def route_of(uri: str, prefixes: tuple[str, ...], depth: int) -> str:
    """The route label of a request URI: ids replaced, at most `depth` segments, known prefixes only.

    A path outside every prefix counts as "other" (the frontend's pages, scanners' probes), so a
    client cannot create series at will.
    """
    path = uri.split("?", 1)[0].split("#", 1)[0]
    if not any(path == p.rstrip("/") or path.startswith(p.rstrip("/") + "/") for p in prefixes):
        return "other"
    segments = [s for s in path.split("/") if s]
    out = []
    for seg in segments[:depth]:
        if _ID.match(seg):
            out.append(":id")
        elif _SAFE.match(seg):
            out.append(seg)
        else:
            out.append(":other")
    return "/" + "/".join(out)


def upstream_seconds(value: str) -> float | None:
    """nginx's $upstream_response_time: "0.012", "0.010, 0.004" (retries: summed) or "-"."""
    total, seen = 0.0, False
    for raw in re.split(r"[,:]", value or ""):
        part = raw.strip()
        if part and part != "-":
            try:
                total += float(part)
            except ValueError:
                return None
            seen = True
    return total if seen else None


def parse(line: str, prefixes: tuple[str, ...], depth: int) -> Request | None:
    """A request record, or None for a line that is not one of ours."""
    try:
        entry = json.loads(line)
        status = int(entry["status"])
        uri = str(entry["uri"])
    except (ValueError, KeyError, TypeError):
        return None
    method = str(entry.get("method", ""))
    return Request(
        route=route_of(uri, prefixes, depth),
        method=method if method in METHODS else "other",
        status=status,
        upstream_seconds=upstream_seconds(str(entry.get("upstream_response_time", ""))),
    )
