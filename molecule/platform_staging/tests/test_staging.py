"""Staging protection (ENV-3): basic auth + IP allowlist, and the payment webhook path open only to
the gateway's address. Requests come from the test host's loopback (allowlisted, not the gateway),
the gateway peer (allowlisted, the gateway) and the outsider peer (neither), over a private network.
"""

import json
import subprocess

import pytest

testinfra_hosts = ["mvp-pf-staging"]

DOMAIN = "staging.mvp-platform.test"
STAGING_IP = "172.31.240.10"
WEBHOOK = "/api/payments/webhook"
CREDS = "tester:stg-basic-auth-pass"


def local_curl(host, path, *args):
    """curl on the staging host itself (source 127.0.0.1); returns (status, body)."""
    with host.sudo():
        out = host.run(f"curl -sk -w '\\n%{{http_code}}' {' '.join(args)} https://{DOMAIN}{path}")
    body, _, status = out.stdout.rpartition("\n")
    return int(status), body


def peer_curl(peer, path, *args):
    """curl from a peer container on the private network; returns (status, body)."""
    cmd = ["docker", "exec", peer, "curl", "-sk", "--resolve", f"{DOMAIN}:443:{STAGING_IP}", "-w", "\n%{http_code}"]
    proc = subprocess.run(
        [*cmd, *args, f"https://{DOMAIN}{path}"], capture_output=True, text=True, timeout=30, check=False
    )
    body, _, status = proc.stdout.rpartition("\n")
    return int(status), body


def test_site_needs_credentials(host):
    assert local_curl(host, "/")[0] == 401
    status, body = local_curl(host, "/", "-u", CREDS)
    assert status == 200 and "frontend version 1.0.0" in body


def test_second_user_and_wrong_password(host):
    assert local_curl(host, "/", "-u", "reviewer:stg-reviewer-pass")[0] == 200
    assert local_curl(host, "/", "-u", "tester:wrong")[0] == 401


def test_api_health_with_credentials(host):
    status, body = local_curl(host, "/api/health", "-u", CREDS)
    assert status == 200
    assert json.loads(body)["database"]["status"] == "up"


def test_webhook_from_the_gateway_needs_no_credentials():
    status, body = peer_curl("mvp-pf-gateway", WEBHOOK, "-X", "POST", "-d", '{"Status":"CONFIRMED"}')
    assert status == 200, body
    assert json.loads(body)["received"] is True


def test_gateway_still_needs_credentials_for_the_site():
    assert peer_curl("mvp-pf-gateway", "/")[0] == 401


def test_webhook_refuses_other_sources(host):
    # Loopback is allowlisted for the site, but it is not the gateway: 403 even with credentials.
    assert local_curl(host, WEBHOOK, "-X", "POST", "-d", "{}")[0] == 403
    assert local_curl(host, WEBHOOK, "-X", "POST", "-d", "{}", "-u", CREDS)[0] == 403
    assert peer_curl("mvp-pf-outsider", WEBHOOK, "-X", "POST", "-d", "{}")[0] == 403


@pytest.mark.parametrize("args", [(), ("-u", CREDS)])
def test_outsider_is_refused_by_the_allowlist(args):
    assert peer_curl("mvp-pf-outsider", "/", *args)[0] == 403


def test_port_80_redirects_for_everyone():
    cmd = ["docker", "exec", "mvp-pf-outsider", "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"]
    proc = subprocess.run(
        [*cmd, "-H", f"Host: {DOMAIN}", f"http://{STAGING_IP}/"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.stdout == "301"


def test_provided_certificate_is_served(host):
    with host.sudo():
        out = host.run(
            f"echo | openssl s_client -connect 127.0.0.1:443 -servername {DOMAIN} 2>/dev/null "
            "| openssl x509 -noout -ext subjectAltName"
        ).stdout
        key = host.file(f"/etc/nginx/mvp/tls/{DOMAIN}.key")
        assert key.mode == 0o600 and key.user == "root"
    assert f"DNS:{DOMAIN}" in out


def test_htpasswd_is_hashed_and_private(host):
    with host.sudo():
        htpasswd = host.file("/etc/nginx/mvp/htpasswd")
        assert htpasswd.mode == 0o640 and htpasswd.user == "root" and htpasswd.group == "www-data"
        lines = htpasswd.content_string.split()
    assert sorted(line.split(":")[0] for line in lines) == ["reviewer", "tester"]
    assert all(line.split(":", 1)[1].startswith("$6$") for line in lines)


def test_staging_env_redirects_mail_and_uses_test_payments(host):
    with host.sudo():
        env = host.file("/opt/mvp/env/backend.env").content_string
    assert "EMAIL_REDIRECT_TO='qa-inbox@mvp-platform.test'" in env
    assert "PAYMENT_MODE='test'" in env
    assert "APP_ENV='staging'" in env


def test_check_diff_on_converged_host_changes_nothing(check_diff_run):
    assert check_diff_run["rc"] == 0, check_diff_run["output"]
    assert check_diff_run["recap"], check_diff_run["output"]
    assert not check_diff_run["changed"], check_diff_run["output"]
