#!/usr/bin/env bash
# Fail when any vault file in the tree is not encrypted with ansible-vault: secrets never sit
# in git in plain text. Example files (*.example) are plain by design.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=0
while IFS= read -r -d '' f; do
  if [ "$(head -c 14 "$f")" != '$ANSIBLE_VAULT' ]; then
    echo "ERROR: $f is not encrypted: run 'ansible-vault encrypt $f' and rotate what it held." >&2
    bad=1
  fi
done < <(find . -path ./.venv -prune -o -path ./.ansible -prune -o -path ./build -prune -o \
              \( -name 'vault.yml' -o -name 'vault.yaml' -o -name '*.vault.yml' \) -type f -print0)
[ "$bad" -eq 0 ] && echo "vault check: every vault file is encrypted."
exit "$bad"
