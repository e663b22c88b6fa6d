"""The platform in development shape (on MOLECULE_DISTRO, Debian 12 and 13): it answers through nginx
(self-signed TLS, HTTP/2 as a listen parameter on Debian 12's nginx 1.22) and on the development ports, and a
converged host changes nothing.
"""

import json

from mvp_molecule import DISTRO_RELEASE, sh

testinfra_hosts = ["all"]

DOMAIN = "mvp-dev.test"


def test_it_is_the_distribution_asked_for(host):
    assert host.system_info.distribution == "debian"
    assert host.system_info.release.split(".")[0] == DISTRO_RELEASE


def test_frontend_and_api_through_nginx(host):
    assert "frontend version 1.0.0" in sh(host, f"curl -kfsS https://{DOMAIN}/")
    health = json.loads(sh(host, f"curl -kfsS https://{DOMAIN}/api/health"))
    assert health["status"] == "ok" and health["database"]["status"] == "up"
    assert health["database"]["schema_version"] == "1.0.0"


def test_http2_and_tls_versions(host):
    assert sh(host, f"curl -kfsS -o /dev/null -w '%{{http_version}}' https://{DOMAIN}/") == "2"
    with host.sudo():
        old = host.run(f"echo | openssl s_client -connect 127.0.0.1:443 -servername {DOMAIN} -tls1_1 2>&1")
    assert old.rc != 0 and "Cipher is (NONE)" in old.stdout


def test_self_signed_certificate_names_the_domain(host):
    out = sh(
        host,
        f"echo | openssl s_client -connect 127.0.0.1:443 -servername {DOMAIN} 2>/dev/null "
        "| openssl x509 -noout -ext subjectAltName",
    )
    assert f"DNS:{DOMAIN}" in out


def test_redirect_and_development_ports(host):
    assert sh(host, f"curl -sS -o /dev/null -w '%{{http_code}}' http://{DOMAIN}/") == "301"
    assert "frontend version" in sh(host, "curl -fsS http://127.0.0.1:5000/")
    assert json.loads(sh(host, "curl -fsS http://127.0.0.1:5001/api/health"))["status"] == "ok"


def test_env_files_are_private(host):
    with host.sudo():
        for name in ("postgres.env", "backend.env", "frontend.env"):
            env = host.file(f"/opt/mvp/env/{name}")
            assert env.mode == 0o600 and env.user == "root"


def test_check_diff_on_converged_host_changes_nothing(check_diff_run):
    assert check_diff_run["rc"] == 0, check_diff_run["output"]
    assert check_diff_run["recap"], check_diff_run["output"]
    assert not check_diff_run["changed"], check_diff_run["output"]
