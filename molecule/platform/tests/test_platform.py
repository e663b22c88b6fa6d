"""The whole platform through nginx on 443 with the real domain name, from inside the test host.

The certificate was issued through certbot by Pebble (Debian's ACME test server) running in the
test host; renewal is forced and nginx must then serve the new certificate.
"""

import json
import re
import time

import pytest
from mvp_molecule import sh

testinfra_hosts = ["proxy"]
# The upstreams, the pool entries and the colour switches nginx reads.
NGINX_POOL_FILES = "/etc/nginx/mvp/upstream.conf /etc/nginx/mvp/pool/*/*.conf /etc/nginx/mvp/switch/*.conf"

DOMAIN = "mvp-platform.test"
ALIAS = "www.mvp-platform.test"
PEBBLE_ROOT = "/root/pebble-roots.pem"
PEBBLE_MGMT = "https://127.0.0.1:15000"


@pytest.fixture(scope="module")
def ca(host):
    """Pebble's current root and intermediate, fetched from its management API."""
    sh(
        host,
        f"curl -fsS --cacert /etc/pebble/cert.pem {PEBBLE_MGMT}/roots/0 > {PEBBLE_ROOT} && "
        f"curl -fsS --cacert /etc/pebble/cert.pem {PEBBLE_MGMT}/intermediates/0 >> {PEBBLE_ROOT}",
    )
    return PEBBLE_ROOT


def served_certificate(host, name=DOMAIN):
    out = sh(
        host,
        f"echo | openssl s_client -connect 127.0.0.1:443 -servername {name} 2>/dev/null "
        "| openssl x509 -noout -serial -issuer -ext subjectAltName",
    )
    return out


def test_frontend_page_through_nginx_with_a_verified_certificate(host, ca):
    page = sh(host, f"curl -fsS --cacert {ca} https://{DOMAIN}/")
    assert "MVP Platform" in page
    assert "frontend version 1.0.0" in page


def test_alias_is_served_with_the_same_certificate(host, ca):
    page = sh(host, f"curl -fsS --cacert {ca} https://{ALIAS}/")
    assert "frontend version" in page


def test_api_health_reports_the_database_through_nginx(host, ca):
    body = json.loads(sh(host, f"curl -fsS --cacert {ca} https://{DOMAIN}/api/health"))
    assert body["status"] == "ok", body
    assert body["database"]["status"] == "up", body
    assert body["database"]["version"].startswith("17"), body
    # The first install ran the migration one-shot before the backend started.
    assert body["database"]["schema_version"] == "1.0.0", body


def test_forwarded_headers_reach_the_backend(host, ca):
    headers = json.loads(sh(host, f"curl -fsS --cacert {ca} https://{DOMAIN}/api/echo-headers"))
    assert headers["Host"] == DOMAIN
    assert headers["X-Forwarded-Proto"] == "https"
    assert headers["X-Real-IP"] == "127.0.0.1"
    assert "127.0.0.1" in headers["X-Forwarded-For"]


def test_http2_is_negotiated(host, ca):
    assert sh(host, f"curl -fsS -o /dev/null -w '%{{http_version}}' --cacert {ca} https://{DOMAIN}/") == "2"


def test_port_80_redirects_to_https_except_the_acme_challenge(host):
    out = sh(host, f"curl -sS -o /dev/null -w '%{{http_code}} %{{redirect_url}}' http://{DOMAIN}/some/page?x=1")
    assert out == f"301 https://{DOMAIN}/some/page?x=1"
    code = sh(host, f"curl -sS -o /dev/null -w '%{{http_code}}' http://{DOMAIN}/.well-known/acme-challenge/nothing")
    assert code == "404"


def test_security_headers_and_hsts(host, ca):
    headers = sh(host, f"curl -fsS -D - -o /dev/null --cacert {ca} https://{DOMAIN}/").lower()
    assert "strict-transport-security: max-age=63072000; includesubdomains" in headers
    assert "x-content-type-options: nosniff" in headers
    assert "x-frame-options: deny" in headers
    assert "referrer-policy: strict-origin-when-cross-origin" in headers
    assert "server: nginx\r\n" in headers  # no version (server_tokens off)


def test_certificate_was_issued_by_pebble_through_certbot(host):
    out = served_certificate(host)
    assert "Pebble Intermediate CA" in out
    assert f"DNS:{DOMAIN}" in out and f"DNS:{ALIAS}" in out
    assert host.file(f"/etc/letsencrypt/renewal/{DOMAIN}.conf").contains("webroot")
    assert host.file("/etc/letsencrypt/renewal-hooks/deploy/mvp-nginx-reload.sh").mode == 0o755
    assert host.service("certbot.timer").is_enabled


def test_renewal_reloads_nginx_with_the_new_certificate(host, ca):
    before = re.search(r"serial=(\w+)", served_certificate(host)).group(1)
    sh(host, "REQUESTS_CA_BUNDLE=/etc/pebble/cert.pem certbot renew --force-renewal --no-random-sleep-on-renew -q")
    on_disk = sh(host, f"openssl x509 -noout -serial -in /etc/letsencrypt/live/{DOMAIN}/fullchain.pem")
    new = re.search(r"serial=(\w+)", on_disk).group(1)
    assert new != before
    served = before
    for _ in range(20):  # the deploy hook reloads nginx; workers pick the new certificate up
        served = re.search(r"serial=(\w+)", served_certificate(host)).group(1)
        if served == new:
            break
        time.sleep(0.5)
    assert served == new, f"nginx still serves {served}, certbot renewed to {new}"
    assert "frontend version" in sh(host, f"curl -fsS --cacert {ca} https://{DOMAIN}/")


@pytest.mark.parametrize("flag", ["-tls1", "-tls1_1"])
def test_old_tls_versions_are_refused(host, flag):
    # SECLEVEL=0 so the client really offers the old protocol; the server must refuse it.
    with host.sudo():
        result = host.run(
            f"echo | openssl s_client -connect 127.0.0.1:443 -servername {DOMAIN} {flag} "
            "-cipher 'DEFAULT:@SECLEVEL=0' 2>&1"
        )
    assert result.rc != 0
    assert "Cipher is (NONE)" in result.stdout
    assert "alert protocol version" in result.stdout, result.stdout[-800:]


@pytest.mark.parametrize("flag,protocol", [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")])
def test_tls_12_and_13_are_accepted(host, flag, protocol):
    out = sh(host, f"echo | openssl s_client -connect 127.0.0.1:443 -servername {DOMAIN} {flag} 2>&1")
    assert re.search(rf"(Protocol\s*:\s*{re.escape(protocol)}|New, {re.escape(protocol)},)", out), out[-800:]


def test_api_is_rate_limited(host, ca):
    codes = sh(
        host,
        f"seq 1 150 | xargs -P 30 -I{{}} curl -s -o /dev/null -w '%{{http_code}}\\n' --cacert {ca} "
        f"https://{DOMAIN}/api/version",
    ).split()
    assert "200" in codes and "429" in codes, sorted(set(codes))


def test_access_log_is_json(host, ca):
    sh(host, f"curl -fsS -o /dev/null --cacert {ca} 'https://{DOMAIN}/?log-probe=1'")
    lines = sh(host, "tail -n 50 /var/log/nginx/access.log").splitlines()
    line = [entry for entry in lines if "log-probe" in entry][-1]
    entry = json.loads(line)
    assert entry["status"] == 200 and entry["host"] == DOMAIN and entry["tls"].startswith("TLSv1.")


def test_postgres_listens_on_loopback_only(host):
    listeners = sh(host, "ss -Hltn")
    ports = re.findall(r"\s(\S+):5432\s", listeners)
    assert ports, listeners
    assert set(ports) <= {"127.0.0.1", "[::1]"}, ports


def test_app_ports_are_bound_to_loopback_only(host):
    listeners = sh(host, "ss -Hltn")
    for port in (3100, 3101):
        bound = re.findall(rf"\s(\S+):{port}\s", listeners)
        assert bound and set(bound) <= {"127.0.0.1"}, (port, bound)


def test_only_the_backend_reaches_the_database(host):
    probe = "python3 -c \"import socket; socket.create_connection(('postgres', 5432), 2)\""
    with host.sudo():
        assert host.run(f"docker exec mvp-blue-backend-1 {probe}").rc == 0
        assert host.run(f"docker exec mvp-blue-frontend-1 {probe}").rc != 0
    internal = sh(host, "docker network inspect -f '{{.Internal}}' mvp-db").strip()
    assert internal == "true"


@pytest.mark.parametrize("name", ["postgres.env", "backend.env", "frontend.env"])
def test_env_files_are_private(host, name):
    with host.sudo():
        env = host.file(f"/opt/mvp/env/{name}")
        assert env.exists and env.user == "root" and env.group == "root"
        assert env.mode == 0o600


def test_containers_are_healthy_with_limits_and_restart_policy(host):
    for name in ("mvp-data-postgres-1", "mvp-blue-frontend-1", "mvp-blue-backend-1"):
        info = json.loads(sh(host, f"docker inspect {name}"))[0]
        assert info["State"]["Health"]["Status"] == "healthy", name
        assert info["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped", name
        assert info["HostConfig"]["Memory"] > 0 and info["HostConfig"]["NanoCpus"] > 0, name


def test_release_record_and_idle_colour(host):
    with host.sudo():
        record = json.loads(host.file("/opt/mvp/current.json").content_string)
        assert record == {"colour": "blue", "version": "1.0.0"}
        assert host.run("docker ps -q --filter label=com.docker.compose.project=mvp-green").stdout.strip() == ""


def test_nginx_upstream_file_names_the_live_colour(host):
    with host.sudo():
        upstream = host.run(f"cat {NGINX_POOL_FILES}").stdout
        markers = host.run("ls /etc/nginx/mvp/live").stdout.split()
    # Blue: no green marker; the switch knows both colours' ports, the pool its local sockets.
    assert not [m for m in markers if m.endswith(".green")], markers
    assert "127.0.0.1:3100" in upstream and "127.0.0.1:3101" in upstream and "127.0.0.1:3201" in upstream
    assert "server unix:/run/mvp-nginx/" in upstream
    assert "keepalive 32;" in upstream


def test_check_diff_on_converged_host_changes_nothing(check_diff_run):
    assert check_diff_run["rc"] == 0, check_diff_run["output"]
    assert check_diff_run["recap"], check_diff_run["output"]
    assert not check_diff_run["changed"], check_diff_run["output"]
