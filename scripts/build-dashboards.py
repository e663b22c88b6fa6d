"""Writes roles/monitoring/files/grafana/*.json (the Grafana dashboards): edit the panels here, run
`python3 scripts/build-dashboards.py`, commit both. One place for the queries multihost tests."""

import json
import pathlib

OUT = pathlib.Path(__file__).resolve().parents[1] / "roles/monitoring/files/grafana"
DS = {"type": "prometheus", "uid": "${datasource}"}


def var(name, query, label):
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DS,
        "query": {"query": query, "refId": name},
        "definition": query,
        "refresh": 2,
        "includeAll": True,
        "multi": True,
        "allValue": ".+",
        "current": {"text": "All", "value": "$__all"},
    }


def dsvar():
    return {
        "name": "datasource",
        "label": "Prometheus",
        "type": "datasource",
        "query": "prometheus",
        "current": {},
        "hide": 0,
    }


def panel(pid, title, exprs, x, y, unit="short", kind="timeseries", *, w=12, h=8, legend=None):  # noqa: PLR0917 - a grid position reads best positionally
    targets = []
    for i, e in enumerate(exprs):
        expr, leg = e if isinstance(e, tuple) else (e, legend or "")
        t = {"refId": chr(65 + i), "datasource": DS, "expr": expr, "legendFormat": leg}
        if kind == "table":
            t.update({"instant": True, "format": "table"})
        targets.append(t)
    return {
        "id": pid,
        "type": kind,
        "title": title,
        "datasource": DS,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {},
        "targets": targets,
    }


RELEASES = {
    "name": "Releases",
    "datasource": DS,
    "enable": True,
    "iconColor": "blue",
    "expr": "mvp_release_end_timestamp_seconds * 1000",
    "useValueForTime": True,
    "titleFormat": "{{action}} {{version}} ({{colour}})",
    "textFormat": "{{result}} by {{actor}} on {{host}}",
    "step": "1m",
}


def dashboard(uid, title, panels, variables, tags):
    return {
        "uid": uid,
        "title": title,
        "tags": ["mvp", *tags],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [dsvar(), *variables]},
        "annotations": {"list": [RELEASES]},
        "panels": [dict(p, id=i + 1) for i, p in enumerate(panels)],
        "links": [],
    }


H = 'host=~"$host"'
FS = 'fstype!~"tmpfs|overlay|squashfs|nsfs"'
host = dashboard(
    "mvp-host",
    "MVP - Hosts",
    [
        panel(0, "Targets up", [(f'up{{job="node",{H}}}', "{{host}} ({{group}})")], 0, 0),
        panel(
            0,
            "CPU busy",
            [
                (
                    f'100 * (1 - avg by (host) (rate(node_cpu_seconds_total{{mode="idle",{H}}}[$__rate_interval])))',
                    "{{host}}",
                )
            ],
            12,
            0,
            "percent",
        ),
        panel(
            0,
            "Memory available",
            [(f"100 * node_memory_MemAvailable_bytes{{{H}}} / node_memory_MemTotal_bytes{{{H}}}", "{{host}}")],
            0,
            8,
            "percent",
        ),
        panel(
            0,
            "Disk free",
            [
                (
                    f"100 * node_filesystem_avail_bytes{{{FS},{H}}} / node_filesystem_size_bytes{{{FS},{H}}}",
                    "{{host}} {{mountpoint}}",
                )
            ],
            12,
            8,
            "percent",
        ),
        panel(
            0,
            "Network throughput",
            [
                (f"mvp:node_network_receive_bytes:rate5m{{{H}}}", "{{host}} {{device}} in"),
                (f"-mvp:node_network_transmit_bytes:rate5m{{{H}}}", "{{host}} {{device}} out"),
            ],
            0,
            16,
            "Bps",
        ),
        panel(
            0,
            "Network errors and drops (share of packets)",
            [
                (f"mvp:node_network_errors:ratio5m{{{H}}}", "{{host}} {{device}} errors"),
                (f"mvp:node_network_drops:ratio5m{{{H}}}", "{{host}} {{device}} drops"),
            ],
            12,
            16,
            "percentunit",
        ),
        panel(
            0,
            "TCP retransmitted share of segments",
            [(f"mvp:node_tcp_retransmits:ratio5m{{{H}}}", "{{host}}")],
            0,
            24,
            "percentunit",
        ),
        panel(0, "Conntrack table use", [(f"mvp:node_conntrack:ratio{{{H}}}", "{{host}}")], 12, 24, "percentunit"),
        panel(0, "Containers running", [(f"mvp_container_running{{{H}}}", "{{host}} {{name}}")], 0, 32),
        panel(
            0,
            "Container restarts (1h)",
            [(f"increase(mvp_container_restarts_total{{{H}}}[1h])", "{{host}} {{name}}")],
            12,
            32,
        ),
    ],
    [var("host", 'label_values(up{job="node"}, host)', "Host")],
    ["host"],
)

D = 'datname=~"$datname"'
database = dashboard(
    "mvp-database",
    "MVP - Database",
    [
        panel(0, "PostgreSQL up", [("pg_up", "{{instance}}")], 0, 0),
        panel(0, "Cache hit ratio", [(f"mvp:pg_cache_hit_ratio:rate5m{{{D}}}", "{{datname}}")], 12, 0, "percentunit"),
        panel(0, "Transactions per second", [(f"mvp:pg_transactions:rate5m{{{D}}}", "{{datname}}")], 0, 8, "ops"),
        panel(
            0,
            "Rows per second",
            [
                (f"mvp:pg_rows_read:rate5m{{{D}}}", "{{datname}} read"),
                (f"mvp:pg_rows_written:rate5m{{{D}}}", "{{datname}} written"),
            ],
            12,
            8,
            "rps",
        ),
        panel(
            0,
            "Connections (share of max_connections)",
            [
                ("mvp:pg_connections:ratio", "{{instance}}"),
                (f"sum by (state) (pg_stat_activity_count{{{D}}})", "{{state}}"),
            ],
            0,
            16,
        ),
        panel(
            0,
            "Longest transaction by state",
            [(f"max by (state) (pg_stat_activity_max_tx_duration{{{D}}})", "{{state}}")],
            12,
            16,
            "s",
        ),
        panel(0, "Locks by mode", [(f"sum by (mode) (pg_locks_count{{{D}}})", "{{mode}}")], 0, 24),
        panel(0, "Deadlocks (10m)", [(f"increase(pg_stat_database_deadlocks{{{D}}}[10m])", "{{datname}}")], 12, 24),
        panel(
            0,
            "Database size and growth per day",
            [
                (f"pg_database_size_bytes{{{D}}}", "{{datname}}"),
                (f"mvp:pg_database_size_bytes:delta1d{{{D}}}", "{{datname}} growth/day"),
            ],
            0,
            32,
            "bytes",
        ),
        panel(
            0,
            "Slowest statements by total time (top 10)",
            [(f"topk(10, mvp:pg_statement_seconds:rate5m{{{D}}})", "{{queryid}}")],
            12,
            32,
            "s",
            "table",
        ),
        panel(
            0,
            "Slowest statements by mean time (top 10)",
            [(f"topk(10, mvp:pg_statement_mean_seconds:rate5m{{{D}}})", "{{queryid}}")],
            0,
            40,
            "s",
            "table",
        ),
    ],
    [var("datname", "label_values(pg_database_size_bytes, datname)", "Database")],
    ["database"],
)

R = 'route=~"$route"'
api = dashboard(
    "mvp-api",
    "MVP - API",
    [
        panel(0, "Requests per second by route", [(f"mvp:http_requests:rate5m{{{R}}}", "{{route}}")], 0, 0, "reqps"),
        panel(
            0,
            "Error ratio (5xx) by route",
            [(f"mvp:http_errors:ratio_rate5m{{{R}}}", "{{route}}")],
            12,
            0,
            "percentunit",
        ),
        panel(
            0,
            "Upstream latency p50 / p95 / p99 by route",
            [
                (f"mvp:http_upstream_duration_seconds:p50{{{R}}}", "{{route}} p50"),
                (f"mvp:http_upstream_duration_seconds:p95{{{R}}}", "{{route}} p95"),
                (f"mvp:http_upstream_duration_seconds:p99{{{R}}}", "{{route}} p99"),
            ],
            0,
            8,
            "s",
            w=24,
        ),
        panel(
            0,
            "Requests by status",
            [(f"sum by (status) (rate(mvp_http_requests_total{{{R}}}[$__rate_interval]))", "{{status}}")],
            0,
            16,
            "reqps",
        ),
        panel(
            0,
            "SLO: errors and slow requests (1h)",
            [("mvp:api_errors:ratio_rate1h", "5xx share"), ("mvp:api_slow:ratio_rate1h", "slow share")],
            12,
            16,
            "percentunit",
        ),
        panel(
            0, "Probe latency through nginx", [('probe_duration_seconds{job="blackbox"}', "{{endpoint}}")], 0, 24, "s"
        ),
        panel(0, "Firing alerts", [('count(ALERTS{alertstate="firing"}) or vector(0)', "firing")], 12, 24),
        # The backend's own view (its metrics listener): time spent in the application, per route.
        panel(
            0,
            "Backend: requests per second and 5xx share by route",
            [
                (f"mvp:backend_requests:rate5m{{{R}}}", "{{route}}"),
                (f"mvp:backend_errors:ratio_rate5m{{{R}}}", "{{route}} 5xx share"),
            ],
            0,
            32,
            "reqps",
        ),
        panel(
            0,
            "Backend: latency p50 / p95 / p99 by route",
            [
                (f"mvp:backend_request_duration_seconds:p50{{{R}}}", "{{route}} p50"),
                (f"mvp:backend_request_duration_seconds:p95{{{R}}}", "{{route}} p95"),
                (f"mvp:backend_request_duration_seconds:p99{{{R}}}", "{{route}} p99"),
            ],
            12,
            32,
            "s",
        ),
        panel(
            0, "Backend targets up (per host and colour)", [('up{job="backend"}', "{{host}} {{colour}}")], 0, 40, w=24
        ),
    ],
    [var("route", "label_values(mvp_http_requests_total, route)", "Route")],
    ["api"],
)

releases = dashboard(
    "mvp-releases",
    "MVP - Releases",
    [
        panel(
            0,
            "Release events (last per host)",
            [("mvp_release_end_timestamp_seconds * 1000", "")],
            0,
            0,
            "dateTimeAsIso",
            "table",
            w=24,
        ),
        panel(
            0,
            "Release duration",
            [("mvp_release_end_timestamp_seconds - mvp_release_start_timestamp_seconds", "{{host}} {{version}}")],
            0,
            8,
            "s",
        ),
        panel(0, "Live release per host", [("mvp_release_live_info", "{{host}} {{version}} ({{colour}})")], 12, 8),
        panel(
            0,
            "API error ratio around releases",
            [("mvp:api_errors:ratio_rate5m", "5xx share")],
            0,
            16,
            "percentunit",
            w=24,
        ),
    ],
    [],
    ["releases"],
)

for name, d in [("host", host), ("database", database), ("api", api), ("releases", releases)]:
    (OUT / f"mvp-{name}.json").write_text(json.dumps(d, indent=2) + "\n")
