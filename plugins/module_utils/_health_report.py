# Copyright (c) mvp_platform.infra contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What healthcheck.yml probes on each host and how it reports (no Ansible imports)."""

from __future__ import annotations

SCOPES = ("healthcheck_public", "healthcheck_internal")
MONITORING_DAEMONS = (("prometheus", "/-/healthy"), ("alertmanager", "/-/healthy"), ("blackbox_exporter", "/-/healthy"))


def internal_checks(roles: dict, live: dict, settings: dict) -> list:
    """The checks of one host for the healthcheck module.

    roles: {app, db, monitoring, monitored} booleans (its groups; monitored: the environment has a
    monitoring host, so every host runs node_exporter); live: the host's release record (colour,
    version); settings: colour_ports, postgres_published, postgres_port, listen, ports (by daemon).
    """
    checks = []
    if roles.get("app"):
        colour, version = live.get("colour", "blue"), live.get("version", "?")
        ports = settings["colour_ports"][colour]
        checks.append(
            {
                "name": f"frontend {version} ({colour})",
                "url": f"http://127.0.0.1:{ports['frontend']}/",
                "status_code": 200,
            }
        )
        checks.append(
            {
                "name": f"backend {version} ({colour})",
                "url": f"http://127.0.0.1:{ports['backend']}/api/health",
                "json_path": "database.status",
                "json_equals": "up",
            }
        )
    if roles.get("db") and settings.get("postgres_published", True):
        checks.append(
            {"name": "postgresql", "type": "tcp", "host": "127.0.0.1", "port": int(settings["postgres_port"])}
        )
    listen = settings["listen"]
    if roles.get("monitoring"):
        for daemon, path in MONITORING_DAEMONS:
            checks.append({"name": daemon, "url": f"http://{listen}:{settings['ports'][daemon]}{path}"})
    if roles.get("monitored"):
        checks.append(
            {
                "name": "node_exporter",
                "body_regex": "node_exporter_build_info",
                "url": f"http://{listen}:{settings['ports']['node_exporter']}/metrics",
            }
        )
    return checks


def _results(hosts, hostvars):
    for host in hosts:
        for scope in SCOPES:
            try:
                checks = hostvars[host][scope].get("checks", [])
            except (KeyError, TypeError, AttributeError):
                checks = []
            for check in checks or []:
                yield host, check


def report_lines(hosts, hostvars) -> list:
    """One line per check of every host: OK/FAIL, host, check, status, latency, certificate days, error."""
    lines = []
    for host, check in _results(hosts, hostvars):
        status = f"status={check['status']} " if check.get("status") is not None else ""
        latency = f"{round(check['latency_ms'])}ms" if check.get("latency_ms") is not None else ""
        cert = f" cert={check['cert_days_left']}d" if check.get("cert_days_left") is not None else ""
        error = "" if check.get("ok") else f" - {check.get('error')}"
        verdict = "OK" if check.get("ok") else "FAIL"
        lines.append(f"{verdict:<4} {host:<14} {check.get('name', ''):<52} {status}{latency}{cert}{error}")
    return lines


def failing_checks(hosts, hostvars) -> list:
    """'host: check (error)' for every failed check."""
    return [f"{host}: {c.get('name')} ({c.get('error')})" for host, c in _results(hosts, hostvars) if not c.get("ok")]
