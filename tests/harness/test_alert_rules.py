"""The monitoring role's alert rules: valid, and each rule unit-tested (fires and does not fire).

The rules file is a template of the role (thresholds and `for:` durations are variables), so it is
rendered first with the role's defaults by ansible-playbook on localhost, exactly as the role
renders it (with the optional Redis group switched on, so that it is tested too). Then
`promtool check rules` and `promtool test rules` run the unit tests in
roles/monitoring/files/tests/*.yml against it.

promtool comes from Debian's `promtool` package (Debian 13; on Debian 12 and Ubuntu it is part of
the `prometheus` package). Without it these tests are skipped, saying so.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from _runner import ansible_playbook

ROOT = Path(__file__).resolve().parents[2]

ROLE = ROOT / "roles" / "monitoring"
TESTS_DIR = ROLE / "files" / "tests"
TEST_FILES = sorted(TESTS_DIR.glob("*.yml"))
PROMTOOL = os.environ.get("PROMTOOL") or shutil.which("promtool")

pytestmark = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool is not installed: `apt-get install promtool` (Debian 13) or "
    "`apt-get install --no-install-recommends prometheus` (Debian 12, Ubuntu), or set PROMTOOL",
)

RENDER_PLAYBOOK = """
- name: Render the monitoring role's alert rules with its defaults
  hosts: localhost
  gather_facts: false
  vars_files:
    - {role}/defaults/main.yml
    - {role}/vars/main.yml
  tasks:
    - name: Render the rules template
      ansible.builtin.template:
        src: {role}/templates/mvp.rules.yml.j2
        dest: {dest}
        mode: "0644"
"""


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A directory holding the rendered rules file and copies of the rule tests beside it."""
    work = tmp_path_factory.mktemp("alert-rules")
    playbook = work / "render.yml"
    playbook.write_text(RENDER_PLAYBOOK.format(role=ROLE, dest=work / "mvp.rules.yml"))
    proc = ansible_playbook(
        playbook,
        "-c",
        "local",
        "-e",
        "platform_env=production",
        # The optional groups too, so that every rule is tested.
        "-e",
        "monitoring_redis_enabled=true",
        "-e",
        "ansible_python_interpreter={{ ansible_playbook_python }}",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for test_file in TEST_FILES:
        shutil.copy(test_file, work / test_file.name)
    return work


def alert_names(rules_file: Path) -> list[str]:
    data = yaml.safe_load(rules_file.read_text())
    return [rule["alert"] for group in data["groups"] for rule in group["rules"] if "alert" in rule]


def test_rules_are_valid(workdir: Path) -> None:
    proc = subprocess.run(
        [PROMTOOL, "check", "rules", str(workdir / "mvp.rules.yml")], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(alert_names(workdir / "mvp.rules.yml")) >= 20


@pytest.mark.parametrize("test_file", TEST_FILES, ids=[p.stem for p in TEST_FILES])
def test_rule_unit_tests_pass(workdir: Path, test_file: Path) -> None:
    proc = subprocess.run(
        [PROMTOOL, "test", "rules", test_file.name],
        capture_output=True,
        text=True,
        cwd=workdir,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_rule_is_tested_firing_and_not_firing(workdir: Path) -> None:
    """Each alert has at least one case where it fires and one where it does not."""
    fires: set[str] = set()
    quiet: set[str] = set()
    for test_file in TEST_FILES:
        for case in yaml.safe_load(test_file.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (fires if check.get("exp_alerts") else quiet).add(check["alertname"])
    alerts = set(alert_names(workdir / "mvp.rules.yml"))
    assert not alerts - fires, f"alerts without a firing test: {sorted(alerts - fires)}"
    assert not alerts - quiet, f"alerts without a not-firing test: {sorted(alerts - quiet)}"
    assert not (fires | quiet) - alerts, f"tests of unknown alerts: {sorted((fires | quiet) - alerts)}"
