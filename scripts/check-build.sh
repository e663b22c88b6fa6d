#!/usr/bin/env bash
# The collection as users get it: build the tarball, install it into an empty collections path,
# and syntax-check the site playbook by FQCN from there (no link to this working tree).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d /tmp/mvp-build-check.XXXXXX)
trap 'rm -rf "$work"' EXIT

version=$(python3 -c 'import yaml,sys; print(yaml.safe_load(open("galaxy.yml"))["version"])' 2>/dev/null \
  || "$root/.venv/bin/python" -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')
ansible-galaxy collection build --force --output-path "$work/dist" . >/dev/null
tarball="$work/dist/mvp_platform-infra-${version}.tar.gz"
[ -f "$tarball" ] || { echo "ERROR: expected $tarball" >&2; exit 1; }

# Nothing of the harness may ship.
if tar -tzf "$tarball" | grep -E '^(\.venv|\.ansible|molecule|scripts|benchmarks|inventories|requirements|\.ci|\.github|build|tests/output)/' >/dev/null; then
  echo "ERROR: the tarball ships harness files:" >&2
  tar -tzf "$tarball" | grep -E '^(\.venv|\.ansible|molecule|scripts|benchmarks|inventories|requirements|\.ci|\.github|build|tests/output)/' | head >&2
  exit 1
fi

# Dependencies come with the `ansible` package, so install without reaching Galaxy.
cp -r inventories "$work/inventories"
cd "$work"
# An empty config: no link to this working tree, only the installed collection.
: >"$work/ansible.cfg"
export ANSIBLE_CONFIG="$work/ansible.cfg" ANSIBLE_COLLECTIONS_PATH="$work/collections"
ansible-galaxy collection install --no-deps -p "$work/collections" "$tarball" >/dev/null
  ansible-playbook mvp_platform.infra.site -i inventories/development --syntax-check
echo "build check: $(basename "$tarball") ($(du -h "$tarball" | cut -f1)) installs and its site playbook parses."
