"""Counters and upstream-latency histograms per route, and their Prometheus exposition text."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from .logline import Request

DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _fmt(value: float) -> str:
    return repr(float(value)) if value != int(value) else str(int(value))


@dataclass
class Totals:
    """Everything counted so far (kept between runs in the state file)."""

    buckets: tuple[float, ...] = DEFAULT_BUCKETS
    requests: dict[str, int] = field(default_factory=dict)  # "route\tmethod\tstatus" -> n
    latency: dict[str, list[float]] = field(default_factory=dict)  # route -> [count per bucket..., +Inf, sum]
    lines: int = 0
    unparsed: int = 0

    def add(self, request: Request | None) -> None:
        self.lines += 1
        if request is None:
            self.unparsed += 1
            return
        key = f"{request.route}\t{request.method}\t{request.status}"
        self.requests[key] = self.requests.get(key, 0) + 1
        if request.upstream_seconds is not None:
            row = self.latency.setdefault(request.route, [0.0] * (len(self.buckets) + 2))
            # Non-cumulative while counting; cumulated when rendered.
            row[bisect.bisect_left(self.buckets, request.upstream_seconds)] += 1
            row[-1] += request.upstream_seconds

    def to_dict(self) -> dict:
        return {
            "buckets": list(self.buckets),
            "requests": self.requests,
            "latency": self.latency,
            "lines": self.lines,
            "unparsed": self.unparsed,
        }

    @classmethod
    def from_dict(cls, data: dict, buckets: tuple[float, ...]) -> Totals:
        """The saved totals, or fresh ones when the buckets changed (a counter reset Prometheus handles)."""
        if tuple(data.get("buckets", ())) != tuple(buckets):
            return cls(buckets=buckets)
        return cls(
            buckets=buckets,
            requests={k: int(v) for k, v in data.get("requests", {}).items()},
            latency={k: [float(x) for x in v] for k, v in data.get("latency", {}).items()},
            lines=int(data.get("lines", 0)),
            unparsed=int(data.get("unparsed", 0)),
        )

    def render(self, now: float) -> str:
        out = [
            "# HELP mvp_http_requests_total Requests nginx logged, by route, method and status.",
            "# TYPE mvp_http_requests_total counter",
        ]
        for key in sorted(self.requests):
            route, method, status = key.split("\t")
            out.append(
                f'mvp_http_requests_total{{route="{_escape(route)}",method="{method}",status="{status}"}} '
                f"{self.requests[key]}"
            )
        out += [
            "# HELP mvp_http_upstream_duration_seconds Upstream response time of proxied requests, by route.",
            "# TYPE mvp_http_upstream_duration_seconds histogram",
        ]
        for route in sorted(self.latency):
            row, label, cumulative = self.latency[route], _escape(route), 0.0
            for bound, n in zip((*self.buckets, float("inf")), row[:-1], strict=True):
                cumulative += n
                le = "+Inf" if bound == float("inf") else _fmt(bound)
                out.append(f'mvp_http_upstream_duration_seconds_bucket{{route="{label}",le="{le}"}} {_fmt(cumulative)}')
            out.append(f'mvp_http_upstream_duration_seconds_sum{{route="{label}"}} {row[-1]:.6f}')
            out.append(f'mvp_http_upstream_duration_seconds_count{{route="{label}"}} {_fmt(cumulative)}')
        out += [
            "# HELP mvp_http_log_lines_total Access log lines read; mvp_http_log_unparsed_total: not ours.",
            "# TYPE mvp_http_log_lines_total counter",
            f"mvp_http_log_lines_total {self.lines}",
            "# TYPE mvp_http_log_unparsed_total counter",
            f"mvp_http_log_unparsed_total {self.unparsed}",
            "# TYPE mvp_http_log_last_run_timestamp_seconds gauge",
            f"mvp_http_log_last_run_timestamp_seconds {now:.3f}",
        ]
        return "\n".join(out) + "\n"
