#!/usr/bin/env bash
# promtool runs the alert rules' unit tests (tests/harness/test_alert_rules.py). Use the one on
# PATH; else take Debian 13's small `promtool` package (only libc needed) out of a throwaway
# container of the Debian 13 test image into .venv/bin, so the host gets no Prometheus service.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v promtool >/dev/null 2>&1 && exit 0
[ -x .venv/bin/promtool ] && exit 0
image=local/debian13-systemd:latest
if ! docker image inspect "$image" >/dev/null 2>&1; then
  scripts/ensure-docker.sh
  scripts/build-test-images.sh debian13
fi
echo "==> Fetching promtool from Debian 13's package (into .venv/bin)." >&2
docker run --rm --entrypoint /bin/bash "$image" -c \
  'apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends promtool >/dev/null && cat /usr/bin/promtool' \
  > .venv/bin/promtool.tmp
chmod 0755 .venv/bin/promtool.tmp && mv .venv/bin/promtool.tmp .venv/bin/promtool
.venv/bin/promtool --version >&2
