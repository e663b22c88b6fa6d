"""Benchmark: switching colours by nginx reload versus by the colour switch's marker file.

Keep-alive clients that do not retry a request on a reused connection (many API clients) lose a
request whenever nginx closes their idle connection, which a reload does: its old workers close
every idle keep-alive connection. In one run on a test host that has nginx, python3 and openssl
(default: the molecule `release` host; `--container mvp-reg-app` for the `registry` scenario's),
this starts a private nginx instance (its own prefix and port, loopback only; the platform's nginx
is not touched) in front of four stand-in backends (blue and green, frontend and backend), runs the
release load generator (molecule/release/files/loadgen.py: keep-alive HTTPS clients that retry a
stale connection once, and clients that never retry) and switches colours SWITCHES times:
  (a) reload: the pool entry is rewritten to the other colour's port and nginx reloads (the
      switch releases used before), and
  (b) marker: the pool entry is the colour switch of roles/nginx (a local socket whose server
      block picks blue or green per request by a marker file); only the marker changes.
For each: requests, failed requests (all of them from the clients that never retry), and the
stale-connection retries of the retrying clients.

Writes benchmarks/results/keepalive_switch.json. Run:
  .venv/bin/python benchmarks/bench_keepalive_switch.py [--container NAME] [--switches 10]
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "keepalive_switch.json"
LOADGEN = ROOT / "molecule" / "release" / "files" / "loadgen.py"
DIR = "/var/lib/mvp-ka-bench"
PORT = 18443
PORTS = {"blue": {"frontend": 18100, "backend": 18101}, "green": {"frontend": 18200, "backend": 18201}}

BACKEND = r"""
import http.server, sys
port, version = int(sys.argv[1]), sys.argv[2]
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = b'{"status": "ok"}' if self.path.startswith("/api/health") else b"<html>ok</html>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-App-Version", version)
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


def nginx_conf(mode: str) -> str:
    """The private nginx: the public server on PORT and the pool of one member, as roles/nginx renders it."""
    pool, switch = [], []
    for service in ("frontend", "backend"):
        if mode == "reload":
            pool.append(f"upstream mvp_{service} {{ include {DIR}/pool-{service}.conf; keepalive 32; }}")
            continue
        pool.append(
            f"upstream mvp_{service} {{ server unix:{DIR}/m-{service}.sock max_fails=3 fail_timeout=10s; "
            "keepalive 32; }"
        )
        for colour in ("blue", "green"):
            switch.append(
                f"upstream mvp_{service}_m_{colour} {{ server 127.0.0.1:{PORTS[colour][service]}; keepalive 32; }}"
            )
        switch.append(
            f"""server {{
    listen unix:{DIR}/m-{service}.sock;
    access_log off;
    set $mvp_colour blue;
    if (-f {DIR}/m.green) {{ set $mvp_colour green; }}
    location / {{
        proxy_pass http://mvp_{service}_m_$mvp_colour;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_buffering off;
    }}
}}"""
        )
    return f"""worker_processes 2;
user root;
pid {DIR}/nginx.pid;
error_log {DIR}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_timeout 65s;
    client_body_temp_path {DIR}/temp; proxy_temp_path {DIR}/temp;
    fastcgi_temp_path {DIR}/temp; uwsgi_temp_path {DIR}/temp; scgi_temp_path {DIR}/temp;
    {chr(10).join(pool)}
    {chr(10).join(switch)}
    server {{
        listen 127.0.0.1:{PORT} ssl;
        server_name mvp-ka-bench.test;
        ssl_certificate {DIR}/cert.pem;
        ssl_certificate_key {DIR}/key.pem;
        location / {{
            proxy_pass http://mvp_frontend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
        }}
        location /api/ {{
            proxy_pass http://mvp_backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
        }}
    }}
}}
"""


def in_host(container: str, script: str, check: bool = True, data: str | None = None) -> str:
    proc = subprocess.run(
        ["docker", "exec", "-i", container, "sh", "-c", script],
        input=data,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if check and proc.returncode != 0:
        sys.exit(f"{script!r} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return proc.stdout


def write(container: str, path: str, text: str) -> None:
    in_host(container, f"cat > {path}", data=text)


def pool_file(colour: str, service: str) -> str:
    return f"server 127.0.0.1:{PORTS[colour][service]};\n"


def phase(container: str, mode: str, switches: int, interval_s: float) -> dict:
    """Start the private nginx in MODE, run the load and switch SWITCHES times, stop nginx."""
    for service in ("frontend", "backend"):
        write(container, f"{DIR}/pool-{service}.conf", pool_file("blue", service))
    in_host(container, f"rm -f {DIR}/m.green {DIR}/*.sock")
    write(container, f"{DIR}/nginx.conf", nginx_conf(mode))
    in_host(container, f"nginx -t -q -p {DIR} -c {DIR}/nginx.conf && nginx -p {DIR} -c {DIR}/nginx.conf")
    out, stop = f"{DIR}/load-{mode}.json", f"{DIR}/load-{mode}.stop"
    in_host(container, f"rm -f {out} {stop}")
    in_host(
        container,
        f"systemd-run --unit=mvp-ka-bench-{mode} --collect python3 {DIR}/loadgen.py --host mvp-ka-bench.test "
        f"--port {PORT} --out {out} --stop-file {stop} --threads 4 --no-retry-threads 4 --interval 0.05 "
        "--max-seconds 600",
    )
    time.sleep(3)
    colour = "blue"
    started = time.monotonic()
    for _ in range(switches):
        colour = "green" if colour == "blue" else "blue"
        if mode == "reload":
            for service in ("frontend", "backend"):
                write(container, f"{DIR}/pool-{service}.conf", pool_file(colour, service))
            conf = f"-p {DIR} -c {DIR}/nginx.conf"
            in_host(container, f"nginx -t -q {conf} && nginx {conf} -s reload")
        else:
            in_host(container, f"touch {DIR}/m.green" if colour == "green" else f"rm -f {DIR}/m.green")
        time.sleep(interval_s)
    switching_s = round(time.monotonic() - started, 1)
    time.sleep(3)
    in_host(container, f"touch {stop}")
    for _ in range(60):
        if in_host(container, f"test -f {out} && echo yes", check=False).strip() == "yes":
            break
        time.sleep(0.5)
    load = json.loads(in_host(container, f"cat {out}"))
    in_host(container, f"nginx -p {DIR} -c {DIR}/nginx.conf -s quit; sleep 1", check=False)
    seen = {path: sorted(v) for path, v in load["versions"].items()}
    return {
        "switches": switches,
        "switching_s": switching_s,
        "requests": load["requests"],
        "failed_requests": load["failed"],
        "no_retry_clients": load["no_retry"],
        "stale_keepalive_retries": load["stale_keepalive_retries"],
        "failed_per_switch": round(load["failed"] / switches, 2),
        "first_failures": load["failures"][:5],
        "versions_seen": seen,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--container", default="mvp-rel-release")
    parser.add_argument("--switches", type=int, default=10)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between switches")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    c = args.container
    if subprocess.run(["docker", "inspect", c], capture_output=True, check=False).returncode != 0:
        sys.exit(f"{c} does not exist: converge a platform scenario first (molecule converge -s release).")
    in_host(c, "command -v nginx >/dev/null && command -v python3 >/dev/null && command -v openssl >/dev/null")
    in_host(c, f"rm -rf {DIR} && mkdir -p {DIR}/temp")
    in_host(c, "grep -q mvp-ka-bench.test /etc/hosts || echo '127.0.0.1 mvp-ka-bench.test' >> /etc/hosts")
    write(c, f"{DIR}/loadgen.py", LOADGEN.read_text())
    write(c, f"{DIR}/backend.py", BACKEND)
    in_host(
        c,
        f"openssl req -x509 -newkey rsa:2048 -nodes -keyout {DIR}/key.pem -out {DIR}/cert.pem -days 1 "
        "-subj /CN=mvp-ka-bench.test 2>/dev/null",
    )
    for colour, ports in PORTS.items():
        for port in ports.values():
            in_host(c, f"systemd-run --unit=mvp-ka-bench-{port} --collect python3 {DIR}/backend.py {port} {colour}")
    try:
        time.sleep(1)
        before = phase(c, "reload", args.switches, args.interval)
        after = phase(c, "marker", args.switches, args.interval)
    finally:
        for ports in PORTS.values():
            for port in ports.values():
                in_host(c, f"systemctl stop mvp-ka-bench-{port}", check=False)
        in_host(c, f"nginx -p {DIR} -c {DIR}/nginx.conf -s quit 2>/dev/null; rm -rf {DIR}", check=False)
    result = {
        "benchmark": "colour switch under keep-alive load: nginx reload (before) vs the colour switch's marker (after)",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "host": c,
        "nginx": in_host(c, "nginx -v 2>&1", check=False).strip(),
        "load": (
            "8 keep-alive HTTPS clients in the test host (4 retry once on a reused connection the server closed, "
            "4 never retry), 50 ms pause between requests, / and /api/health through a private nginx instance"
        ),
        "note": (
            "One run on a shared 2-CPU machine; both phases in the same run. A failed request of the retrying "
            "clients would be a retry that failed too; the failures here are those of the clients that never retry."
        ),
        "reload_switch": before,
        "marker_switch": after,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("reload_switch", "marker_switch")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
