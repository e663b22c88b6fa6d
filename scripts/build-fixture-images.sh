#!/usr/bin/env bash
# Build the application test fixtures (no registry is reachable, so nothing is pulled) on top of
# local/debian13-systemd:latest, and save them as one image archive for app_stack's
# "image archives on the control node" path:
#   local/postgres:17                     PostgreSQL 17 from Debian, official image's contract
#   local/redis:8                         redis-server 8.0 from Debian 13, official image's contract
#   local/mvp-frontend:{1.0.0,2.0.0,3.0.0} page on :3000 showing its version
#   local/mvp-backend:{1.0.0,2.0.0,3.0.0}  /api/health on :3001 querying PostgreSQL; `migrate`;
#                                          3.0.0 is a bad release (FAIL_HEALTH=1 baked in)
# Archive: ${MVP_CACHE_DIR:-/var/cache/mvp-platform}/images/mvp-fixtures.tar (all of them, layers
# shared). An image whose sources and base are unchanged is reused, as is the archive when its
# images are unchanged; FORCE=1 rebuilds everything.
# Usage: build-fixture-images.sh            (prints the archive path on stdout)
set -euo pipefail

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CTX=${ROOT}/tests/fixtures/images
BASE=local/debian13-systemd:latest
OUT=${MVP_CACHE_DIR:-/var/cache/mvp-platform}/images
ARCHIVE=${OUT}/mvp-fixtures.tar
VERSIONS=(1.0.0 2.0.0 3.0.0)
BAD_VERSION=3.0.0

docker info >/dev/null 2>&1 || die "no Docker daemon answers: run scripts/ensure-docker.sh first."
docker image inspect "$BASE" >/dev/null 2>&1 \
  || die "${BASE} is missing: run scripts/build-test-images.sh debian13 (or make images) first."
base_id=$(docker image inspect -f '{{.Id}}' "$BASE")
mkdir -p "$OUT"

# build IMAGE CONTEXT [--build-arg K=V ...]: reuse IMAGE when it was built from the same
# sources, base and arguments (recorded in a label), else build it.
build() {
  local image=$1 dir=$2 fp have
  shift 2
  fp=$( { echo "$base_id" "$*"; (cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum); } \
        | sha256sum | cut -c1-32)
  have=$(docker image inspect -f '{{index .Config.Labels "mvp.fixture.fingerprint"}}' "$image" 2>/dev/null || true)
  if [ "${FORCE:-0}" != 1 ] && [ "$have" = "$fp" ]; then
    log "Reusing ${image} (FORCE=1 rebuilds it)."
    return 0
  fi
  log "Building ${image}."
  if ! docker build --label "mvp.fixture.fingerprint=${fp}" "$@" -t "$image" "$dir" >"${OUT}/build.log" 2>&1; then
    tail -n 30 "${OUT}/build.log" >&2
    die "docker build of ${image} failed (log above, full log in ${OUT}/build.log)."
  fi
}

build local/postgres:17 "${CTX}/postgres"
build local/redis:8 "${CTX}/redis"
images=(local/postgres:17 local/redis:8)
for v in "${VERSIONS[@]}"; do
  fail=0
  [ "$v" = "$BAD_VERSION" ] && fail=1
  build "local/mvp-frontend:${v}" "${CTX}/frontend" --build-arg "APP_VERSION=${v}"
  build "local/mvp-backend:${v}" "${CTX}/backend" --build-arg "APP_VERSION=${v}" --build-arg "FAIL_HEALTH=${fail}"
  images+=("local/mvp-frontend:${v}" "local/mvp-backend:${v}")
done

mkdir -p "$OUT"
ids=$(for i in "${images[@]}"; do echo "$i $(docker image inspect -f '{{.Id}}' "$i")"; done)
if [ "${FORCE:-0}" != 1 ] && [ -s "$ARCHIVE" ] && [ "$(cat "${ARCHIVE}.ids" 2>/dev/null)" = "$ids" ]; then
  log "Reusing ${ARCHIVE}."
else
  log "Saving ${#images[@]} images to ${ARCHIVE}."
  docker save -o "${ARCHIVE}.tmp" "${images[@]}"
  chmod 0644 "${ARCHIVE}.tmp"
  mv -f "${ARCHIVE}.tmp" "$ARCHIVE"
  printf '%s\n' "$ids" >"${ARCHIVE}.ids"
fi
log "Fixtures ready: ${images[*]} ($(du -h "$ARCHIVE" | cut -f1) archive)."
echo "$ARCHIVE"
