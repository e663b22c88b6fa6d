"""Staging (ENV-3) with the reference application: basic auth + IP allowlist, the payment webhook
path open only to the gateway's address and checked against the gateway's signature by the backend,
and every mail redirected to the test mailbox. Requests come from the test host's loopback
(allowlisted, not the gateway), the gateway peer (allowlisted, the gateway) and the outsider peer
(neither), over a private network; the mail peer runs the mailbox's SMTP server.
"""

import json
import shlex
import subprocess
import time
import uuid

import pytest
from mvp_molecule import tbank_notification, tbank_signed

testinfra_hosts = ["mvp-pf-staging"]

DOMAIN = "staging.mvp-platform.test"
STAGING_IP = "172.31.240.10"
WEBHOOK = "/api/payments/webhook"
CREDS = "tester:stg-basic-auth-pass"
# The test terminal of group_vars/all/app_stack.yml.
TERMINAL_KEY, TERMINAL_PASSWORD = "pf-terminal-key", "pf-terminal-password"
MAILBOX, MAILBOX_LOG = "qa-inbox@mvp-platform.test", "/var/log/mvp-mail/messages.jsonl"


def recorded(host, payment_id: str) -> list[str]:
    """The statuses the backend recorded for a payment (payment_id: digits the test made)."""
    assert payment_id.isdigit()
    sql = f"SELECT status FROM payment_notifications WHERE payment_id = '{payment_id}'"  # noqa: S608 - digits only
    with host.sudo():
        out = host.run(f'docker exec -u postgres mvp-data-postgres-1 psql -X -At -U mvp -d mvp -c "{sql}"')
    assert out.rc == 0, out.stderr
    return out.stdout.split()


def post_json(peer: str, path: str, payload: dict, *args: str) -> tuple[int, str]:
    return peer_curl(peer, path, *args, "-X", "POST", "-H", "Content-Type: application/json", "-d", json.dumps(payload))


def mailbox() -> list[dict]:
    proc = subprocess.run(
        ["docker", "exec", "mvp-pf-mail", "cat", MAILBOX_LOG], capture_output=True, text=True, timeout=30, check=False
    )
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def local_curl(host, path, *args):
    """curl on the staging host itself (source 127.0.0.1); returns (status, body)."""
    with host.sudo():
        out = host.run(f"curl -sk -w '\\n%{{http_code}}' {shlex.join(args)} https://{DOMAIN}{path}")
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
    assert status == 200 and "MVP Platform" in body and "1.0.0" in body, body[:2000]


def test_second_user_and_wrong_password(host):
    assert local_curl(host, "/", "-u", "reviewer:stg-reviewer-pass")[0] == 200
    assert local_curl(host, "/", "-u", "tester:wrong")[0] == 401


def test_api_health_with_credentials(host):
    status, body = local_curl(host, "/api/health", "-u", CREDS)
    assert status == 200
    assert json.loads(body)["database"]["status"] == "up"


def test_a_signed_notification_from_the_gateway_is_recorded(host):
    payment_id = str(uuid.uuid4().int % 10**12)
    status, answer = post_json(
        "mvp-pf-gateway", WEBHOOK, tbank_signed(tbank_notification(TERMINAL_KEY, payment_id), TERMINAL_PASSWORD)
    )
    assert (status, answer) == (200, "OK")
    assert recorded(host, payment_id) == ["CONFIRMED"]


def test_a_forged_notification_from_the_gateway_is_refused_by_the_backend(host):
    payment_id = str(uuid.uuid4().int % 10**12)
    forged = tbank_signed(tbank_notification(TERMINAL_KEY, payment_id), "not-the-terminal-password")
    status, answer = post_json("mvp-pf-gateway", WEBHOOK, forged)
    # The backend's answer (JSON), not nginx's: the request passed the gateway's allowlist.
    assert status == 403 and "invalid notification token" in answer, answer
    assert recorded(host, payment_id) == []


def test_a_contact_request_mails_the_test_mailbox_only():
    visitor = f"visitor-{uuid.uuid4().hex[:8]}@example.com"
    before = len(mailbox())
    request = {"email": visitor, "name": "Staging Tester", "message": "Hello from the staging test"}
    status, answer = post_json("mvp-pf-gateway", "/api/contact", request, "-u", CREDS)
    assert status == 202, answer
    deadline = time.time() + 30
    while len(mailbox()) == before and time.time() < deadline:
        time.sleep(1)
    messages = [m for m in mailbox()[before:] if visitor in m["data"]]
    assert len(messages) == 1, mailbox()[before:]
    # The envelope names the test mailbox alone; the visitor's address is only in the headers.
    assert messages[0]["to"] == [f"<{MAILBOX}>"], messages[0]
    assert f"X-Original-To: {visitor}" in messages[0]["data"], messages[0]["data"][:2000]


def test_gateway_still_needs_credentials_for_the_site():
    assert peer_curl("mvp-pf-gateway", "/")[0] == 401


def test_webhook_refuses_other_sources(host):
    # Loopback is allowlisted for the site, but it is not the gateway: 403 even with credentials.
    # nginx refuses them (its own page): a signed notification from elsewhere never reaches the backend.
    body = json.dumps(tbank_signed(tbank_notification(TERMINAL_KEY, "1"), TERMINAL_PASSWORD))
    for status, answer in (
        local_curl(host, WEBHOOK, "-X", "POST", "-d", body),
        local_curl(host, WEBHOOK, "-X", "POST", "-d", body, "-u", CREDS),
        peer_curl("mvp-pf-outsider", WEBHOOK, "-X", "POST", "-d", body),
    ):
        assert status == 403 and "nginx" in answer, answer


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
