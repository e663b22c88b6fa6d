#!/usr/bin/env bash
# ansible-test sanity needs the collection at .../ansible_collections/mvp_platform/infra and
# resolves symlinks, so it runs on a copy of the tracked (and new, not ignored) files in build/.
# ansible-test fetches a get-pip script from a host that is not always reachable; it uses a
# cached copy when present, so we provide one that installs pip from PyPI instead.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dest=build/sanity/ansible_collections/mvp_platform/infra
rm -rf build/sanity && mkdir -p "$dest"
# Sanity tests the collection as `ansible-galaxy collection build` ships it: the harness that
# galaxy.yml's build_ignore leaves out (molecule, benchmarks, scripts...) is checked by ruff.
mapfile -t ignored < <("$root/.venv/bin/python" -c 'import yaml; print("\n".join(yaml.safe_load(open("galaxy.yml"))["build_ignore"]))')
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] || continue
  for pat in "${ignored[@]}"; do
    # shellcheck disable=SC2053  # glob match against build_ignore patterns is intended
    [[ "$f" == $pat || "$f" == $pat/* ]] && continue 2
  done
  printf '%s\0' "$f"
done | tar -c --null -T - | tar -x -C "$dest"
# ansible-test writes its venvs under tests/output, which must stay ignored.
cp .gitignore "$dest/"

cache=${HOME}/.ansible/test/cache
script="${cache}/get_pip_24_2.py"
if [ ! -s "$script" ]; then
  mkdir -p "$cache/pip-wheel"
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$cache/pip-wheel" pip==24.2
  cat >"$script" <<'PY'
# Stand-in for the get-pip bootstrap script: installs pip 24.2 from the wheel cached beside it.
import glob
import os
import sys

wheel = glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pip-wheel", "pip-24.2-*.whl"))[0]
sys.path.insert(0, wheel)
from pip._internal.cli.main import main  # noqa: E402

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--upgrade", *args]))
PY
fi

cd "$dest"
# git metadata lets ansible-test list only the collection's files.
git init -q && git add -A && git -c user.email=ci@localhost -c user.name=ci commit -qm sanity
exec "$root/.venv/bin/ansible-test" sanity --venv --python 3.11 --color no "$@"
