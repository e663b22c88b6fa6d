"""Fleet monitoring (issue 14, item 1): the monitoring host (db) scrapes every host of the inventory.

Every node_exporter target is up with its host, group and environment labels; an exporter on a
non-monitoring host listens on its private address only, asks for basic auth, and its port is
dropped for every host but the monitoring host; the backend's own metrics listener of each app
host is scraped on its live colour, behind the same auth and firewall rule; stopping app1's
exporter raises TargetDown at the webhook receiver (and resolves it); a host removed from the
inventory leaves the scrape on the next run (and comes back).
"""

import json
import os
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import yaml
from fleet import ADDR, sh

GROUPS = {"proxy": "proxy", "app1": "app", "app2": "app", "db": "db,monitoring"}
SCENARIO = Path(__file__).resolve().parents[1]
ROOT = SCENARIO.parents[1]
PASSWORD = yaml.safe_load((SCENARIO / "inventory/group_vars/all/monitoring.yml").read_text())[
    "monitoring_exporter_password"
]
WEBHOOK_LOG = "/var/log/mvp-mon-test/webhook.jsonl"
TELEGRAM_LOG = "/var/log/mvp-mon-test/telegram.jsonl"
MONITORING = yaml.safe_load((SCENARIO / "inventory/group_vars/monitoring/main.yml").read_text())


def query(expr: str) -> list:
    url = f"http://127.0.0.1:9090/api/v1/query?query={quote(expr)}"
    return json.loads(sh("db", f"curl -fsS '{url}'").stdout)["data"]["result"]


def node_targets() -> dict:
    targets = json.loads(sh("db", "curl -fsS http://127.0.0.1:9090/api/v1/targets").stdout)["data"]["activeTargets"]
    return {t["labels"]["host"]: t for t in targets if t["labels"]["job"] == "node"}


def wait_for(predicate, timeout: float, step: float = 2.0):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value or time.time() > deadline:
            return value
        time.sleep(step)


def received(log: str) -> list:
    lines = sh("db", f"cat {log} 2>/dev/null || true").stdout.splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def webhook_alerts() -> list:
    return received(WEBHOOK_LOG)


def test_every_host_is_scraped_with_its_labels():
    wait_for(lambda: len(t := node_targets()) == 4 and all(x["health"] == "up" for x in t.values()), 120)
    targets = node_targets()
    assert sorted(targets) == sorted(f"mvp-mh-{n}" for n in ADDR), targets.keys()
    for name, addr in ADDR.items():
        t = targets[f"mvp-mh-{name}"]
        assert t["health"] == "up", t
        assert t["labels"]["group"] == GROUPS[name], t["labels"]
        assert t["labels"]["environment"] == "production", t["labels"]
        expected = "127.0.0.1:9100" if name == "db" else f"{addr}:9100"
        assert t["labels"]["instance"] == expected, t["labels"]
    everything = json.loads(sh("db", "curl -fsS http://127.0.0.1:9090/api/v1/targets").stdout)["data"]["activeTargets"]
    print(f"\nSCRAPE TARGETS multihost: {len(everything)} (node: {len(targets)})")


def test_container_metrics_come_from_every_docker_host():
    series = query("mvp_container_metrics_up")
    hosts = {s["metric"]["host"]: s["value"][1] for s in series}
    assert hosts == {"mvp-mh-app1": "1", "mvp-mh-app2": "1", "mvp-mh-db": "1"}, hosts
    running = {s["metric"]["host"] for s in query("mvp_container_running == 1")}
    assert {"mvp-mh-app1", "mvp-mh-app2", "mvp-mh-db"} <= running, running


def test_remote_exporters_listen_on_the_private_address_only():
    def code(name: str, address: str) -> str:
        """The HTTP status node_exporter answers on address (bash's /dev/tcp: no curl on every host)."""
        request = 'printf "GET /metrics HTTP/1.0\\r\\n\\r\\n" >&3; head -n 1 <&3'
        got = sh(name, f"timeout 5 bash -c 'exec 3<>/dev/tcp/{address}/9100 && {request}'", ok=False)
        return got.stdout.split()[1] if got.rc == 0 and got.stdout.startswith("HTTP/") else "000"

    for name in ("proxy", "app1", "app2"):
        assert code(name, ADDR[name]) == "401", name  # its private address: basic auth
        assert code(name, "127.0.0.1") == "000", name  # loopback: nothing listens
    assert code("db", "127.0.0.1") == "200"  # the monitoring host's own exporter stays on loopback
    assert code("db", ADDR["db"]) == "000"


def test_remote_exporters_require_basic_auth():
    url = f"http://{ADDR['app1']}:9100/metrics"
    anonymous = sh("db", f"curl -s -o /dev/null -w '%{{http_code}}' {url}").stdout
    wrong = sh("db", f"curl -s -o /dev/null -w '%{{http_code}}' -u prometheus:wrong-password {url}").stdout
    right = sh("db", f"curl -s -o /dev/null -w '%{{http_code}}' -u prometheus:{PASSWORD} {url}").stdout
    assert (anonymous, wrong, right) == ("401", "401", "200")


def tcp_probe(source: str, target: str, port: int) -> int:
    """rc of a TCP connect: 0 answered, 1 refused, 124 no answer (dropped)."""
    return sh(source, f"timeout 4 bash -c '</dev/tcp/{target}/{port}'", ok=False).rc


def test_exporter_ports_are_dropped_for_every_host_but_the_monitoring_host():
    for target in ("proxy", "app1", "app2"):
        assert tcp_probe("db", ADDR[target], 9100) == 0, target
        for source in ADDR:
            if source not in ("db", target):
                assert tcp_probe(source, ADDR[target], 9100) == 124, (source, target)


def app1_target_down(since: int, status: str):
    """The first notification after `since` with app1's TargetDown in this status: (entry, alert)."""
    for entry in webhook_alerts()[since:]:
        for alert in entry["body"].get("alerts", []):
            labels = alert["labels"]
            if (labels["alertname"], labels.get("host"), alert["status"]) == ("TargetDown", "mvp-mh-app1", status):
                return entry, alert
    return None


def backend_targets() -> list:
    targets = json.loads(sh("db", "curl -fsS http://127.0.0.1:9090/api/v1/targets").stdout)["data"]["activeTargets"]
    return [t for t in targets if t["labels"]["job"] == "backend"]


METRICS_PORTS = {"blue": 3102, "green": 3202}


def live_colour(name: str) -> str:
    return json.loads(sh(name, "cat /opt/mvp/current.json").stdout)["colour"]


def test_the_backend_of_every_app_host_is_scraped_on_its_live_colour():
    live = {f"mvp-mh-{n}": live_colour(n) for n in ("app1", "app2")}

    def up_on_live():
        return all(t["health"] == "up" for t in backend_targets() if t["labels"]["colour"] == live[t["labels"]["host"]])

    assert wait_for(up_on_live, 120), backend_targets()
    targets = backend_targets()
    # Both colours of both app hosts are targets (the idle one may be down), labelled like node's.
    assert sorted((t["labels"]["host"], t["labels"]["colour"]) for t in targets) == [
        (h, c) for h in ("mvp-mh-app1", "mvp-mh-app2") for c in ("blue", "green")
    ], targets
    for t in targets:
        host = t["labels"]["host"]
        assert t["labels"]["instance"] == f"{ADDR[host[7:]]}:{METRICS_PORTS[t['labels']['colour']]}", t["labels"]
        assert (t["labels"]["group"], t["labels"]["environment"]) == ("app", "production"), t["labels"]
    versions = {s["metric"]["host"]: s["metric"]["version"] for s in query("mvp_backend_info")}
    assert set(versions) == set(live), versions
    assert not query('ALERTS{alertname="BackendDown"}')


def test_backend_metrics_need_auth_and_are_dropped_for_every_host_but_the_monitoring_host():
    for name in ("app1", "app2"):
        port = METRICS_PORTS[live_colour(name)]
        url = f"http://{ADDR[name]}:{port}/metrics"
        anonymous = sh("db", f"curl -s -o /dev/null -w '%{{http_code}}' {url}").stdout
        right = sh("db", f"curl -s -o /dev/null -w '%{{http_code}}' -u prometheus:{PASSWORD} {url}").stdout
        assert (anonymous, right) == ("401", "200"), name
        assert tcp_probe("proxy", ADDR[name], port) == 124, name
    # Never through nginx: the public /metrics is not the backend's.
    public = sh("proxy", "curl -ks --resolve mvp-multi.test:443:127.0.0.1 https://mvp-multi.test/metrics", ok=False)
    assert "mvp_backend_" not in public.stdout


def test_a_stopped_exporter_raises_its_alert_at_the_receivers():
    seen, seen_telegram = len(webhook_alerts()), len(received(TELEGRAM_LOG))
    sh("app1", "systemctl stop prometheus-node-exporter")
    stopped = time.time()
    try:
        got = wait_for(lambda: app1_target_down(seen, "firing"), 180)
    finally:
        sh("app1", "systemctl start prometheus-node-exporter")
    restarted = time.time()
    assert got, webhook_alerts()[seen:]
    entry, alert = got
    assert alert["labels"]["group"] == "app" and alert["labels"]["environment"] == "production", alert
    assert alert["labels"]["instance"] == f"{ADDR['app1']}:9100", alert
    print(f"\nALERT DELAY exporter stop -> receiver: {entry['received'] - stopped:.1f} s (for 20s, scrape/eval 5s)")
    done = wait_for(lambda: app1_target_down(seen, "resolved"), 180)
    assert done, webhook_alerts()[seen:]
    print(f"RESOLVED after restart: {done[0]['received'] - restarted:.1f} s")
    # Telegram: the same firing and resolved notifications, to the chat, with the bot's token.
    telegram = MONITORING["monitoring_alertmanager_receivers"][1]
    token = MONITORING["monitoring_telegram_bot_token"]

    def telegram_messages():
        got = [m for m in received(TELEGRAM_LOG)[seen_telegram:] if "mvp-mh-app1" in m["body"].get("text", "")]
        firing = [m for m in got if "TargetDown" in m["body"]["text"] and "Firing" in m["body"]["text"]]
        resolved = [m for m in got if "TargetDown" in m["body"]["text"] and "Resolved" in m["body"]["text"]]
        return (firing, resolved) if firing and resolved else None

    messages = wait_for(telegram_messages, 60)
    assert messages, received(TELEGRAM_LOG)[seen_telegram:]
    for message in messages[0] + messages[1]:
        assert message["path"] == f"/bot{token}/sendMessage", message
        assert str(message["body"]["chat_id"]) == str(telegram["chat_id"]), message
    text = messages[0][0]["body"]["text"][:200]
    print(f"TELEGRAM: {len(messages[0])} firing, {len(messages[1])} resolved; text: {text!r}")


def test_a_host_removed_from_the_inventory_leaves_the_scrape(tmp_path):
    """The monitoring play alone, as site.yml runs it (--tags would skip the docker play's facts)."""
    inventory = Path(os.environ["MOLECULE_INVENTORY_FILE"])
    data = yaml.safe_load(inventory.read_text())
    # Molecule writes each group at the top level and every host under `all`: drop app2 everywhere.
    for group in data.values():
        group.get("hosts", {}).pop("mvp-mh-app2", None)
    for linked in ("group_vars", "host_vars"):
        (tmp_path / linked).symlink_to(inventory.parent / linked)
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(data))
    play = tmp_path / "monitoring.yml"
    play.write_text(
        "- {name: Monitoring, hosts: monitoring, become: true, roles: [{role: mvp_platform.infra.monitoring}]}\n"
    )

    def converge(inv: Path):
        env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")}
        env["ANSIBLE_COLLECTIONS_PATH"] = str(ROOT / ".ansible" / "collections")
        cmd = ["ansible-playbook", "-i", str(inv), str(play)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, check=False, env=env, cwd=ROOT)
        assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]

    converge(tmp_path / "hosts.yml")
    left = wait_for(lambda: sorted(node_targets()) == ["mvp-mh-app1", "mvp-mh-db", "mvp-mh-proxy"], 30)
    assert left, sorted(node_targets())
    # Back in the inventory, back in the scrape.
    converge(inventory)
    assert wait_for(lambda: "mvp-mh-app2" in node_targets(), 30), sorted(node_targets())
