"""After test_multihost.py's load and release (pytest runs the files in name order): the release is on
the timeline, the API has per-route series from nginx's access log, and every query of every Grafana
dashboard parses and returns series from the monitoring host's Prometheus (issue 14, items 4-6).
"""

import json
import re
import time
from pathlib import Path
from urllib.parse import quote

from fleet import sh

ROOT = Path(__file__).resolve().parents[3]
DASHBOARDS = sorted((ROOT / "roles/monitoring/files/grafana").glob("*.json"))
DOMAIN = "mvp-multi.test"


def query(expr: str) -> dict:
    """The API's answer (status, data or error) to an instant query on the monitoring host."""
    url = f"http://127.0.0.1:9090/api/v1/query?query={quote(expr)}"
    return json.loads(sh("db", f"curl -sS '{url}'").stdout)


def wait_for_series(expr: str, timeout: float = 90) -> list:
    deadline = time.time() + timeout
    while True:
        result = query(expr)
        series = result.get("data", {}).get("result", [])
        if series or time.time() > deadline:
            return series
        time.sleep(5)


def dashboard_queries() -> list[tuple[str, str, str]]:
    """(dashboard, panel or annotation, PromQL) of every query, Grafana's variables filled in."""
    found = []
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            found += [(path.stem, panel["title"], t["expr"]) for t in panel["targets"]]
        found += [(path.stem, f"annotation {a['name']}", a["expr"]) for a in board["annotations"]["list"]]
        found += [
            (path.stem, f"variable {v['name']}", v["query"]["query"])
            for v in board["templating"]["list"]
            if v["type"] == "query"
        ]
    return found


def fill(expr: str) -> str:
    """Grafana's variables as an operator's first view has them: every value, 5m windows."""
    expr = expr.replace("$__rate_interval", "5m").replace("$__interval", "1m")
    expr = re.sub(r"\$\{?[a-z_]+\}?", ".+", expr)
    # label_values(metric, label) is Grafana's: the series of the metric stand for it.
    match = re.fullmatch(r"label_values\((.+), *([a-z_]+)\)", expr)
    return f"count by ({match.group(2)}) ({match.group(1)})" if match else expr


def api_burst() -> None:
    """A short burst of API requests through the proxy: a health route and an unknown one (404)."""
    sh(
        "proxy",
        f"for i in $(seq 1 60); do curl -ks -o /dev/null --resolve {DOMAIN}:443:127.0.0.1 https://{DOMAIN}/api/health; "
        f"curl -ks -o /dev/null --resolve {DOMAIN}:443:127.0.0.1 https://{DOMAIN}/api/orders/$i; done",
    )


def test_api_requests_show_per_route_latency_and_error_series():
    api_burst()
    for expr in (
        'mvp_http_requests_total{route="/api/health",status="200"}',
        'mvp_http_requests_total{route="/api/orders/:id"}',
        'mvp:http_upstream_duration_seconds:p95{route="/api/health"} >= 0',
        'mvp:http_errors:ratio_rate5m{route="/api/health"}',
        # The backend's own view (its metrics listener on both app hosts).
        'mvp_backend_http_requests_total{route="/api/health",status="200"}',
        'mvp:backend_request_duration_seconds:p95{route="/api/health"} >= 0',
        'mvp:backend_errors:ratio_rate5m{route="/api/health"} == 0',
    ):
        series = wait_for_series(expr)
        assert series, expr
        print(f"\n{expr}: {[(s['metric'].get('route'), s['value'][1]) for s in series]}")


def test_the_release_is_on_the_timeline():
    series = wait_for_series("mvp_release_end_timestamp_seconds")
    by_host = {s["metric"]["host"]: s["metric"] for s in series}
    assert set(by_host) == {"mvp-mh-app1", "mvp-mh-app2"}, series
    for labels in by_host.values():
        assert labels["action"] == "deploy" and labels["result"] == "success", labels
        assert labels["colour"] in ("blue", "green") and labels["version"] and labels["actor"], labels
    duration = query("mvp_release_end_timestamp_seconds - mvp_release_start_timestamp_seconds")["data"]["result"]
    assert duration and all(float(s["value"][1]) > 0 for s in duration), duration
    live = {s["metric"]["host"]: s["metric"]["version"] for s in query("mvp_release_live_info")["data"]["result"]}
    assert live == {h: by_host[h]["version"] for h in by_host}, live


def test_every_dashboard_query_parses_and_returns_series():
    # Rates over 5m windows need requests in the last minutes, whatever ran before this test.
    api_burst()
    queries = dashboard_queries()
    assert len(DASHBOARDS) == 4 and len(queries) >= 30, (DASHBOARDS, len(queries))
    empty, failed = [], []
    for board, title, expr in queries:
        result = query(fill(expr))
        if result.get("status") != "success":
            failed.append((board, title, expr, result.get("error")))
        elif not result["data"]["result"]:
            empty.append((board, title, expr))
    # Series that need time to appear (rates over 5m windows, the annotation's changes()) get it.
    if empty:
        time.sleep(30)
        empty = [(b, t, e) for b, t, e in empty if not query(fill(e))["data"]["result"]]
    print(f"\nDASHBOARD QUERIES: {len(queries)} run, {len(failed)} failed to parse, {len(empty)} without series")
    assert not failed, json.dumps(failed, indent=1)
    assert not empty, json.dumps(empty, indent=1)
