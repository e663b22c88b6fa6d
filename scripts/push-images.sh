#!/usr/bin/env bash
# Push the application's frontend and backend images of one version to a registry, tagged by
# version, branch and git sha - the step the application's CI runs after building them, and the
# one the registry test scenario runs against its test registry.
#
#   scripts/push-images.sh REGISTRY VERSION [EXTRA_TAG ...]
#
#   REGISTRY   host[:port][/namespace], e.g. ghcr.io/acme or registry.example.com:5000/mvp
#   VERSION    the release's tag (what `deploy.yml -e app_version=` deploys); never `latest`
#   EXTRA_TAG  further tags of the same images; default: the branch (sanitised: feature/x ->
#              feature-x) and the 12-character git sha of HEAD. `-` pushes the version tag only.
#
# Sources (local images, already built): MVP_FRONTEND_SOURCE / MVP_BACKEND_SOURCE, default
# local/mvp-app-frontend:VERSION and local/mvp-app-backend:VERSION - the names the reference
# application's image build (scripts/build-app-images.sh, make app-images) gives them. The
# stand-in fixtures (scripts/build-fixture-images.sh) are local/mvp-frontend and
# local/mvp-backend: give them as the sources to push those.
# Login: REGISTRY_USER and REGISTRY_PASSWORD (read from the environment, given to
# `docker login --password-stdin`, never on a command line) into a throwaway DOCKER_CONFIG; when
# unset the registry must already accept pushes (CI's own login step).
# Prints one line per pushed reference: <reference> <digest>.
set -euo pipefail

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

[ $# -ge 2 ] || die "usage: $0 REGISTRY VERSION [EXTRA_TAG ...]"
registry=${1%/}
version=$2
shift 2
tag_re='^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$'
[[ $registry =~ ^[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[a-z0-9._-]+)*$ ]] \
  || die "REGISTRY='${registry}' must be host[:port][/namespace]."
[[ $version =~ $tag_re ]] || die "VERSION='${version}' is not an image tag."
[ "${version,,}" != latest ] || die "VERSION must be an immutable tag (a version), never 'latest'."

root=$(cd "$(dirname "$0")/.." && pwd)
# sanitise TAG: what a branch name becomes as an image tag.
sanitise() { printf '%s' "$1" | tr -c 'A-Za-z0-9_.-' '-' | sed 's/^[.-]*//' | cut -c1-128; }
if [ $# -eq 0 ]; then
  branch=$(git -C "$root" rev-parse --abbrev-ref HEAD 2>/dev/null || true)
  sha=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || true)
  set -- ${branch:+"$(sanitise "$branch")"} ${sha:+"$sha"}
elif [ "$1" = - ]; then
  set --
fi
tags=("$version")
for t in "$@"; do
  [[ $t =~ $tag_re ]] || die "extra tag '${t}' is not an image tag."
  [ "${t,,}" != latest ] || die "extra tag 'latest' is refused: the servers deploy immutable tags."
  [ "$t" = "$version" ] || tags+=("$t")
done

declare -A sources=(
  [frontend]=${MVP_FRONTEND_SOURCE:-local/mvp-app-frontend:${version}}
  [backend]=${MVP_BACKEND_SOURCE:-local/mvp-app-backend:${version}}
)
for service in frontend backend; do
  docker image inspect "${sources[$service]}" >/dev/null 2>&1 \
    || die "${sources[$service]} (the ${service} image of ${version}) is not built: build it first."
done

if [ -n "${REGISTRY_USER:-}" ]; then
  [ -n "${REGISTRY_PASSWORD:-}" ] || die "REGISTRY_USER is set but REGISTRY_PASSWORD is empty."
  DOCKER_CONFIG=$(mktemp -d)
  export DOCKER_CONFIG
  trap 'rm -rf "$DOCKER_CONFIG"' EXIT
  host=${registry%%/*}
  printf '%s' "$REGISTRY_PASSWORD" | docker login --username "$REGISTRY_USER" --password-stdin "$host" >/dev/null \
    || die "docker login to ${host} as ${REGISTRY_USER} failed."
fi

for service in frontend backend; do
  for t in "${tags[@]}"; do
    ref="${registry}/${service}:${t}"
    docker tag "${sources[$service]}" "$ref"
    log "Pushing ${ref}."
    out=$(docker push "$ref" 2>&1) || { printf '%s\n' "$out" >&2; die "docker push ${ref} failed."; }
    digest=$(printf '%s\n' "$out" | sed -n 's/.*digest: \(sha256:[0-9a-f]*\).*/\1/p' | tail -n1)
    # The local registry-named tag is only a push handle.
    docker image rm "$ref" >/dev/null
    printf '%s %s\n' "$ref" "${digest:-?}"
  done
done
