"""The preflight play of site.yml refuses bad input before anything changes.

Each case copies an inventory to a temporary directory, points its host at the control node
(local connection) and runs the real site.yml: the play must fail in preflight with a message
naming what is wrong, and no task may report a change.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VAULT_PASS = "test-vault-password"  # a throwaway password for a throwaway vault  # noqa: S105


def make_inventory(tmp_path: Path, env: str) -> Path:
    inv = tmp_path / env
    shutil.copytree(ROOT / "inventories" / env / "group_vars", inv / "group_vars")
    (inv / "hosts.yml").write_text(
        "all:\n  children:\n    app:\n      hosts:\n        testhost:\n"
        "  hosts:\n    testhost:\n      ansible_connection: local\n"
        "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
    )
    return inv


def run_site(inv: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    pw = tmp_path / "vault-pass"
    pw.write_text(VAULT_PASS)
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    return subprocess.run(
        ["ansible-playbook", str(ROOT / "site.yml"), "-i", str(inv), "--vault-password-file", str(pw), *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def write_vault(inv: Path, tmp_path: Path, content: str, encrypt: bool) -> None:
    vault = inv / "group_vars" / "all" / "vault.yml"
    vault.write_text(content)
    if encrypt:
        pw = tmp_path / "vault-pass"
        pw.write_text(VAULT_PASS)
        subprocess.run(["ansible-vault", "encrypt", "--vault-password-file", str(pw), str(vault)], check=True)


def assert_refused(proc: subprocess.CompletedProcess, *needles: str) -> None:
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    for needle in needles:
        assert needle in out, out
    assert "changed=0" in out or "changed=" not in out, out


@pytest.mark.parametrize("env", ["staging", "production"])
def test_missing_vault_is_refused(tmp_path, env):
    inv = make_inventory(tmp_path, env)
    assert_refused(run_site(inv, tmp_path), "vault.yml is missing", f"The {env} environment keeps its")


def test_unencrypted_vault_is_refused(tmp_path):
    inv = make_inventory(tmp_path, "production")
    write_vault(inv, tmp_path, "vault_environment: production\n", encrypt=False)
    assert_refused(run_site(inv, tmp_path), "is not encrypted", "ansible-vault encrypt")


def test_vault_of_another_environment_is_refused(tmp_path):
    inv = make_inventory(tmp_path, "production")
    write_vault(inv, tmp_path, "vault_environment: staging\n", encrypt=True)
    assert_refused(run_site(inv, tmp_path), "vault_environment", "must be 'production'")


def test_bad_domain_is_refused(tmp_path):
    inv = make_inventory(tmp_path, "development")
    assert_refused(run_site(inv, tmp_path, "-e", "platform_domain=not_a_domain!"), "platform_domain", "not_a_domain!")


def test_unknown_environment_is_refused(tmp_path):
    inv = make_inventory(tmp_path, "development")
    assert_refused(run_site(inv, tmp_path, "-e", "platform_env=prod"), "platform_env", "prod")
