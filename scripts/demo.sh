#!/usr/bin/env bash
# The local throwaway platform: a systemd container named mvp-demo-dev (the host of
# inventories/development), with its ports published on 127.0.0.1 only, converged by site.yml.
#   demo.sh up        create (or reuse) the host and converge it
#   demo.sh destroy   remove the host and its volumes
#   demo.sh status    show whether it runs
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=mvp-demo-dev
IMAGE=${DEMO_IMAGE:-local/debian13-systemd:latest}
BIND=127.0.0.1
# host port -> container port; override e.g. DEMO_HTTPS_PORT=9443 when a port is taken.
PORTS=(
  "${DEMO_HTTP_PORT:-8080}:80"
  "${DEMO_HTTPS_PORT:-8443}:443"
  "${DEMO_FRONTEND_PORT:-5000}:5000"
  "${DEMO_BACKEND_PORT:-5001}:5001"
  "${DEMO_POSTGRES_PORT:-5432}:5432"
)
# systemd as PID 1 without --privileged: every capability but SYS_RESOURCE (docs/architecture.md, test hosts).
CAPS=(AUDIT_CONTROL AUDIT_READ AUDIT_WRITE BLOCK_SUSPEND CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER
      FSETID IPC_LOCK IPC_OWNER KILL LEASE LINUX_IMMUTABLE MAC_ADMIN MAC_OVERRIDE MKNOD NET_ADMIN
      NET_BIND_SERVICE NET_BROADCAST NET_RAW SETFCAP SETGID SETPCAP SETUID SYS_ADMIN SYS_BOOT SYS_CHROOT
      SYS_MODULE SYS_NICE SYS_PACCT SYS_PTRACE SYS_RAWIO SYS_TIME SYS_TTY_CONFIG SYSLOG WAKE_ALARM)

log() { printf '==> %s\n' "$*" >&2; }

create() {
  local args=(--detach --name "$NAME" --hostname "$NAME" --label mvp-platform=demo
              --security-opt seccomp=unconfined --security-opt apparmor=unconfined
              --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw
              --tmpfs /run --tmpfs /run/lock --tmpfs /tmp
              # The inner Docker's storage on a real volume (overlay on overlay does not work).
              -v "${NAME}-docker:/var/lib/docker" -v "${NAME}-data:/opt"
              --stop-signal SIGRTMIN+3)
  for c in "${CAPS[@]}"; do args+=(--cap-add "$c"); done
  for p in "${PORTS[@]}"; do args+=(-p "${BIND}:${p}"); done
  log "Creating the demo host ${NAME} from ${IMAGE} (ports on ${BIND} only)."
  docker run "${args[@]}" "$IMAGE" /lib/systemd/systemd >/dev/null
}

wait_for_systemd() {
  local state
  for _ in $(seq 1 60); do
    state=$(docker exec "$NAME" systemctl is-system-running 2>/dev/null || true)
    case "$state" in running|degraded) return 0 ;; esac
    sleep 1
  done
  echo "ERROR: systemd in ${NAME} did not come up (state: ${state:-none}); see 'docker logs ${NAME}'." >&2
  exit 1
}

up() {
  if docker container inspect "$NAME" >/dev/null 2>&1; then
    if [ "$(docker container inspect -f '{{.State.Running}}' "$NAME")" != true ]; then
      log "Starting the existing demo host ${NAME}."
      docker start "$NAME" >/dev/null
    else
      log "Reusing the running demo host ${NAME}."
    fi
  else
    create
  fi
  wait_for_systemd
  log "Converging: ansible-playbook site.yml -i inventories/development"
  ansible-playbook site.yml -i inventories/development "$@"
  local https=${PORTS[1]%%:*} http=${PORTS[0]%%:*} fe=${PORTS[2]%%:*} be=${PORTS[3]%%:*} health
  # What a visitor gets: the page and the backend's health through nginx, from this machine.
  health=$(curl -fsSk --max-time 10 --resolve "mvp.localhost:${https}:${BIND}" "https://mvp.localhost:${https}/api/health") \
    || { echo "ERROR: https://mvp.localhost:${https}/api/health does not answer after the converge." >&2; exit 1; }
  curl -fsSk --max-time 10 --resolve "mvp.localhost:${https}:${BIND}" -o /dev/null "https://mvp.localhost:${https}/" \
    || { echo "ERROR: https://mvp.localhost:${https}/ does not answer after the converge." >&2; exit 1; }
  log "The site answers; the backend's health: ${health}"
  cat <<MSG

The development platform runs in the container ${NAME}.
  https://mvp.localhost:${https}/            the site through nginx (self-signed certificate)
  https://mvp.localhost:${https}/api/health  the backend through nginx
  http://127.0.0.1:${http}/                  redirects to HTTPS
  http://127.0.0.1:${fe}/ and :${be}/api/health   frontend and backend directly (development ports)
Shell on the host:  docker exec -it ${NAME} bash
Converge again:     make demo
Tear it down:       make demo-destroy
MSG
}

destroy() {
  docker rm -f "$NAME" >/dev/null 2>&1 && log "Removed ${NAME}." || log "No demo host ${NAME}."
  docker volume rm "${NAME}-docker" "${NAME}-data" >/dev/null 2>&1 || true
}

case "${1:-up}" in
  up) shift || true; up "$@" ;;
  destroy) destroy ;;
  status) docker ps -a --filter "name=^${NAME}$" ;;
  *) echo "usage: $0 up|destroy|status" >&2; exit 2 ;;
esac
