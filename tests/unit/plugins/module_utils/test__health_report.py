"""What healthcheck.yml probes and reports (plugins/module_utils/_health_report.py)."""

from ansible_collections.mvp_platform.infra.plugins.module_utils._health_report import (
    failing_checks,
    internal_checks,
    report_lines,
)

SETTINGS = {
    "colour_ports": {"blue": {"frontend": 3100, "backend": 3101}, "green": {"frontend": 3200, "backend": 3201}},
    "postgres_published": True,
    "postgres_port": 5432,
    "listen": "127.0.0.1",
    "ports": {"prometheus": 9090, "alertmanager": 9093, "blackbox_exporter": 9115, "node_exporter": 9100},
}


def test_an_mvp_host_checks_everything_on_the_live_colour():
    roles = {"app": True, "db": True, "monitoring": True, "monitored": True}
    checks = internal_checks(roles, {"colour": "green", "version": "1.4.2"}, SETTINGS)
    assert [c["name"] for c in checks] == [
        "frontend 1.4.2 (green)",
        "backend 1.4.2 (green)",
        "postgresql",
        "prometheus",
        "alertmanager",
        "blackbox_exporter",
        "node_exporter",
    ]
    assert checks[1]["url"] == "http://127.0.0.1:3201/api/health"
    assert checks[2] == {"name": "postgresql", "type": "tcp", "host": "127.0.0.1", "port": 5432}


def test_a_proxy_without_monitoring_checks_nothing():
    assert internal_checks({"app": False, "db": False, "monitoring": False, "monitored": False}, {}, SETTINGS) == []


def test_a_host_without_a_record_is_checked_on_blue():
    checks = internal_checks({"app": True}, {}, SETTINGS)
    assert checks[0]["name"] == "frontend ? (blue)" and checks[0]["url"].endswith(":3100/")


HOSTVARS = {
    "proxy": {
        "healthcheck_public": {
            "checks": [
                {"name": "public site", "ok": True, "status": 200, "latency_ms": 12.4, "cert_days_left": 80},
                {"name": "public API", "ok": False, "status": 502, "latency_ms": None, "error": "status 502"},
            ]
        }
    },
    "db": {"healthcheck_internal": {"checks": [{"name": "postgresql", "ok": True, "status": None, "latency_ms": 1.0}]}},
    "other": {},
}


def test_report_lines_and_failures():
    lines = report_lines(["proxy", "db", "other"], HOSTVARS)
    assert lines[0].split() == ["OK", "proxy", "public", "site", "status=200", "12ms", "cert=80d"]
    assert lines[1].startswith("FAIL proxy") and lines[1].endswith(
        "status=502  - status 502"
    )  # as the Jinja report printed it
    assert lines[2].split() == ["OK", "db", "postgresql", "1ms"]
    assert failing_checks(["proxy", "db", "other"], HOSTVARS) == ["proxy: public API (status 502)"]
