#!/usr/bin/env bash
# The reference application's checks and local loop, run by the Makefile (app-* and dev*):
#   deps      Node LTS (ensure-node.sh) and `npm ci` in app/backend and app/frontend (reused
#             while package-lock.json is unchanged)
#   lint      ESLint, Prettier --check and tsc --noEmit in both apps
#   test      unit tests of both apps; the backend's integration tests against PostgreSQL
#             (DATABASE_URL when set, e.g. CI's service; else a throwaway local/postgres:17
#             container on a random loopback port, removed afterwards)
#   dev-up    the development stack of app/compose.yaml on 127.0.0.1:5000/5001/5432
#   dev-down  stop it and remove its containers (the database volume stays; PURGE=1 drops it)
#   dev-test  dev-up, edit a source file of each app, wait for the new answer, restore, dev-down
#   image-test  the production images as a release runs them: the migration command, both
#             services against PostgreSQL, Docker's HEALTHCHECK, the page, the backend's metrics
#             listener (basic auth on 9464, not on the API's port), exit 0 on SIGTERM
set -euo pipefail

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
APP=${ROOT}/app
CACHE=${MVP_CACHE_DIR:-/var/cache/mvp-platform}
POSTGRES_IMAGE=${POSTGRES_IMAGE:-local/postgres:17}
export NEXT_TELEMETRY_DISABLED=1 CHECKPOINT_DISABLE=1 npm_config_cache=${CACHE}/npm \
       npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

node_path() {
  local bin
  bin=$("${ROOT}/scripts/ensure-node.sh")
  export PATH="${bin}:${PATH}"
}

deps() {
  node_path
  local dir stamp
  for dir in backend frontend; do
    stamp="${APP}/${dir}/node_modules/.mvp-installed-$(cat "${APP}/${dir}/package-lock.json" "$(command -v node)" | cksum | cut -d' ' -f1)"
    if [ -e "$stamp" ]; then
      log "app/${dir}: node_modules up to date."
    else
      log "app/${dir}: npm ci."
      (cd "${APP}/${dir}" && npm ci --no-audit --loglevel=error >/dev/null)
      touch "$stamp"
    fi
  done
  (cd "${APP}/backend" && npm run --silent generate >/dev/null)
}

lint() {
  deps
  local dir
  for dir in backend frontend; do
    log "app/${dir}: eslint, prettier --check, tsc --noEmit."
    (cd "${APP}/${dir}" && npm run --silent lint && npm run --silent format:check -- --log-level warn \
      && npm run --silent typecheck)
  done
}

# A throwaway PostgreSQL for the integration tests, unless DATABASE_URL names one.
with_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then
    "$@"
    return
  fi
  docker image inspect "$POSTGRES_IMAGE" >/dev/null 2>&1 \
    || die "${POSTGRES_IMAGE} is missing: run 'make fixtures' first (or set DATABASE_URL)."
  local name="mvp-app-itest-$$" port i
  # RETURN covers the function's end; EXIT a failure under set -e (or die), which ends the
  # script without returning (a leaked database container otherwise).
  # shellcheck disable=SC2064
  trap "docker rm -f '${name}' >/dev/null 2>&1 || true" RETURN EXIT
  docker run -d --name "$name" -e POSTGRES_USER=itest -e POSTGRES_PASSWORD=itest -e POSTGRES_DB=itest \
    -p 127.0.0.1::5432 "$POSTGRES_IMAGE" >/dev/null
  for i in $(seq 1 120); do
    docker exec "$name" pg_isready -U itest -d itest -h 127.0.0.1 >/dev/null 2>&1 && break
    [ "$i" -lt 120 ] || die "PostgreSQL in ${name} did not get ready in 60 s."
    sleep 0.5
  done
  port=$(docker port "$name" 5432/tcp | head -n1 | sed 's/.*://')
  DATABASE_URL="postgresql://itest:itest@127.0.0.1:${port}/itest" "$@"
}

test_all() {
  deps
  log "app/backend: unit tests."
  (cd "${APP}/backend" && npm run --silent test:unit)
  log "app/frontend: unit tests."
  (cd "${APP}/frontend" && npm test --silent)
  log "app/backend: integration tests against PostgreSQL."
  with_postgres bash -c 'cd "$1" && npm run --silent test:integration' _ "${APP}/backend"
}

compose_cmd() {
  if docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
  elif command -v docker-compose >/dev/null 2>&1; then
    COMPOSE=(docker-compose)
  else
    [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1 \
      || die "neither 'docker compose' nor docker-compose is installed."
    log "Installing Docker Compose from the distribution (docker-compose)."
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
    COMPOSE=(docker-compose)
  fi
  COMPOSE+=(-p mvp-dev -f "${APP}/compose.yaml")
}

dev_env() {
  compose_cmd
  export NODE_IMAGE=${NODE_IMAGE:-local/node:26} POSTGRES_IMAGE DEV_UID=${DEV_UID:-$(id -u)} \
         DEV_GID=${DEV_GID:-$(id -g)}
}

dev_up() {
  dev_env
  if [ "$NODE_IMAGE" = local/node:26 ] && ! docker image inspect local/node:26 >/dev/null 2>&1; then
    log "Building the Node base image (no registry here)."
    BASES_ONLY=1 "${ROOT}/scripts/build-app-images.sh" >/dev/null
  fi
  docker image inspect "$POSTGRES_IMAGE" >/dev/null 2>&1 || {
    "${ROOT}/scripts/build-test-images.sh" debian13
    "${ROOT}/scripts/build-fixture-images.sh" >/dev/null
  }
  local dir
  for dir in backend frontend; do
    [ -e "${APP}/${dir}/.env" ] || { cp "${APP}/${dir}/.env.example" "${APP}/${dir}/.env"; log "Wrote app/${dir}/.env from .env.example."; }
  done
  log "Starting the development stack (frontend :5000, backend :5001, PostgreSQL :5432)."
  "${COMPOSE[@]}" up -d --build --renew-anon-volumes
  # The first start compiles both apps (minutes on a busy 2-core machine), later ones seconds.
  wait_for http://127.0.0.1:5001/api/health 600 && wait_for http://127.0.0.1:5000/ 600 \
    || { "${COMPOSE[@]}" logs --tail 40 >&2; die "the development stack did not answer in time (logs above)."; }
  log "Ready: http://127.0.0.1:5000 (frontend), http://127.0.0.1:5001/api/health (backend)."
}

dev_down() {
  dev_env
  local purge=()
  [ "${PURGE:-0}" = 1 ] && purge=(--volumes)
  "${COMPOSE[@]}" down --remove-orphans "${purge[@]}"
}

# wait_for URL SECONDS [REGEX]: until URL answers 2xx (and its body matches REGEX).
wait_for() {
  local url=$1 deadline=$(( $(date +%s) + $2 )) regex=${3:-}
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if body=$(curl -fsS --max-time 10 "$url" 2>/dev/null) && { [ -z "$regex" ] || grep -qE "$regex" <<<"$body"; }; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# hot_reload NAME FILE OLD NEW URL SEEN: replace OLD by NEW in FILE, time until URL's answer
# contains SEEN, restore, time until it no longer does. Prints the seconds; 1 on a timeout.
hot_reload() {
  local name=$1 file=$2 old=$3 new=$4 url=$5 seen=$6 t0 t1 t2
  cp -p "$file" "${file}.dev-test-orig"
  t0=$(date +%s.%N)
  python3 - "$file" "$old" "$new" <<'PY'
import sys
path, old, new = sys.argv[1:]
text = open(path).read()
assert old in text, f"{old!r} not in {path}"
open(path, "w").write(text.replace(old, new, 1))
PY
  if ! wait_for "$url" 90 "$seen"; then
    mv -f "${file}.dev-test-orig" "$file"
    echo "FAIL ${name}: ${url} did not show the edit within 90 s" >&2
    return 1
  fi
  t1=$(date +%s.%N)
  mv -f "${file}.dev-test-orig" "$file"
  touch "$file"
  local deadline=$(( $(date +%s) + 60 ))
  while curl -fsS --max-time 10 "$url" 2>/dev/null | grep -q "$seen"; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "FAIL ${name}: the restored file is not served after 60 s" >&2; return 1; }
    sleep 0.2
  done
  t2=$(date +%s.%N)
  awk -v n="$name" -v a="$t0" -v b="$t1" -v c="$t2" \
    'BEGIN { printf "%s: edit served after %.1f s, restore after %.1f s\n", n, b - a, c - b }'
}

dev_test() {
  local passed=0 failed=0 marker="hot-reload-$$"
  # shellcheck disable=SC2317
  cleanup() {
    for f in "${APP}/backend/src/health/health.controller.ts" "${APP}/frontend/app/page.tsx"; do
      [ -e "${f}.dev-test-orig" ] && mv -f "${f}.dev-test-orig" "$f"
    done
    dev_down >/dev/null 2>&1 || true
  }
  trap cleanup EXIT
  dev_up
  # The server answers from the last build while tsc's watcher does its first pass; edits
  # count from when it watches.
  local i
  for i in $(seq 1 300); do
    "${COMPOSE[@]}" logs --no-color backend 2>/dev/null | grep -q 'Watching for file changes' && break
    [ "$i" -lt 300 ] || echo "dev-test: the backend's watcher did not report ready in 300 s" >&2
    sleep 1
  done
  if hot_reload backend "${APP}/backend/src/health/health.controller.ts" \
      "return { version: this.config.version };" "return { version: '${marker}' };" \
      http://127.0.0.1:5001/api/version "$marker"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
  if hot_reload frontend "${APP}/frontend/app/page.tsx" "<h1>MVP Platform</h1>" "<h1>MVP Platform ${marker}</h1>" \
      http://127.0.0.1:5000/ "$marker"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
  # The backend may still be restarting after the restore: give it a moment.
  if wait_for http://127.0.0.1:5000/ 60 'frontend version dev.*>ok<'; then
    passed=$((passed + 1))
  else
    echo "FAIL page: the frontend does not show its version and the backend's health 'ok'" >&2
    failed=$((failed + 1))
  fi
  echo "dev-test: ${passed} passed, ${failed} failed"
  if [ "$failed" -ne 0 ]; then
    echo "dev-test: the stack's last log lines, for the failure above:" >&2
    "${COMPOSE[@]}" logs --no-color --tail 60 >&2 || true
    echo "dev-test: ${failed} of $((passed + failed)) checks FAILED (see FAIL lines above)" >&2
  fi
  [ "$failed" -eq 0 ]
}

# check NAME COMMAND...: one named check for image_test's summary.
check() {
  local name=$1
  shift
  if "$@"; then
    CHECKS_PASSED=$((CHECKS_PASSED + 1))
  else
    echo "FAIL ${name}" >&2
    CHECKS_FAILED=$((CHECKS_FAILED + 1))
  fi
}

healthy() {
  local c=$1 i
  for i in $(seq 1 90); do
    [ "$(docker inspect -f '{{.State.Health.Status}}' "$c" 2>/dev/null)" = healthy ] && return 0
    sleep 1
  done
  return 1
}

image_test() {
  local version=${APP_VERSION:-$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "${APP}/backend/package.json")}
  local prefix=${IMAGE_PREFIX:-local} pg="mvp-app-imgtest-$$" url out fe be mt t0
  local scrape_pw="image-test-scrape-$$"
  CHECKS_PASSED=0 CHECKS_FAILED=0
  # The services share the database container's network namespace (no network to create):
  # PostgreSQL on 127.0.0.1:5432, the backend on :3001 (metrics :9464), the frontend on :3000.
  # shellcheck disable=SC2064
  trap "docker rm -f '${pg}-fe' '${pg}-be' '${pg}' >/dev/null 2>&1 || true" RETURN EXIT
  docker run -d --name "$pg" -e POSTGRES_USER=smoke -e POSTGRES_PASSWORD=smoke -e POSTGRES_DB=smoke \
    -p 127.0.0.1::3000 -p 127.0.0.1::3001 -p 127.0.0.1::9464 "$POSTGRES_IMAGE" >/dev/null
  for _ in $(seq 1 120); do docker exec "$pg" pg_isready -h 127.0.0.1 -U smoke >/dev/null 2>&1 && break; sleep 0.5; done
  url=postgresql://smoke:smoke@127.0.0.1:5432/smoke
  out=$(docker run --rm --network "container:${pg}" -e "DATABASE_URL=${url}" \
        "${prefix}/mvp-app-backend:${version}" node dist/migrate/cli.js deploy 2>&1) || true
  check "the migration command applies both migrations" grep -q 'applied 2 migration' <<<"$out"
  docker run -d --name "${pg}-be" --network "container:${pg}" -e "DATABASE_URL=${url}" -e LOG_LEVEL=info \
    -e PAYMENT_TERMINAL_KEY=TinkoffBankTest -e PAYMENT_PASSWORD=TinkoffBankTest \
    -e "METRICS_PASSWORD=${scrape_pw}" "${prefix}/mvp-app-backend:${version}" >/dev/null
  docker run -d --name "${pg}-fe" --network "container:${pg}" -e BACKEND_INTERNAL_URL=http://127.0.0.1:3001 \
    "${prefix}/mvp-app-frontend:${version}" >/dev/null
  be=$(docker port "$pg" 3001/tcp | head -n1)
  fe=$(docker port "$pg" 3000/tcp | head -n1)
  mt=$(docker port "$pg" 9464/tcp | head -n1)
  check "backend HEALTHCHECK reports healthy" healthy "${pg}-be"
  check "frontend HEALTHCHECK reports healthy" healthy "${pg}-fe"
  check "/api/health is ok at this release's schema" wait_for "http://${be}/api/health" 30 \
    '"status":"ok".*"schema_version":"20261201130000_notification_dedup"'
  check "the page shows its version and the backend's health" wait_for "http://${fe}/" 30 \
    "frontend version ${version}.*>ok<"
  check "a forged payment notification is refused" bash -c \
    "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
      -d '{\"TerminalKey\":\"TinkoffBankTest\",\"OrderId\":\"1\",\"Status\":\"CONFIRMED\",\"PaymentId\":1,\"Amount\":1,\"Token\":\"00\"}' \
      http://${be}/api/payments/webhook)\" = 403 ]"
  check "the metrics listener refuses a scrape without credentials" bash -c \
    "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://${mt}/metrics)\" = 401 ]"
  check "the metrics listener counts /api/health with credentials" bash -c \
    "curl -fsS -u 'prometheus:${scrape_pw}' http://${mt}/metrics \
      | grep -q '^mvp_backend_http_requests_total{method=\"GET\",route=\"/api/health\",status=\"200\"} '"
  check "the API's port has no /metrics" bash -c \
    "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://${be}/metrics)\" = 404 ]"
  check "runs as a non-root user" test "$(docker exec "${pg}-be" id -u)" != 0
  for c in be fe; do
    t0=$(date +%s.%N)
    docker stop -t 30 "${pg}-${c}" >/dev/null
    # The backend exits 0; Next's server cleans up and exits 143 (128 + SIGTERM) on purpose.
    # Either way it ended by itself, not by Docker's SIGKILL (137) after the grace period.
    check "${c} ends by itself on SIGTERM" grep -qxE '0|143' <<<"$(docker inspect -f '{{.State.ExitCode}}' "${pg}-${c}")"
    awk -v c="$c" -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%s stopped in %.1f s\n", c, b - a }'
  done
  echo "image-test: ${CHECKS_PASSED} passed, ${CHECKS_FAILED} failed"
  [ "$CHECKS_FAILED" -eq 0 ]
}

case "${1:-}" in
  deps) deps ;;
  lint) lint ;;
  test) test_all ;;
  dev-up) dev_up ;;
  dev-down) dev_down ;;
  dev-test) dev_test ;;
  image-test) image_test ;;
  *) die "usage: $0 deps|lint|test|dev-up|dev-down|dev-test|image-test" ;;
esac
