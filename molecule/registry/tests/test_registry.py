"""A real registry path (issue 11, APP-3) with the reference application, in order, on the platform host.

prepare built the application's next releases from its 1.0.0 images (`make app-images`):
2.0.0 adds a third migration (MIGRATION_2_0_0: a nullable column and an index on
payment_notifications, expand only) and 2.1.0 a fourth that fails (MIGRATION_2_1_0), see
files/release-images; it pushed 1.0.0, 2.0.0 (also tagged by branch and git sha) and 2.1.0 with
scripts/push-images.sh to the test registry (TLS from a test CA, htpasswd auth). converge
(site.yml's app_stack and nginx plays) logged in with the vault's credentials, pulled 1.0.0 and
serves it. Under steady HTTPS load (keepalive clients that retry a stale connection once, and
clients that never retry): deploy.yml 1.0.0 again (the installed version becomes a recorded
release), deploy.yml 2.0.0 (its migration runs before the switch; /api/health then reports the
new schema version) -> 0 failed requests; deploy.yml 2.1.0 -> its migration fails, the play stops
before the switch naming the migration and PostgreSQL's error, 2.0.0 keeps serving, nothing of the
failing migration stays in the schema, 0 failed requests; an unreachable registry and a wrong
password -> a clear error naming the registry, nothing changed; rollback.yml -> 1.0.0, 0 failed
requests, and 1.0.0 keeps working (reads and writes) on 2.0.0's schema. The tests depend on each
other's order (pytest runs them in file order). The numbers (wall time, requests and failures per
step, image sizes) go to benchmarks/results/registry_scenario.json after a run through every step.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from mvp_molecule import SUMMARY_KEYS, Load, assert_no_failed_requests, out, sh, tbank_notification, tbank_signed
from mvp_molecule import playbook as run_playbook

testinfra_hosts = ["mvp-reg-app"]

ROOT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
SCENARIO = Path(os.environ.get("MOLECULE_SCENARIO_DIRECTORY", Path(__file__).resolve().parents[1]))
EPHEMERAL = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", SCENARIO))
# The conftest's check/diff run and this module's playbooks read the scenario's vault.
os.environ.setdefault("ANSIBLE_VAULT_PASSWORD_FILE", str(SCENARIO / "vault-password"))
os.environ.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".ansible" / "collections"))
MVP = "/opt/mvp"
REGISTRY = "registry.mvp-reg.test:5000"
REPO = f"{REGISTRY}/mvp"
VERSIONS = ("1.0.0", "2.0.0", "2.1.0")
BENCH_RESULT = ROOT / "benchmarks" / "results" / "registry_scenario.json"
# The backend's port per colour on the host (app_stack_colour_ports' defaults): the payment webhook
# is open only to the gateway's addresses through nginx, so the tests post to the live backend.
BACKEND_PORTS = {"blue": 3101, "green": 3201}
# The test terminal of group_vars/all/app_stack.yml.
TERMINAL_KEY, TERMINAL_PASSWORD = "reg-terminal-key", "reg-terminal-password"


def _release_migration(version: str) -> str:
    """The migration a release adds (files/release-images/<version>/migrations/<name>)."""
    return max(p.name for p in (SCENARIO / "files" / "release-images" / version / "migrations").iterdir() if p.is_dir())


MIGRATION_2_0_0 = _release_migration("2.0.0")
MIGRATION_2_1_0 = _release_migration("2.1.0")

LOADS: dict = {}  # the load generator's summaries, by step (Load fills it)
STEPS: dict = {}  # per release step: wall time, requests, failures, ...
IMAGES: dict = {}  # per image: compressed size in the registry, size on the host
SCHEMA: dict = {}  # the schema versions /api/health reported


def playbook(name: str, *extra: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """One of the collection's root playbooks (or a scenario playbook) against the scenario's hosts."""
    return run_playbook(name, *extra, timeout=timeout, actor="molecule-registry")


def live(host) -> dict:
    return json.loads(sh(host, f"cat {MVP}/current.json"))


def running(host, colour: str) -> list[str]:
    return sh(host, f"docker ps --filter label=mvp.colour={colour} --format '{{{{.Names}}}}'").split()


def page(host) -> str:
    return sh(host, "curl -fsSk https://mvp-reg.test/")


def health(host) -> dict:
    """The live backend's /api/health through nginx (200 only when status is ok)."""
    return json.loads(sh(host, "curl -fsSk https://mvp-reg.test/api/health"))


def psql(host, query: str) -> str:
    psql_cmd = "docker exec -u postgres mvp-data-postgres-1 psql -X -At -v ON_ERROR_STOP=1 -U mvp -d mvp"
    return sh(host, f"{psql_cmd} -c {shlex.quote(query)}").strip()


def migration_row(host, name: str) -> str:
    """`finished|logs` of one migration in Prisma's table (t/f), empty when it is not there."""
    assert re.fullmatch(r"[0-9]{14}_[a-z_]+", name), name
    query = f"SELECT finished_at IS NOT NULL, logs FROM _prisma_migrations WHERE migration_name = '{name}'"  # noqa: S608
    return psql(host, query + " AND rolled_back_at IS NULL")


def notification_row(host, payment_id: str) -> str:
    """`status|processed_at is null` of the notification the tests sent for payment_id (digits)."""
    assert payment_id.isdigit(), payment_id
    query = f"SELECT status, processed_at IS NULL FROM payment_notifications WHERE payment_id = '{payment_id}'"  # noqa: S608
    return psql(host, query)


def columns(host) -> set[str]:
    return set(
        psql(
            host, "SELECT column_name FROM information_schema.columns WHERE table_name = 'payment_notifications'"
        ).split()
    )


def releases(host) -> list[dict]:
    return json.loads(sh(host, f"cat {MVP}/releases.json"))


def release_duration(host, version: str) -> float | None:
    """The release role's own duration of the last release event, when it is this version's."""
    with host.sudo():
        text = host.run(f"cat {MVP}/releases.json").stdout
    event = (json.loads(text) if text.strip() else [{}])[-1]
    return float(event["duration_s"]) if event.get("version") == version else None


def notify(host) -> str:
    """A signed payment notification to the live backend; the payment id (digits) once it answered OK."""
    payment_id = str(time.time_ns())
    body = tbank_signed(tbank_notification(TERMINAL_KEY, payment_id), TERMINAL_PASSWORD)
    port = BACKEND_PORTS[live(host)["colour"]]
    answer = sh(
        host,
        "curl -fsS -X POST -H 'Content-Type: application/json' "
        f"--data-binary {shlex.quote(json.dumps(body))} http://127.0.0.1:{port}/api/payments/webhook",
    )
    assert answer == "OK", answer
    return payment_id


def registry_api(host, path: str, auth: bool = True, accept: str = "") -> tuple[int, dict]:
    """GET the registry's API from the platform host, verifying its certificate with the test CA."""
    creds = '-u "$(cat /root/mvp-reg-creds)"' if auth else ""
    header = f"-H {shlex.quote('Accept: ' + accept)}" if accept else ""
    text = sh(
        host,
        f"curl -sS -L --cacert /root/mvp-reg-ca.crt {creds} {header} -o /tmp/mvp-reg-api.json -w '%{{http_code}}' "
        f"https://{REGISTRY}{path}",
    )
    body = sh(host, "cat /tmp/mvp-reg-api.json")
    return int(text), (json.loads(body) if body.strip().startswith("{") else {})


MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


def under_load(host, name: str) -> Load:
    return Load(host, name, prefix="mvp-reg", results=LOADS, vhost="mvp-reg.test", keep=SUMMARY_KEYS)


def record(name: str, proc, load: Load | None = None, **extra) -> None:
    """One release step's numbers, recorded before its assertions (a failing step is recorded too)."""
    entry = {"wall_s": proc.wall_s, "rc": proc.returncode, **extra}
    if load is not None and load.result:
        r = load.result
        entry |= {
            "requests": r["requests"],
            "failed": r["failed"],
            "no_retry": {
                **r["no_retry"],
                "share_of_requests": round(r["no_retry"]["requests"] / r["requests"], 3) if r["requests"] else None,
            },
            "stale_keepalive_retries": r["stale_keepalive_retries"],
            "longest_gap_ms": r["longest_gap_ms"],
            "load_duration_s": r["duration_s"],
            "versions_served": {path: {v: s["count"] for v, s in seen.items()} for path, seen in r["versions"].items()},
        }
    STEPS[name] = entry


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
        assert names == {*VERSIONS, re.sub(r"[^A-Za-z0-9_.-]", "-", branch), *shas}, names
        assert len(shas) == 1, names
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "cat-file", "-t", shas[0]], capture_output=True, text=True, check=False
        )
        assert commit.stdout.strip() == "commit", (shas, commit.stderr)
        # The branch and sha tags are the same image as 2.0.0.
        digests = set()
        for tag in ("2.0.0", *(names - set(VERSIONS))):
            text = sh(
                host,
                'curl -sS --cacert /root/mvp-reg-ca.crt -u "$(cat /root/mvp-reg-creds)" -o /dev/null -D - '
                f"-H 'Accept: {MANIFEST_V2}' https://{REGISTRY}/v2/mvp/{service}/manifests/{tag}",
            )
            digests.add(re.search(r"(?im)^docker-content-digest:\s*(\S+)", text).group(1))
        assert len(digests) == 1, (service, digests)


def test_the_registry_holds_the_reference_application(host):
    """Each version's images are the application's (their OCI labels), not the stand-ins; their sizes."""
    for service in ("frontend", "backend", "postgres"):
        seen: set[str] = set()
        for version in VERSIONS if service != "postgres" else ("17",):
            code, manifest = registry_api(host, f"/v2/mvp/{service}/manifests/{version}", accept=MANIFEST_V2)
            assert code == 200, (service, version, manifest)
            layers = {layer["digest"]: layer["size"] for layer in manifest["layers"]}
            IMAGES[f"{service}:{version}"] = {
                "layers": len(layers),
                "compressed_bytes": manifest["config"]["size"] + sum(layers.values()),
                # What a host that has the earlier versions downloads for this one.
                "new_compressed_bytes": manifest["config"]["size"]
                + sum(size for digest, size in layers.items() if digest not in seen),
            }
            seen |= set(layers)
            if service == "postgres":
                continue
            code, config = registry_api(host, f"/v2/mvp/{service}/blobs/{manifest['config']['digest']}")
            assert code == 200, config
            labels = config["config"]["Labels"]
            # The application's Dockerfiles' titles; the stand-ins say "(test fixture)".
            assert labels["org.opencontainers.image.title"] == f"mvp-{service}", labels
            assert labels["org.opencontainers.image.version"] == version, labels
            assert f"APP_VERSION={version}" in config["config"]["Env"], config["config"]["Env"]
            # The application's commit the image was built from (build-app-images.sh's label).
            IMAGES[f"{service}:{version}"]["revision"] = labels.get("org.opencontainers.image.revision")
        if service != "postgres":
            # The releases are 1.0.0 plus a small layer: a host with 1.0.0 pulls only that.
            new, whole = (
                IMAGES[f"{service}:2.0.0"]["new_compressed_bytes"],
                IMAGES[f"{service}:1.0.0"]["compressed_bytes"],
            )
            assert new < whole / 10, IMAGES


def test_site_yml_logged_in_pulled_and_serves_1_0_0(host):
    # How long the first converge (site.yml's plays on the fresh host) took: converge.yml notes it.
    started, ended = EPHEMERAL / "converge-started", EPHEMERAL / "converge-ended"
    if started.exists() and ended.exists():
        STEPS["site_yml_fresh_host"] = {
            "wall_s": round(float(ended.read_text()) - float(started.read_text()), 1),
            "what": "molecule's converge: login, pull 1.0.0 and PostgreSQL, migrate, start, nginx",
        }
    assert live(host)["version"] == "1.0.0"
    text = page(host)
    assert "frontend version 1.0.0" in text, text[:2000]
    now = health(host)
    assert now["status"] == "ok" and now["version"] == "1.0.0", now
    # The fresh host's first start ran 1.0.0's migrations: the schema is the one it ships.
    assert now["database"]["schema_version"] == now["database"]["expected_schema_version"], now
    SCHEMA["1.0.0"] = now["database"]["expected_schema_version"]
    assert SCHEMA["1.0.0"] < MIGRATION_2_0_0, now
    # The page renders the backend's health server-side (the frontend reaches its backend).
    assert f"schema {SCHEMA['1.0.0']}" in text, text[:2000]
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
    record("deploy_1.0.0", proc, load, release_duration_s=release_duration(host, "1.0.0"))
    assert proc.returncode == 0, out(proc)
    assert_no_failed_requests(load)
    assert live(host)["version"] == "1.0.0" and live(host)["colour"] != old


def test_deploy_2_0_0_with_its_migration_under_load(host):
    old = live(host)["colour"]
    assert "processed_at" not in columns(host)
    with under_load(host, "deploy-2.0.0") as load:
        proc = playbook("deploy.yml", "-e", "app_version=2.0.0")
    record("deploy_2.0.0", proc, load, release_duration_s=release_duration(host, "2.0.0"), migration=MIGRATION_2_0_0)
    assert proc.returncode == 0, out(proc)
    assert_no_failed_requests(load)
    now = live(host)
    assert now["version"] == "2.0.0" and now["colour"] != old
    assert running(host, old) == []
    # 1.0.0 served until the switch, 2.0.0 after it; nothing else.
    for path in ("/", "/api/health"):
        assert set(load.result["versions"][path]) <= {"1.0.0", "2.0.0"}, load.result["versions"]
        assert "2.0.0" in load.result["versions"][path], load.result["versions"]
    assert "frontend version 2.0.0" in page(host)
    log = releases(host)
    assert log[-1]["version"] == "2.0.0" and log[-1]["migrated"] is True and log[-1]["result"] == "success"
    assert any(d.startswith(f"{REPO}/backend@sha256:") for d in log[-1]["images"]["backend"]["digests"]), log[-1]
    # The migration of 2.0.0 ran against the database before the switch, and the new backend
    # requires it: its health names the new migration as both applied and expected.
    after = health(host)
    assert after["status"] == "ok" and after["version"] == "2.0.0", after
    assert after["database"]["schema_version"] == MIGRATION_2_0_0, after
    assert after["database"]["expected_schema_version"] == MIGRATION_2_0_0, after
    SCHEMA["2.0.0"] = MIGRATION_2_0_0
    assert "processed_at" in columns(host)
    assert migration_row(host, MIGRATION_2_0_0) == "t|"
    # 2.0.0 records payments on its schema.
    assert notification_row(host, notify(host)) == "CONFIRMED|t"
    # The password never reaches the output.
    assert sh(host, "cut -d: -f2- /root/mvp-reg-creds") not in proc.stdout + proc.stderr


def test_a_release_whose_migration_fails_stops_before_the_switch(host):
    before = live(host)
    with under_load(host, "deploy-2.1.0") as load:
        proc = playbook("deploy.yml", "-e", "app_version=2.1.0")
    # The whole output: a failed release prints the new colour's logs after the message.
    text = proc.stdout + proc.stderr
    duration = release_duration(host, "2.1.0")
    record("deploy_2.1.0", proc, load, release_duration_s=duration, migration=MIGRATION_2_1_0, expected="failed")
    assert proc.returncode != 0, out(proc)
    assert "Release 2.1.0 FAILED" in text, out(proc)
    assert "nginx was never switched" in text, out(proc)
    named = r"The database migration of release 2\.1\.0 failed: `node dist/migrate/cli\.js deploy` "
    assert re.search(named + r"\(app_stack_migrate_command\)", text), out(proc)
    # The runner's own error: the migration's name and PostgreSQL's reason.
    reason = rf"migration {MIGRATION_2_1_0} failed: column \W*payload_currency\W* does not exist"
    assert re.search(reason, text), out(proc)
    assert_no_failed_requests(load)
    for path in ("/", "/api/health"):
        assert set(load.result["versions"][path]) == {"2.0.0"}, load.result["versions"]
    assert live(host) == before
    new = "green" if before["colour"] == "blue" else "blue"
    assert running(host, new) == [], "nothing of the failed release may run"
    log = releases(host)
    assert log[-1]["version"] == "2.1.0" and log[-1]["result"] == "failed"
    assert MIGRATION_2_1_0 in log[-1]["error"], log[-1]["error"]
    assert not host.file(f"{MVP}/deploy.lock").exists
    # The failing script ran as one transaction: its first statement (ADD COLUMN currency) is
    # gone with it; the runner recorded the migration as failed, with PostgreSQL's error.
    assert "currency" not in columns(host)
    failed = migration_row(host, MIGRATION_2_1_0)
    assert failed.startswith("f|") and "payload_currency" in failed, failed
    # 2.0.0 still serves at its schema.
    now = health(host)
    assert now["status"] == "ok" and now["version"] == "2.0.0", now
    assert now["database"]["schema_version"] == MIGRATION_2_0_0, now


def test_pulled_image_sizes(host):
    """What the host pulled from the registry, per image, as Docker stores it (uncompressed)."""
    for name in [f"{s}:{v}" for v in VERSIONS for s in ("frontend", "backend")] + ["postgres:17"]:
        size = sh(host, f"docker image inspect -f '{{{{.Size}}}}' {REPO}/{name}").strip()
        IMAGES.setdefault(name, {})["bytes_on_host"] = int(size)


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
    record(f"refused_{case.replace(' ', '_')}", proc, expected="failed")
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
    record("rollback_to_1.0.0", proc, load, release_duration_s=release_duration(host, "1.0.0"))
    assert proc.returncode == 0, out(proc)
    assert_no_failed_requests(load)
    assert live(host)["version"] == "1.0.0"
    assert "frontend version 1.0.0" in page(host)


def test_1_0_0_keeps_working_on_the_schema_of_2_0_0(host):
    """A rollback does not undo migrations: 1.0.0 runs on 2.0.0's expanded schema, reads and writes."""
    now = health(host)
    assert now["status"] == "ok" and now["version"] == "1.0.0", now
    # The database stays at 2.0.0's migration; 1.0.0 needs only its own, older one.
    assert now["database"]["schema_version"] == MIGRATION_2_0_0, now
    assert now["database"]["expected_schema_version"] == SCHEMA["1.0.0"], now
    # 1.0.0 does not know processed_at: its insert leaves it NULL.
    row = notification_row(host, notify(host))
    assert row == "CONFIRMED|t", row


def test_site_yml_after_the_releases_is_idempotent(host):
    before = live(host)
    proc = playbook(str(SCENARIO / "converge.yml"))
    record("site_yml_after_the_releases", proc)
    assert proc.returncode == 0, out(proc)
    recap = re.search(r"mvp-reg-app\s+:\s+ok=\d+\s+changed=(\d+)", proc.stdout)
    assert recap and recap.group(1) == "0", out(proc)
    STEPS["site_yml_after_the_releases"]["changed"] = int(recap.group(1))
    assert live(host) == before


def _seconds(delta: str) -> float:
    """The command module's duration (H:MM:SS.ffffff) in seconds."""
    h, m, s = delta.split(":")
    return round(int(h) * 3600 + int(m) * 60 + float(s), 1)


def _prepare_times() -> dict:
    path = EPHEMERAL / "registry-prepare.json"
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    return {
        "build_release_images_s": {k: _seconds(v) for k, v in data.get("build", {}).items()},
        "push_images_s": {k: _seconds(v) for k, v in data.get("push", {}).items()},
    }


@pytest.fixture(scope="session", autouse=True)
def _write_results(request):
    yield
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    # The scenario's own files as they ran: uncommitted changes to them are named.
    changes = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", "molecule/registry", "scripts/push-images.sh"],
        capture_output=True,
        text=True,
        check=False,
    )
    document = {
        "scenario": "molecule/registry: mvp-reg-app (app, proxy, db) pulls from mvp-reg-registry "
        "(Debian's docker-registry, TLS from a test CA, htpasswd)",
        "application": "the reference application (app/): Next.js frontend, NestJS backend, PostgreSQL 17",
        "releases": {
            "1.0.0": f"make app-images; schema {SCHEMA.get('1.0.0')}",
            "2.0.0": f"1.0.0 + migration {MIGRATION_2_0_0} (files/release-images/2.0.0)",
            "2.1.0": f"2.0.0 + migration {MIGRATION_2_1_0}, which fails (files/release-images/2.1.0)",
        },
        "measured_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": commit.stdout.strip() or None,
        "uncommitted_scenario_changes": changes.stdout.splitlines(),
        "machine": {"cpus": os.cpu_count()},
        "tests_failed": request.session.testsfailed,
        "load": "4 keep-alive HTTPS clients that retry a stale connection once + 2 that never retry, "
        "GET / and /api/health in turn, 50 ms apart, through nginx on the platform host",
        "prepare": _prepare_times(),
        "steps": STEPS,
        "images": IMAGES,
    }
    (EPHEMERAL / "registry-load.json").write_text(json.dumps(document, indent=2) + "\n")
    complete = {"deploy_1.0.0", "deploy_2.0.0", "deploy_2.1.0", "rollback_to_1.0.0"} <= STEPS.keys()
    if complete and len(IMAGES) == 7:
        BENCH_RESULT.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nREGISTRY SCENARIO RESULTS ({'written to ' + str(BENCH_RESULT) if complete else 'incomplete run'}):")
    print(json.dumps(document, indent=1))
