"""A real registry path (issue 11, APP-3), in order, on the converged platform host.

prepare pushed 1.0.0, 2.0.0 (also tagged by branch and git sha) and 2.1.0 (a migration that fails)
with scripts/push-images.sh to the test registry (TLS from a test CA, htpasswd auth); converge
(site.yml's app_stack and nginx plays) logged in with the vault's credentials, pulled 1.0.0 and
serves it. Under steady HTTPS load (keepalive clients that retry a stale connection once, and
clients that never retry): deploy.yml 1.0.0 again (the installed version becomes a recorded
release), deploy.yml 2.0.0 (with its migration) -> 0 failed requests; deploy.yml
2.1.0 -> its migration fails, the play stops before the switch naming the migration, 2.0.0 keeps
serving, 0 failed requests; an unreachable registry and a wrong password -> a clear error naming
the registry, nothing changed; rollback.yml -> 1.0.0, 0 failed requests. The tests depend on each
other's order (pytest runs them in file order).
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from mvp_molecule import SUMMARY_KEYS, Load, assert_no_failed_requests, out, sh
from mvp_molecule import playbook as run_playbook

testinfra_hosts = ["mvp-reg-app"]

ROOT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
SCENARIO = Path(os.environ.get("MOLECULE_SCENARIO_DIRECTORY", Path(__file__).resolve().parents[1]))
# The conftest's check/diff run and this module's playbooks read the scenario's vault.
os.environ.setdefault("ANSIBLE_VAULT_PASSWORD_FILE", str(SCENARIO / "vault-password"))
os.environ.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".ansible" / "collections"))
MVP = "/opt/mvp"
REGISTRY = "registry.mvp-reg.test:5000"
REPO = f"{REGISTRY}/mvp"
RESULTS = {}


def playbook(name: str, *extra: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """One of the collection's root playbooks (or a scenario playbook) against the scenario's hosts."""
    return run_playbook(name, *extra, timeout=timeout, actor="molecule-registry")


def live(host) -> dict:
    return json.loads(sh(host, f"cat {MVP}/current.json"))


def running(host, colour: str) -> list[str]:
    return sh(host, f"docker ps --filter label=mvp.colour={colour} --format '{{{{.Names}}}}'").split()


def page(host) -> str:
    return sh(host, "curl -fsSk https://mvp-reg.test/")


def registry_api(host, path: str, auth: bool = True) -> tuple[int, dict]:
    """GET the registry's API from the platform host, verifying its certificate with the test CA."""
    creds = '-u "$(cat /root/mvp-reg-creds)"' if auth else ""
    text = sh(
        host,
        f"curl -sS --cacert /root/mvp-reg-ca.crt {creds} -o /tmp/mvp-reg-api.json -w '%{{http_code}}' "
        f"https://{REGISTRY}{path}",
    )
    body = sh(host, "cat /tmp/mvp-reg-api.json")
    return int(text), (json.loads(body) if body.strip().startswith("{") else {})


def under_load(host, name: str) -> Load:
    return Load(host, name, prefix="mvp-reg", results=RESULTS, vhost="mvp-reg.test", keep=SUMMARY_KEYS)


@pytest.fixture(scope="module", autouse=True)
def _registry_creds(host):
    """The registry user's credentials for the tests' own API calls, from the scenario's vault."""
    proc = subprocess.run(
        [
            "ansible",
            "localhost",
            "-i",
            os.environ["MOLECULE_INVENTORY_FILE"],
            "-m",
            "ansible.builtin.debug",
            "-a",
            "msg={{ vault_registry_username }}:{{ vault_registry_password }}",
        ],
        capture_output=True,
        text=True,
        check=True,
        # molecule's verify step forces colours on; they would end up in the credentials.
        env={**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"},
    )
    # The JSON or the YAML result format, whichever ansible.cfg selects.
    creds = re.search(r'"?msg"?:\s*"?([^"\n\x1b]+)', proc.stdout).group(1).strip()
    with host.sudo():
        host.run(f"umask 077; printf '%s' '{creds}' > /root/mvp-reg-creds")
    yield creds
    with host.sudo():
        host.run("rm -f /root/mvp-reg-creds")


def test_the_registry_requires_tls_and_credentials(host):
    code, _ = registry_api(host, "/v2/", auth=False)
    assert code == 401
    code, _ = registry_api(host, "/v2/")
    assert code == 200
    # The certificate is verified against the test CA (curl fails on any other).
    with host.sudo():
        assert host.run(f"curl -sS -o /dev/null https://{REGISTRY}/v2/").rc != 0


def test_push_images_tagged_version_branch_and_sha(host):
    branch = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--abbrev-ref", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    for service in ("frontend", "backend"):
        code, tags = registry_api(host, f"/v2/mvp/{service}/tags/list")
        assert code == 200, tags
        names = set(tags["tags"])
        # 1.0.0, 2.0.0, 2.1.0, the branch and the git sha (of the commit prepare pushed from).
        shas = [t for t in names if re.fullmatch(r"[0-9a-f]{12}", t)]
        assert names == {"1.0.0", "2.0.0", "2.1.0", re.sub(r"[^A-Za-z0-9_.-]", "-", branch), *shas}, names
        assert len(shas) == 1, names
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "cat-file", "-t", shas[0]], capture_output=True, text=True, check=False
        )
        assert commit.stdout.strip() == "commit", (shas, commit.stderr)
        # The branch and sha tags are the same image as 2.0.0.
        digests = set()
        for tag in ("2.0.0", *(names - {"1.0.0", "2.0.0", "2.1.0"})):
            text = sh(
                host,
                'curl -sS --cacert /root/mvp-reg-ca.crt -u "$(cat /root/mvp-reg-creds)" -o /dev/null -D - '
                "-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "
                f"https://{REGISTRY}/v2/mvp/{service}/manifests/{tag}",
            )
            digests.add(re.search(r"(?im)^docker-content-digest:\s*(\S+)", text).group(1))
        assert len(digests) == 1, (service, digests)


def test_site_yml_logged_in_pulled_and_serves_1_0_0(host):
    assert live(host)["version"] == "1.0.0"
    assert "frontend version 1.0.0" in page(host)
    config = json.loads(sh(host, "cat /root/.docker/config.json"))
    assert REGISTRY in config["auths"], config.keys()
    assert host.file(f"/etc/docker/certs.d/{REGISTRY}/ca.crt").exists
    digests = sh(host, f"docker image inspect -f '{{{{json .RepoDigests}}}}' {REPO}/backend:1.0.0")
    assert f"{REPO}/backend@sha256:" in digests


def test_check_diff_on_the_converged_host_changes_nothing(check_diff_run, _registry_creds):
    assert check_diff_run["rc"] == 0, check_diff_run["output"]
    assert check_diff_run["recap"], check_diff_run["output"]
    assert not check_diff_run["changed"], check_diff_run["output"]
    assert _registry_creds.split(":", 1)[1] not in check_diff_run["output"], "the registry password was printed"


def test_deploy_1_0_0_from_the_registry_under_load(host):
    """The installed version again, into the other colour: recorded as a release rollback.yml can return to."""
    old = live(host)["colour"]
    with under_load(host, "deploy-1.0.0") as load:
        proc = playbook("deploy.yml", "-e", "app_version=1.0.0")
    assert proc.returncode == 0, out(proc)
    RESULTS["deploy_1.0.0_wall_s"] = proc.wall_s
    assert_no_failed_requests(load)
    assert live(host)["version"] == "1.0.0" and live(host)["colour"] != old


def test_deploy_2_0_0_with_its_migration_under_load(host):
    old = live(host)["colour"]
    with under_load(host, "deploy-2.0.0") as load:
        proc = playbook("deploy.yml", "-e", "app_version=2.0.0")
    assert proc.returncode == 0, out(proc)
    RESULTS["deploy_2.0.0_wall_s"] = proc.wall_s
    assert_no_failed_requests(load)
    now = live(host)
    assert now["version"] == "2.0.0" and now["colour"] != old
    assert running(host, old) == []
    assert "frontend version 2.0.0" in page(host)
    log = json.loads(sh(host, f"cat {MVP}/releases.json"))
    assert log[-1]["version"] == "2.0.0" and log[-1]["migrated"] is True and log[-1]["result"] == "success"
    assert any(d.startswith(f"{REPO}/backend@sha256:") for d in log[-1]["images"]["backend"]["digests"]), log[-1]
    # The migration of 2.0.0 ran against the database before the switch.
    health = json.loads(sh(host, "curl -fsSk https://mvp-reg.test/api/health"))
    assert health["database"]["schema_version"] == "2.0.0", health
    # The password never reaches the output.
    assert sh(host, "cut -d: -f2- /root/mvp-reg-creds") not in proc.stdout + proc.stderr


def test_a_release_whose_migration_fails_stops_before_the_switch(host):
    before = live(host)
    with under_load(host, "deploy-2.1.0") as load:
        proc = playbook("deploy.yml", "-e", "app_version=2.1.0")
    # The whole output: a failed release prints the new colour's logs after the message.
    text = proc.stdout + proc.stderr
    RESULTS["deploy_2.1.0_wall_s"] = proc.wall_s
    assert proc.returncode != 0, out(proc)
    assert "Release 2.1.0 FAILED" in text, out(proc)
    assert "nginx was never switched" in text, out(proc)
    named = r"The database migration of release 2\.1\.0 failed: `migrate` \(app_stack_migrate_command\)"
    assert re.search(named, text), out(proc)
    assert "migration failed on purpose" in text, out(proc)  # the migration's own output
    assert_no_failed_requests(load)
    for path in ("/", "/api/health"):
        assert set(load.result["versions"][path]) == {"2.0.0"}, load.result["versions"]
    assert live(host) == before
    new = "green" if before["colour"] == "blue" else "blue"
    assert running(host, new) == [], "nothing of the failed release may run"
    log = json.loads(sh(host, f"cat {MVP}/releases.json"))
    assert log[-1]["version"] == "2.1.0" and log[-1]["result"] == "failed"
    assert "migration" in log[-1]["error"]
    assert not host.file(f"{MVP}/deploy.lock").exists


@pytest.mark.parametrize(
    ("case", "extra", "expected"),
    [
        (
            "unreachable",
            ["-e", "app_stack_registry_url=registry.mvp-reg.test:5999"],
            r"Cannot log in to the registry registry\.mvp-reg\.test:5999 \(app_stack_registry_url\) as 'mvp-ci': "
            r".*(connection refused|connect)",
        ),
        (
            "wrong password",
            ["-e", "vault_registry_password=not-the-password-0123456789"],
            r"Cannot log in to the registry registry\.mvp-reg\.test:5000 \(app_stack_registry_url\) as 'mvp-ci': "
            r".*(401|nauthorized|incorrect)",
        ),
    ],
    ids=["unreachable", "wrong-password"],
)
def test_a_registry_that_cannot_be_used_fails_clearly_and_changes_nothing(host, case, extra, expected):
    before = live(host)
    config = sh(host, "cat /root/.docker/config.json")
    proc = playbook("deploy.yml", "-e", "app_version=1.0.0", *extra)
    # The whole output: a failed release prints the new colour's logs after the message.
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0, out(proc)
    assert re.search(expected, text, re.I | re.S), out(proc)
    assert "nginx was never switched" in text, out(proc)
    assert "not-the-password" not in text
    assert live(host) == before
    assert sh(host, "cat /root/.docker/config.json") == config, "the stored login must stay as it was"
    assert f"frontend version {before['version']}" in page(host)


def test_rollback_returns_to_1_0_0_under_load(host):
    with under_load(host, "rollback") as load:
        proc = playbook("rollback.yml")
    assert proc.returncode == 0, out(proc)
    RESULTS["rollback_wall_s"] = proc.wall_s
    assert_no_failed_requests(load)
    assert live(host)["version"] == "1.0.0"
    assert "frontend version 1.0.0" in page(host)


def test_site_yml_after_the_releases_is_idempotent(host):
    before = live(host)
    proc = playbook(str(SCENARIO / "converge.yml"))
    assert proc.returncode == 0, out(proc)
    recap = re.search(r"mvp-reg-app\s+:\s+ok=\d+\s+changed=(\d+)", proc.stdout)
    assert recap and recap.group(1) == "0", out(proc)
    assert live(host) == before


@pytest.fixture(scope="session", autouse=True)
def _write_results():
    yield
    path = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", SCENARIO)) / "registry-load.json"
    path.write_text(json.dumps(RESULTS, indent=2))
    print(f"\nREGISTRY SCENARIO RESULTS: {json.dumps(RESULTS)}")
