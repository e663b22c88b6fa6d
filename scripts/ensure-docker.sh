#!/usr/bin/env bash
# Make sure a Docker daemon answers. When none does and this machine can provide one
# (root on Debian/Ubuntu), install Docker Engine from the distribution and start it;
# otherwise stop at once with a message on how to get one.
set -euo pipefail

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

if [ "${MVP_NO_DOCKER_BOOTSTRAP:-0}" = 1 ]; then
  docker info >/dev/null 2>&1 && exit 0
  die "no Docker daemon answers (and MVP_NO_DOCKER_BOOTSTRAP=1 forbids starting one)."
fi

if command -v docker >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1; then
  exit 0
fi

how_to="Start Docker (e.g. 'sudo systemctl start docker') or install Docker Engine: https://docs.docker.com/engine/install/ ; then run this target again."
[ "$(id -u)" -eq 0 ] || die "no Docker daemon answers and this is not root, so it cannot start one. ${how_to}"
[ -r /etc/os-release ] || die "no Docker daemon answers and this is not a Debian/Ubuntu machine. ${how_to}"
# shellcheck disable=SC1091
. /etc/os-release
case " ${ID:-} ${ID_LIKE:-} " in
  *" debian "*|*" ubuntu "*) ;;
  *) die "no Docker daemon answers and ${PRETTY_NAME:-this OS} is not Debian/Ubuntu. ${how_to}" ;;
esac

if ! command -v dockerd >/dev/null 2>&1; then
  log "No Docker daemon answers: installing Docker Engine from ${PRETTY_NAME} (apt-get install docker.io)."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi
if ! command -v docker >/dev/null 2>&1; then
  die "dockerd is installed but no docker CLI is on PATH."
fi

# A systemd machine starts the unit; a machine without systemd (containers, CI sandboxes)
# gets dockerd in the background, logging to /var/log/mvp-dockerd.log.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  log "Starting Docker Engine (systemctl start docker)."
  systemctl start docker || die "systemctl start docker failed: see 'journalctl -u docker'."
else
  log "Starting Docker Engine in the background (dockerd, log in /var/log/mvp-dockerd.log)."
  # Detached (own session, no inherited stdin/stdout): a daemon that kept this script's
  # output open would hold a caller's pipe (`make test | tee`) open forever.
  if ! pgrep -x containerd >/dev/null 2>&1 && command -v containerd >/dev/null 2>&1; then
    setsid containerd </dev/null >/var/log/mvp-containerd.log 2>&1 &
    sleep 1
  fi
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    setsid dockerd </dev/null >/var/log/mvp-dockerd.log 2>&1 &
  fi
fi

for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    log "Docker Engine $(docker version --format '{{.Server.Version}}') is running."
    exit 0
  fi
  sleep 1
done
tail -n 20 /var/log/mvp-dockerd.log >&2 2>/dev/null || true
die "Docker Engine was started but does not answer after 60 s."
