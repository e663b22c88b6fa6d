"""The Docker bootstrap stops at once, with a message, where it cannot provide a daemon."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("runuser") is None, reason="needs root to run as nobody")
def test_no_daemon_and_not_root_stops_with_a_message(tmp_path):
    # The script's text is handed to bash, so nobody needs no access to this checkout.
    script = (ROOT / "scripts" / "ensure-docker.sh").read_text()
    env = {"PATH": os.environ["PATH"], "DOCKER_HOST": "unix:///nonexistent/no-such.sock", "HOME": "/tmp"}
    proc = subprocess.run(
        ["runuser", "-u", "nobody", "--", "bash", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert "no Docker daemon answers and this is not root" in proc.stderr
    assert "docs.docker.com" in proc.stderr


def test_forbidden_bootstrap_stops_with_a_message(tmp_path):
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-such.sock", "MVP_NO_DOCKER_BOOTSTRAP": "1"}
    proc = subprocess.run(
        [str(ROOT / "scripts" / "ensure-docker.sh")], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert proc.returncode == 1
    assert "no Docker daemon answers" in proc.stderr
