"""Docker's apt repository source (docker_install_source: docker), rendered without installing.

The repository is not reachable from the test machines, so the molecule scenarios use the
distro source; this renders the role's deb822 template for each supported platform with the
role's own defaults and internal variables, checks every field, and (where apt is available)
lets apt parse it and list the index it would download.
"""

import shutil
import subprocess
from pathlib import Path

import jinja2
import pytest
import yaml

ROLE = Path(__file__).resolve().parents[2] / "roles" / "docker"

PLATFORMS = [
    ("Debian", "trixie", "x86_64"),
    ("Debian", "bookworm", "aarch64"),
    ("Ubuntu", "noble", "x86_64"),
    ("Ubuntu", "jammy", "aarch64"),
]


def role_vars():
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    internal = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    return {**defaults, **internal}


def render(distribution, codename, architecture):
    variables = role_vars()
    # The same expressions as tasks/repo_docker.yml computes from the facts.
    variables.update(
        ansible_managed="Ansible managed",
        _docker_apt_distribution=distribution.lower(),
        _docker_apt_codename=codename,
        _docker_apt_arch=variables["_docker_arch_map"][architecture],
    )
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, autoescape=False)  # noqa: S701 - an apt source, not HTML
    template = env.from_string((ROLE / "templates" / "docker.sources.j2").read_text())
    return template.render(**variables)


def fields(text):
    return dict(line.split(": ", 1) for line in text.splitlines() if line and not line.startswith("#"))


@pytest.mark.parametrize(("distribution", "codename", "architecture"), PLATFORMS)
def test_rendered_source_fields(distribution, codename, architecture):
    source = fields(render(distribution, codename, architecture))
    assert source == {
        "Types": "deb",
        "URIs": f"https://download.docker.com/linux/{distribution.lower()}",
        "Suites": codename,
        "Components": "stable",
        "Architectures": {"x86_64": "amd64", "aarch64": "arm64"}[architecture],
        "Signed-By": "/etc/apt/keyrings/docker.asc",
    }


def test_task_file_renders_this_template_to_the_deb822_path():
    tasks = yaml.safe_load((ROLE / "tasks" / "repo_docker.yml").read_text())
    template_tasks = [t for t in tasks if "ansible.builtin.template" in t]
    assert [t["ansible.builtin.template"]["src"] for t in template_tasks] == ["docker.sources.j2"]
    assert role_vars()["_docker_apt_source"].endswith(".sources")
    # The key is pinned to Docker's release key fingerprint.
    assert role_vars()["docker_apt_key_fingerprint"] == "9DC858229FC7DD38854AE2D88D81803C0EBFCD88"


@pytest.mark.skipif(shutil.which("apt-get") is None, reason="apt-get is not available on this machine")
@pytest.mark.parametrize(("distribution", "codename", "architecture"), PLATFORMS[:1])
def test_apt_parses_the_source(tmp_path, distribution, codename, architecture):
    parts = tmp_path / "sources.list.d"
    parts.mkdir()
    (tmp_path / "partial").mkdir()
    (parts / "docker.sources").write_text(render(distribution, codename, architecture))
    proc = subprocess.run(
        [
            "apt-get",
            "-o",
            "Dir::Etc::SourceList=/dev/null",
            "-o",
            f"Dir::Etc::SourceParts={parts}",
            "-o",
            f"Dir::State::Lists={tmp_path}",
            "indextargets",
            "--no-release-info",
            "--format",
            "$(URI)",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"https://download.docker.com/linux/debian/dists/{codename}/stable/binary-amd64/Packages" in proc.stdout
