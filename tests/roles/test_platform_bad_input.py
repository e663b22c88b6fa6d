"""Bad input to app_stack and nginx fails with a clear error before any change.

Each case runs the role against a host that does not exist (a Docker connection to a missing
container): the preflight (argument spec, asserts) runs on the controller, so the play must fail on
an assert naming the variable, and never reach the host (unreachable=0 proves nothing was tried
there). Run: .venv/bin/pytest tests/roles
"""

import re
import subprocess
from pathlib import Path

import pytest
from _runner import (
    HOST_CONTACTED,
    ansible_playbook,
    flat_output,
    role_play,
    run_batch,
    write_inventory,
    write_role_play,
)

FAKE_HOST = "mvp-pf-bad-input"
COLLECTION = "mvp_platform.infra"
STRONG = {
    "app_stack_postgres_password": "Xq7-long-and-random-db-password",
    "app_stack_jwt_secret": "Xq7-long-and-random-jwt-secret-value",
    "app_stack_session_secret": "Xq7-long-and-random-session-secret",
    "app_stack_payment_terminal_key": "terminal-1234",
    "app_stack_payment_password": "terminal-pass-1234",
    "app_stack_email_api_key": "SG.key-1234",
    "app_stack_registry_username": "ci-bot",
    "app_stack_registry_password": "Xq7-long-and-random-registry-token",
}
BASE = {
    "app_stack": {"platform_env": "production", "platform_domain": "shop.example.com", **STRONG},
    "nginx": {
        "platform_env": "production",
        "platform_domain": "shop.example.com",
        "platform_admin_email": "ops@example.com",
        "nginx_tls_mode": "selfsigned",
        "nginx_app_hosts": [FAKE_HOST],
    },
}

CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
EXT_URL = "postgresql://mvp:Xq7-long-and-random@db.example.internal:5432/mvp"

CASES = {
    "unknown tls mode": ("nginx", {"nginx_tls_mode": "bogus"}, [], r"nginx_tls_mode.*(must be one of|is unknown)"),
    "invalid domain (nginx)": (
        "nginx",
        {"nginx_domain": "shop_example!.com"},
        [],
        r"nginx_domain='shop_example!\.com' must be a lower-case DNS name",
    ),
    "invalid alias": (
        "nginx",
        {"nginx_server_aliases": ["-bad-.example.com"]},
        [],
        r"nginx_server_aliases=\['-bad-\.example\.com'\] must be a list of a lower-case DNS name",
    ),
    "invalid domain (app_stack)": (
        "app_stack",
        {"platform_domain": "Not A Domain"},
        [],
        r"app_stack_domain='Not A Domain' must be a lower-case DNS name",
    ),
    "missing secret": (
        "app_stack",
        {"platform_env": "staging", "app_stack_email_redirect_to": "qa@example.com"},
        ["app_stack_jwt_secret"],
        r"Missing secret\(s\): app_stack_jwt_secret\.",
    ),
    "default database password in production": (
        "app_stack",
        {"app_stack_postgres_password": "postgres"},
        [],
        r"Weak or default secret\(s\) in production: app_stack_postgres_password\.",
    ),
    "short secret in production": (
        "app_stack",
        {"app_stack_session_secret": "Sh0rt-uniq"},
        [],
        r"Weak or default secret\(s\) in production: app_stack_session_secret\.",
    ),
    "placeholder secret from vault.yml.example": (
        "app_stack",
        {"app_stack_payment_password": "CHANGE-ME"},
        [],
        r"Weak or default secret\(s\) in production: app_stack_payment_password\.",
    ),
    "postgres published beyond loopback in production": (
        "app_stack",
        {"app_stack_postgres_publish_address": "0.0.0.0"},
        [],
        r"app_stack_postgres_publish_address=0\.0\.0\.0 would expose PostgreSQL in production",
    ),
    "live payments outside production": (
        "app_stack",
        {"platform_env": "staging", "app_stack_payment_mode": "production", "app_stack_email_redirect_to": "qa@x.io"},
        [],
        r"app_stack_payment_mode=production must be 'test' outside production",
    ),
    "staging without a mail redirect": (
        "app_stack",
        {"platform_env": "staging"},
        [],
        r"in staging all outgoing mail goes to app_stack_email_redirect_to",
    ),
    "image variable with a tag (APP-3)": (
        "app_stack",
        {"app_stack_backend_image": "registry.example.com:5000/team/backend:1.2"},
        [],
        r"app_stack_backend_image=registry\.example\.com:5000/team/backend:1\.2: an image variable names the "
        r"repository only.*the tag is app_stack_version",
    ),
    "image variable with a digest": (
        "app_stack",
        {"app_stack_frontend_image": "ghcr.io/team/frontend@sha256:" + "0" * 64},
        [],
        r"app_stack_frontend_image=ghcr\.io/team/frontend@sha256:0+: an image variable names the repository only",
    ),
    "image without a tag": (
        "app_stack",
        {"app_stack_version": ""},
        [],
        r"app_stack_version='' must be an image tag",
    ),
    "latest in production": (
        "app_stack",
        {"app_stack_version": "latest"},
        [],
        r"app_stack_version='latest' .*never 'latest' in production: deploy the version or git sha tag CI pushed",
    ),
    "latest in staging": (
        "app_stack",
        {"platform_env": "staging", "app_stack_email_redirect_to": "qa@example.com", "app_stack_version": "Latest"},
        [],
        r"app_stack_version='Latest' .*never 'latest' in staging",
    ),
    "latest PostgreSQL in production": (
        "app_stack",
        {"app_stack_postgres_version": "latest"},
        [],
        r"app_stack_postgres_version='latest' must be image tags .*never 'latest' in production",
    ),
    "registry source without credentials": (
        "app_stack",
        {},
        ["app_stack_registry_username", "app_stack_registry_password"],
        r"app_stack_image_source=registry logs in to app_stack_registry_url='ghcr\.io' .*app_stack_registry_username "
        r"and app_stack_registry_password \(vault_registry_username,\s+vault_registry_password in the vault\) must "
        r"both be set - missing: app_stack_registry_username, app_stack_registry_password",
    ),
    "registry source without a password": (
        "app_stack",
        {},
        ["app_stack_registry_password"],
        r"must both be set - missing: app_stack_registry_password;",
    ),
    "registry CA that is no certificate": (
        "app_stack",
        {"app_stack_registry_ca": "not a certificate"},
        [],
        r"app_stack_registry_ca, when\s+set, must be a PEM certificate",
    ),
    "missing image archive": (
        "app_stack",
        {"app_stack_image_source": "archive", "app_stack_image_archives": ["/nonexistent/mvp.tar"]},
        [],
        r"app_stack_image_archives must list.*missing: \['?/nonexistent/mvp\.tar",
    ),
    "basic auth without users": (
        "nginx",
        {"nginx_basic_auth_enabled": True, "nginx_basic_auth_users": []},
        [],
        r"nginx_basic_auth_enabled needs nginx_basic_auth_users",
    ),
    "basic auth user with a placeholder password": (
        "nginx",
        {"nginx_basic_auth_enabled": True, "nginx_basic_auth_users": [{"name": "qa", "password": "CHANGE-ME"}]},
        [],
        r"missing or invalid:\s+qa",
    ),
    "letsencrypt without an e-mail": (
        "nginx",
        {"nginx_tls_mode": "letsencrypt", "nginx_letsencrypt_email": "nobody"},
        [],
        r"nginx_tls_mode=letsencrypt needs nginx_letsencrypt_email",
    ),
    "provided certificate missing": (
        "nginx",
        {"nginx_tls_mode": "provided", "nginx_tls_certificate_file": "/nonexistent.crt"},
        [],
        r"nginx_tls_mode=provided needs nginx_tls_certificate_file",
    ),
    "allowlist entry that is no address": (
        "nginx",
        {"nginx_allowlist": ["10.0.0.0/8", "everyone"]},
        [],
        r"not valid: everyone",
    ),
    "unknown colour": ("nginx", {"nginx_active_colour": "purple"}, [], r"nginx_active_colour.*(must be one of|purple)"),
    "unknown database mode": (
        "app_stack",
        {"app_stack_database": "sqlite"},
        [],
        r"app_stack_database.*(must be one of|sqlite)",
    ),
    "external database without a URL": (
        "app_stack",
        {"app_stack_database": "external", "app_stack_database_ca": CA},
        ["app_stack_postgres_password"],
        r"app_stack_database_url \(vault_database_url\) must be a postgresql://",
    ),
    "external database URL that sets its own sslmode": (
        "app_stack",
        {
            "app_stack_database": "external",
            "app_stack_database_ca": CA,
            "app_stack_database_url": EXT_URL + "?sslmode=disable",
        },
        [],
        r"without sslmode/sslrootcert",
    ),
    "external database without a CA in production": (
        "app_stack",
        {"app_stack_database": "external", "app_stack_database_url": EXT_URL},
        [],
        r"the PEM certificate of the service's CA \(required outside development",
    ),
    "metrics ports that clash with a colour port": (
        "app_stack",
        {"app_stack_backend_metrics_ports": {"blue": 3101, "green": 3202}},
        [],
        r"app_stack_backend_metrics_ports needs a blue and a green port \(1-65535\), distinct",
    ),
    "metrics port out of range": (
        "app_stack",
        {"app_stack_backend_metrics_ports": {"blue": 70000, "green": 3202}},
        [],
        r"app_stack_backend_metrics_ports needs a blue and a green port \(1-65535\)",
    ),
    "metrics published on a private address without a password (MON-1)": (
        "app_stack",
        {"app_stack_bind_address": "10.0.0.11", "app_stack_backend_metrics_password": ""},
        [],
        r"the metrics need basic auth:\s+app_stack_backend_metrics_password .* of at least 16 characters \(0\s+given\)",
    ),
    "unverified TLS to the database in production": (
        "app_stack",
        {"app_stack_database_sslmode": "require"},
        [],
        r"app_stack_database_sslmode=require\s+must verify the server",
    ),
}

# Multi-host: (extra vars, topology, expected message). FAKE_HOST is the only host contacted.
TOPOLOGY_CASES = {
    "db host publishing PostgreSQL on a public address": (
        {"app_stack_postgres_listen_address": "203.0.113.5"},
        {
            "groups": {"app": [FAKE_HOST, "app-2"], "db": [FAKE_HOST]},
            "hosts": {"app-2": {"platform_private_address": "10.0.0.12"}},
        },
        r"app_stack_postgres_listen_address .*got\s+'203\.0\.113\.5'\) must be a private address",
    ),
    "app host without a private address beside a db host": (
        {"platform_private_address": ""},
        {"groups": {"app": [FAKE_HOST, "app-2"], "db": [FAKE_HOST]}, "hosts": {"app-2": {}}},
        r"every app host needs platform_private_address",
    ),
    "db host reached on loopback": (
        {},
        {"groups": {"app": [FAKE_HOST], "db": ["db-1"]}, "hosts": {"db-1": {"ansible_host": "127.0.0.1"}}},
        r"reaches PostgreSQL on db-1 at app_stack_db_address\s+'127\.0\.0\.1'.*private, non-loopback address",
    ),
    "db host that is not in the db group": (
        {"app_stack_db_host": "db-2"},
        {
            "groups": {"app": [FAKE_HOST], "db": ["db-1"]},
            "hosts": {
                "db-1": {"platform_private_address": "10.0.0.13"},
                "db-2": {"platform_private_address": "10.0.0.14"},
            },
        },
        r"reaches PostgreSQL on db-2 .*it must be in the\s+db group",
    ),
}


@pytest.mark.parametrize("case", list(TOPOLOGY_CASES), ids=list(TOPOLOGY_CASES))
def test_bad_topology_fails_before_any_change(tmp_path, case):
    overrides, topology, expected = TOPOLOGY_CASES[case]
    proc = run_role(tmp_path, "app_stack", {**BASE["app_stack"], **overrides}, topology)
    output = flat_output(proc)
    assert proc.returncode != 0, output[-3000:]
    assert re.search(expected, output), output[-3000:]
    assert not HOST_CONTACTED.search(output)  # the host was never contacted


def run_role(tmp_path: Path, role: str, extra: dict, topology: dict | None = None) -> subprocess.CompletedProcess:
    """Run the role on FAKE_HOST; topology optionally adds groups and other (never contacted) hosts."""
    topology = topology or {}
    inventory = write_inventory(tmp_path, FAKE_HOST, groups=topology.get("groups"), hosts=topology.get("hosts"))
    return ansible_playbook(
        write_role_play(tmp_path, role, FAKE_HOST), inventory=inventory, extra_vars=extra, tmp_path=tmp_path
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every case of each role in one run, one missing host per case."""
    results = {}
    for role, base in BASE.items():
        cases = {
            case: {k: v for k, v in {**base, **overrides}.items() if k not in drop}
            for case, (case_role, overrides, drop, _expected) in CASES.items()
            if case_role == role
        }
        results.update(
            run_batch(tmp_path_factory.mktemp(role), role_play(role), cases, prefix=f"mvp-pf-{role}", rename=FAKE_HOST)
        )
    return results


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_fails_before_any_change(runs, case):
    output = runs[case].assert_failed_before_the_host()
    assert re.search(CASES[case][3], output), output[:3000]
    # The weak values themselves are never printed.
    for secret in ("Sh0rt-uniq", "Xq7-long-and-random"):
        assert secret not in runs[case].everything


@pytest.mark.parametrize("role", ["app_stack", "nginx"])
def test_good_input_passes_the_preflight(tmp_path, role):
    """The baselines are valid: the same run gets past the preflight and stops at the missing host."""
    proc = run_role(tmp_path, role, BASE[role])
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    # The first task that needs the host fails on it (unreachable or failed, depending on how
    # the connection plugin reports a missing container): the preflight passed.
    assert HOST_CONTACTED.search(output), output[-3000:]
    assert "Assertion failed" not in output, output[-3000:]
    assert re.search(rf"{FAKE_HOST}\s*:\s*ok=\d+\s+changed=0\s+", output), output[-3000:]
