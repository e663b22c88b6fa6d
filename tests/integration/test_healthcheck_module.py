# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Integration tests of ``mvp_platform.infra.healthcheck`` against real servers on 127.0.0.1.

The servers run in threads of this process: a normal HTTP server, a slow one, one answering
500, one with an unexpected body, one that fails its first requests, an HTTPS server whose
certificate (from a CA made here) expires in two days, and a closed port. The module itself runs
through ``ansible localhost -m mvp_platform.infra.healthcheck`` in a subprocess (ANSIBLE_CONFIG
is this tree's ansible.cfg), in check mode and for real. Every subprocess and server is bounded
in time. Run with:  pytest tests/integration/test_healthcheck_module.py
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from _runner import ansible_env, run_module
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT = Path(__file__).resolve().parents[2]

ANSIBLE_DOC = Path(sys.executable).parent / "ansible-doc"
LOOPBACK = "127.0.0.1"
SLOW_SECONDS = 0.6
ANSIBLE_TIMEOUT = 120

pytestmark = pytest.mark.slow


# ---------------------------------------------------------------------------------------------
# Local servers
# ---------------------------------------------------------------------------------------------


class Behaviour:
    """What a server answers; ``fail_first`` requests get 503 before the normal answer."""

    def __init__(self, status=200, body=b'{"status": "ok", "db": {"up": true}}', delay=0.0, fail_first=0):
        self.status = status
        self.body = body
        self.delay = delay
        self.fail_first = fail_first
        self.requests = 0
        self.lock = threading.Lock()

    def answer(self):
        with self.lock:
            self.requests += 1
            failing = self.requests <= self.fail_first
        if self.delay:
            time.sleep(self.delay)
        if failing:
            return 503, b'{"status": "starting"}'
        return self.status, self.body


def _handler(behaviour):
    class Handler(BaseHTTPRequestHandler):
        def _reply(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            status, body = behaviour.answer()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_HEAD = _reply

        def log_message(self, *_args):
            pass

    return Handler


class Server:
    def __init__(self, behaviour, tls_context=None):
        self.behaviour = behaviour
        self.httpd = ThreadingHTTPServer((LOOPBACK, 0), _handler(behaviour))
        self.httpd.daemon_threads = True
        if tls_context is not None:
            self.httpd.socket = tls_context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.scheme = "https" if tls_context else "http"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path="/health"):
        return f"{self.scheme}://{LOOPBACK}:{self.port}{path}"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def serve():
    servers = []

    def start(behaviour=None, tls_context=None):
        server = Server(behaviour or Behaviour(), tls_context)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def closed_port():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((LOOPBACK, 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA and a server certificate for 127.0.0.1 that expires in two days."""
    directory = tmp_path_factory.mktemp("pki")
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("healthcheck test CA"))
        .issuer_name(_name("healthcheck test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    not_after = now + datetime.timedelta(days=2)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(LOOPBACK))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = directory / "ca.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_path = directory / "server.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path = directory / "server.key"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return {"ca_path": str(ca_path), "context": context, "not_after": not_after}


# ---------------------------------------------------------------------------------------------
# Running the module
# ---------------------------------------------------------------------------------------------


def healthcheck(args, check_mode=False):
    """Run the module on localhost; return (ansible exit code, the module's result)."""
    return run_module(
        "mvp_platform.infra.healthcheck",
        args,
        check=check_mode,
        timeout=ANSIBLE_TIMEOUT,
        ANSIBLE_HOST_KEY_CHECKING="0",
        NO_PROXY="*",
    )


def by_name(result):
    return {check["name"]: check for check in result["checks"]}


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("check_mode", [True, False], ids=["check_mode", "real"])
def test_healthy_endpoints(serve, pki, check_mode):
    web = serve()
    tls = serve(tls_context=pki["context"])
    rc, result = healthcheck(
        {
            "checks": [
                {"name": "web", "url": web.url(), "json_path": "db.up", "json_equals": True, "max_latency_ms": 2000},
                {"name": "web-post", "url": web.url(), "method": "POST", "body": {"ping": 1}, "status_code": "2xx"},
                {"name": "tls", "url": tls.url(), "ca_path": pki["ca_path"], "min_cert_days": 1},
                {"name": "tls-insecure", "url": tls.url(), "validate_certs": False, "min_cert_days": 1},
                {"name": "port", "type": "tcp", "host": LOOPBACK, "port": web.port},
            ]
        },
        check_mode=check_mode,
    )
    assert rc == 0, result
    assert result["changed"] is False
    assert result["healthy"] is True
    assert result["rounds"] == 1
    checks = by_name(result)
    assert all(check["ok"] and check["error"] is None for check in checks.values()), checks
    assert checks["web"]["status"] == 200
    assert checks["port"]["status"] is None
    for name in ("tls", "tls-insecure"):
        assert 1.9 < checks[name]["cert_days_left"] <= 2.0
    assert checks["web"]["cert_days_left"] is None


@pytest.mark.parametrize("check_mode", [True, False], ids=["check_mode", "real"])
def test_every_failure_is_named(serve, pki, closed_port, check_mode):
    web = serve()
    slow = serve(Behaviour(delay=SLOW_SECONDS))
    wrong_status = serve(Behaviour(status=500, body=b'{"status": "error"}'))
    bad_body = serve(Behaviour(body=b'{"status": "degraded"}'))
    tls = serve(tls_context=pki["context"])
    rc, result = healthcheck(
        {
            "checks": [
                {"name": "web", "url": web.url()},
                {"name": "slow-latency", "url": slow.url(), "max_latency_ms": 200},
                {"name": "slow-timeout", "url": slow.url(), "timeout": 0.2},
                {"name": "slow-ok", "url": slow.url("/other")},
                {"name": "wrong-status", "url": wrong_status.url()},
                {"name": "bad-body-regex", "url": bad_body.url(), "body_regex": '"status": "ok"'},
                {"name": "bad-body-json", "url": bad_body.url(), "json_path": "status", "json_equals": "ok"},
                {"name": "cert-expiring", "url": tls.url(), "ca_path": pki["ca_path"], "min_cert_days": 7},
                {"name": "cert-untrusted", "url": tls.url()},
                {"name": "closed-tcp", "type": "tcp", "host": LOOPBACK, "port": closed_port},
                {"name": "closed-http", "url": f"http://{LOOPBACK}:{closed_port}/"},
            ]
        },
        check_mode=check_mode,
    )
    assert rc != 0
    assert result["failed"] is True
    assert result["changed"] is False
    assert result["healthy"] is False
    checks = by_name(result)
    expected_errors = {
        "slow-latency": "exceeds max_latency_ms 200",
        "slow-timeout": "timed out after 0.2 s",
        "wrong-status": "status 500 not in 200-299",
        "bad-body-regex": 'body does not match \'"status": "ok"\'',
        "bad-body-json": "JSON field status is 'degraded', expected 'ok'",
        "cert-expiring": "less than min_cert_days 7",
        "cert-untrusted": "TLS certificate verification failed",
        "closed-tcp": "connection refused",
        "closed-http": "connection refused",
    }
    assert {name for name, check in checks.items() if not check["ok"]} == set(expected_errors)
    for name, error in expected_errors.items():
        assert error in checks[name]["error"], checks[name]
        assert f"{name} (" in result["msg"]
    assert result["msg"].startswith(f"{len(expected_errors)} of 11 checks failed after 1 round in ")
    assert checks["web"]["ok"] and checks["slow-ok"]["ok"]
    assert checks["slow-latency"]["latency_ms"] >= SLOW_SECONDS * 1000 * 0.9
    assert checks["wrong-status"]["status"] == 500
    assert 1.9 < checks["cert-expiring"]["cert_days_left"] <= 2.0
    assert checks["cert-expiring"]["status"] == 200
    assert checks["cert-untrusted"]["cert_days_left"] is None
    # The three slow checks ran concurrently: one round took far less than their sum.
    assert result["elapsed"] < 2 * SLOW_SECONDS


def test_waits_until_healthy_with_success_threshold(serve):
    starting = serve(Behaviour(fail_first=3))
    rc, result = healthcheck(
        {
            "checks": [{"name": "starting", "url": starting.url()}],
            "wait_timeout": 20,
            "interval": 0.2,
            "success_threshold": 2,
        }
    )
    assert rc == 0, result
    assert result["healthy"] is True
    assert result["rounds"] == 5  # three 503 answers, then two healthy rounds in a row
    assert starting.behaviour.requests == 5
    assert result["elapsed"] < 10


def test_gives_up_at_wait_timeout(serve):
    broken = serve(Behaviour(status=502))
    started = time.monotonic()
    rc, result = healthcheck(
        {"checks": [{"name": "broken", "url": broken.url()}], "wait_timeout": 1.0, "interval": 0.3},
        check_mode=True,
    )
    assert time.monotonic() - started < 30
    assert rc != 0
    assert result["healthy"] is False
    assert result["rounds"] >= 3
    assert 1.0 <= result["elapsed"] < 5
    assert "(wait_timeout 1 s)" in result["msg"]
    assert "broken (GET " in result["msg"]
    assert "status 502 not in 200-299" in result["msg"]
    assert broken.behaviour.requests == result["rounds"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"checks": [{"name": "web", "type": "http"}]}, "check 'web': an http check needs url"),
        (
            {"checks": [{"name": "web", "url": f"http://{LOOPBACK}:1/", "status_code": "399-200"}]},
            "check 'web': invalid status range '399-200': start 399 is greater than end 200",
        ),
        (
            {"checks": [{"name": "db", "type": "tcp", "host": LOOPBACK, "port": 1, "body_regex": "x"}]},
            "check 'db': body_regex only apply to http checks",
        ),
    ],
)
def test_invalid_options_are_explained(args, message):
    rc, result = healthcheck(args)
    assert rc != 0
    assert result["msg"] == f"Invalid healthcheck options: {message}"


def test_ansible_doc_renders():
    proc = subprocess.run(
        [str(ANSIBLE_DOC), "mvp_platform.infra.healthcheck"],
        cwd=ROOT,
        env=ansible_env(ANSIBLE_NOCOLOR="1"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for text in ("success_threshold", "min_cert_days", "cert_days_left", "EXAMPLES", "RETURN VALUES"):
        assert text in proc.stdout
