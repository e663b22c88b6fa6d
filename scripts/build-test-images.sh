#!/usr/bin/env bash
# Build the systemd test-host images from Debian packages (debootstrap + docker import):
#   local/debian13-systemd:latest (trixie) and local/debian12-systemd:latest (bookworm); on a
#   machine that reaches Ubuntu's archive (GitHub's runners) also local/ubuntu2204-systemd (jammy)
#   and local/ubuntu2404-systemd (noble).
# An image that already exists is reused (FORCE=1 rebuilds). The .deb downloads are cached
# in ${MVP_CACHE_DIR:-/var/cache/mvp-platform}/debootstrap/<suite> between runs.
# Usage: build-test-images.sh [debian13|debian12|ubuntu2204|ubuntu2404 ...]   (default: the Debian ones)
set -euo pipefail

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE=${MVP_CACHE_DIR:-/var/cache/mvp-platform}/debootstrap
# What every test host needs before Ansible runs: systemd as PID 1, python3 (+apt bindings so
# the apt module does not install them on every fresh host), sudo, and basic network tools.
INCLUDE=systemd,systemd-sysv,dbus,python3,python3-apt,sudo,iproute2,iputils-ping,ca-certificates,procps,gnupg,curl,locales

suite_of() {
  case "$1" in
    debian13) echo trixie ;;
    debian12) echo bookworm ;;
    ubuntu2204) echo jammy ;;
    ubuntu2404) echo noble ;;
    *) die "unknown test image '$1' (known: debian13 debian12 ubuntu2204 ubuntu2404)" ;;
  esac
}

# The archive and the apt sources of a suite.
mirror_of() {
  case "$1" in
    ubuntu*) echo "${UBUNTU_MIRROR:-http://archive.ubuntu.com/ubuntu}" ;;
    *) echo "${MIRROR}" ;;
  esac
}

sources_of() {
  local name=$1 suite=$2 mirror=$3
  case "$name" in
    ubuntu*)
      printf 'deb %s %s main universe\ndeb %s %s-updates main universe\ndeb http://security.ubuntu.com/ubuntu %s-security main universe\n' \
        "$mirror" "$suite" "$mirror" "$suite" "$suite" ;;
    *)
      printf 'deb %s %s main\ndeb %s %s-updates main\ndeb http://deb.debian.org/debian-security %s-security main\n' \
        "$mirror" "$suite" "$mirror" "$suite" "$suite" ;;
  esac
}

ensure_debootstrap() {
  command -v debootstrap >/dev/null 2>&1 && return 0
  [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1 \
    || die "debootstrap is not installed and cannot be installed here (needs root on Debian/Ubuntu): install it, then run again."
  log "Installing debootstrap from the distribution."
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
}

build() {
  local name=$1 suite image rootfs mirror
  suite=$(suite_of "$name")
  mirror=$(mirror_of "$name")
  image="local/${name}-systemd:latest"
  if [ "${FORCE:-0}" != 1 ] && docker image inspect "$image" >/dev/null 2>&1; then
    log "Reusing ${image} (FORCE=1 rebuilds it)."
    return 0
  fi
  ensure_debootstrap
  mkdir -p "${CACHE}/${suite}"
  rootfs=$(mktemp -d "/var/tmp/mvp-${name}-rootfs.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '${rootfs}'" RETURN
  log "Bootstrapping ${suite} into ${rootfs} (cache: ${CACHE}/${suite})."
  debootstrap --variant=minbase --include="${INCLUDE}" --cache-dir="${CACHE}/${suite}" \
    "${suite}" "${rootfs}" "${mirror}" >"${rootfs}.log" 2>&1 \
    || { tail -n 30 "${rootfs}.log" >&2; die "debootstrap of ${suite} failed (log above)."; }
  rm -f "${rootfs}.log"
  # mktemp made the directory 0700; it becomes the image's / and must be 0755.
  chmod 0755 "${rootfs}"

  # Updates and security suites, as a real server has them.
  sources_of "$name" "$suite" "$mirror" >"${rootfs}/etc/apt/sources.list"
  # Each container gets its own machine-id at first boot; no stale apt lists in the image.
  : >"${rootfs}/etc/machine-id"
  rm -rf "${rootfs}"/var/lib/apt/lists/* "${rootfs}"/var/cache/apt/archives/*.deb
  # Units that make no sense in a container and only slow boot or fail.
  for unit in systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket \
              getty@tty1.service console-getty.service systemd-modules-load.service \
              sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount; do
    ln -sf /dev/null "${rootfs}/etc/systemd/system/${unit}"
  done
  echo 'en_US.UTF-8 UTF-8' >"${rootfs}/etc/locale.gen"
  chroot "${rootfs}" locale-gen >/dev/null 2>&1 || true

  log "Importing ${image}."
  tar -C "${rootfs}" -c . | docker import \
    -c 'CMD ["/lib/systemd/systemd"]' -c 'ENV container=docker' \
    - "${image}" >/dev/null
  log "Built ${image} ($(docker image inspect -f '{{.Size}}' "${image}" | awk '{printf "%.0f MB", $1/1e6}'))."
}

docker info >/dev/null 2>&1 || die "no Docker daemon answers: run scripts/ensure-docker.sh first."
[ $# -gt 0 ] || set -- debian13 debian12
for n in "$@"; do build "$n"; done
