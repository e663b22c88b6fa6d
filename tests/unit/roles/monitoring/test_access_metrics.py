# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of the host program roles/monitoring/files/mvp_access_metrics (nginx JSON access log
-> per-route requests, statuses and upstream latency for node_exporter's textfile collector)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO / "roles" / "monitoring" / "files"))

from mvp_access_metrics import __main__ as cli  # noqa: E402
from mvp_access_metrics import logline, tailer  # noqa: E402
from mvp_access_metrics.aggregate import Totals  # noqa: E402

PREFIXES = ("/api",)


def line(uri: str, status: int = 200, upstream: str = "0.012", method: str = "GET") -> str:
    return json.dumps({"uri": uri, "status": status, "method": method, "upstream_response_time": upstream})


@pytest.mark.parametrize(
    ("uri", "route"),
    [
        ("/api/health", "/api/health"),
        ("/api/orders/42", "/api/orders/:id"),
        ("/api/orders/42/items?page=2", "/api/orders/:id/items"),
        ("/api/users/3f2b1c9e-1d2a-4b3c-8d7e-0123456789ab", "/api/users/:id"),
        ("/api/a/b/c/d/e", "/api/a/b/c"),
        ("/api", "/api"),
        ("/apix/secret", "other"),
        ("/", "other"),
        ("/wp-login.php", "other"),
        ("/api/%3Cscript%3E", "/api/:other"),
    ],
)
def test_route_of(uri: str, route: str) -> None:
    assert logline.route_of(uri, PREFIXES, 4) == route


@given(st.text(max_size=200))
def test_routes_stay_few_and_safe(uri: str) -> None:
    """Whatever a client sends, the route is "other" or /api plus at most 3 safe segments."""
    route = logline.route_of(uri, PREFIXES, 4)
    assert route == "other" or route.startswith("/api")
    assert route.count("/") <= 4
    assert '"' not in route and "\\" not in route and "\n" not in route


@pytest.mark.parametrize(
    ("value", "seconds"), [("0.012", 0.012), ("0.010, 0.004", 0.014), ("-", None), ("", None), ("x", None)]
)
def test_upstream_seconds(value: str, seconds: float | None) -> None:
    got = logline.upstream_seconds(value)
    assert got == pytest.approx(seconds) if seconds is not None else got is None


def test_parse_rejects_lines_that_are_not_ours() -> None:
    assert logline.parse("not json", PREFIXES, 4) is None
    assert logline.parse(json.dumps({"uri": "/"}), PREFIXES, 4) is None
    req = logline.parse(line("/api/x", 502, "-", "BREW"), PREFIXES, 4)
    assert (req.route, req.method, req.status, req.upstream_seconds) == ("/api/x", "other", 502, None)


def test_histogram_is_cumulative_with_count_and_sum() -> None:
    totals = Totals(buckets=(0.1, 1.0))
    for upstream in ("0.05", "0.1", "0.5", "3", "-"):
        totals.add(logline.parse(line("/api/a", upstream=upstream), PREFIXES, 4))
    totals.add(None)
    text = totals.render(1.0)
    assert 'mvp_http_upstream_duration_seconds_bucket{route="/api/a",le="0.1"} 2' in text
    assert 'mvp_http_upstream_duration_seconds_bucket{route="/api/a",le="1"} 3' in text
    assert 'mvp_http_upstream_duration_seconds_bucket{route="/api/a",le="+Inf"} 4' in text
    assert 'mvp_http_upstream_duration_seconds_count{route="/api/a"} 4' in text
    assert 'mvp_http_upstream_duration_seconds_sum{route="/api/a"} 3.650000' in text
    assert 'mvp_http_requests_total{route="/api/a",method="GET",status="200"} 5' in text
    assert "mvp_http_log_lines_total 6" in text and "mvp_http_log_unparsed_total 1" in text


def test_totals_survive_a_round_trip_and_reset_on_new_buckets() -> None:
    totals = Totals(buckets=(0.1,))
    totals.add(logline.parse(line("/api/a"), PREFIXES, 4))
    again = Totals.from_dict(json.loads(json.dumps(totals.to_dict())), (0.1,))
    assert again.render(0) == totals.render(0)
    assert Totals.from_dict(totals.to_dict(), (0.2,)).requests == {}


def test_tailer_follows_appends_partial_lines_and_rotation(tmp_path: Path) -> None:
    log, state = tmp_path / "access.log", {}
    log.write_text("a\nb\npart")
    assert list(tailer.new_lines(str(log), state)) == ["a", "b"]
    with log.open("a") as f:
        f.write("ial\nc\n")
    assert list(tailer.new_lines(str(log), state)) == ["partial", "c"]
    with log.open("a") as f:
        f.write("d\n")
    os.rename(log, tmp_path / "access.log.1")  # logrotate, then nginx reopens a new file
    log.write_text("e\n")
    assert list(tailer.new_lines(str(log), state)) == ["d", "e"]
    log.write_text("")  # truncated in place
    assert list(tailer.new_lines(str(log), state)) == []
    log.write_text("f\n")
    assert list(tailer.new_lines(str(log), state)) == ["f"]


def test_one_run_writes_the_metrics_and_counts_each_line_once(tmp_path: Path) -> None:
    log, state, out = tmp_path / "access.log", tmp_path / "state.json", tmp_path / "mvp_http.prom"
    log.write_text(line("/api/orders/1") + "\n" + line("/api/orders/2", 500) + "\n")
    args = ["--log", str(log), "--state", str(state), "--output", str(out), "--bucket", "0.1"]
    assert cli.main(args) == 0
    assert cli.main(args) == 0
    text = out.read_text()
    assert 'mvp_http_requests_total{route="/api/orders/:id",method="GET",status="200"} 1' in text
    assert 'mvp_http_requests_total{route="/api/orders/:id",method="GET",status="500"} 1' in text
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".mvp_http.")]
