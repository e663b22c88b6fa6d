#!/usr/bin/env bash
# A real virtual machine (QEMU, with KVM where the machine has it) for what a test container cannot
# show: sysctls applied by the kernel, auditd running, a kernel in /boot, AppArmor, a USB
# controller. `benchmarks/bench_lynis.py --vm` converges it with the production settings
# (benchmarks/vm/inventory.yml), audits it with playbooks/audit.yml and records Lynis's result.
#
#   scripts/test-vm.sh build    # Debian 13 disk: debootstrap, then GRUB installed from a first boot
#   scripts/test-vm.sh start    # boot a copy-on-write copy of that disk (made at the first start)
#   scripts/test-vm.sh ssh [cmd]  # as the deploy user, with the harness's key
#   scripts/test-vm.sh stop     # clean shutdown (poweroff), killed after 120 s
#   scripts/test-vm.sh reset    # stop and drop the copy: the next start boots the fresh disk again
#   scripts/test-vm.sh status
#
# NOT part of CI or `make test`: it needs root (debootstrap, chroot), Debian's package mirror and,
# to be quick, /dev/kvm (see accelerator() below); CI machines guarantee none of these. Host
# tools: qemu-system-x86, qemu-utils, debootstrap, fdisk, e2fsprogs, openssh-client (Debian).
# Without usable KVM (QEMU's emulator, TCG) everything is 10-50 times slower: a build took 8-17
# minutes here, a first converge of the hardening role most of an hour.
#
# Everything lives outside the repository, in MVP_VM_DIR (default /var/tmp/mvp-vm), and is reused:
#   cache/       debootstrap's downloaded packages (a rebuild downloads nothing it already has)
#   keys/        the harness's SSH key (deploy user, and every admin of the VM inventory)
#   base.raw     the built disk: one MBR partition, ext4 root, GRUB in the MBR (boots like a server)
#   disk.qcow2   the VM's disk, a copy-on-write layer over base.raw
#   console.log  the serial console; qemu.pid
# `build` does nothing when base.raw exists (MVP_VM_REBUILD=1 builds it again).
#
# The VM: 2 vCPUs, 2 GiB (MVP_VM_CPUS, MVP_VM_MEM), a virtio disk and NIC (systemd-networkd, DHCP),
# user-mode networking: SSH forwarded from 127.0.0.1:MVP_VM_PORT (default 2299, loopback only); the
# VM sees the controller as 10.0.2.2 and reaches the package mirror through QEMU's NAT. A USB
# controller (xHCI) with a tablet, as many cloud VMs and every physical server have, so that
# USBGuard has real devices to decide about (MVP_VM_USB=0 boots without any USB).
set -euo pipefail

VM_DIR=${MVP_VM_DIR:-/var/tmp/mvp-vm}
NAME=${MVP_VM_NAME:-mvp-vm-1}
PORT=${MVP_VM_PORT:-2299}
MEM=${MVP_VM_MEM:-2048}
CPUS=${MVP_VM_CPUS:-2}
SIZE=${MVP_VM_SIZE:-8G}
SUITE=${MVP_VM_SUITE:-trixie}
MIRROR=${MVP_VM_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${MVP_VM_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
USB=${MVP_VM_USB:-1}
KEY="$VM_DIR/keys/id_ed25519"
BASE="$VM_DIR/base.raw"
DISK="$VM_DIR/disk.qcow2"
PIDFILE="$VM_DIR/qemu.pid"
PART_START_SECTOR=2048  # the root partition starts at 1 MiB
# Beyond debootstrap's required and important packages: a kernel, SSH, Python and sudo, dbus (which
# systemd-resolved needs: debootstrap does not resolve virtual packages), and AppArmor, which
# Debian's kernel recommends and a Debian server therefore has (the installer and the cloud
# images install it).
PACKAGES=linux-image-amd64,systemd-sysv,dbus,systemd-resolved,openssh-server,python3,sudo,ca-certificates
PACKAGES+=,initramfs-tools,apparmor

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

ssh_opts() {
  printf '%s\n' -i "$KEY" -p "$PORT" -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=5 \
    -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile="$VM_DIR/known_hosts" -o LogLevel=ERROR
}

vm_ssh() {
  local user=$1; shift
  local -a opts
  mapfile -t opts < <(ssh_opts)
  # shellcheck disable=SC2029  # the command is meant to run on the VM as given
  ssh "${opts[@]}" "$user@127.0.0.1" "$@"
}

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

# KVM where the kernel offers the standard one (kvm_intel, kvm_amd). Some sandboxes offer /dev/kvm
# through kvm_pvm instead (PVM, "pagetable-based VM"): it runs only guest kernels built for PVM,
# and a stock Debian kernel stops in its instruction emulator (measured here: the zstd
# decompressor's BMI2 code, cmpxchg16b, xrstor) after running ~500 times slower than native.
# There, and without /dev/kvm, QEMU's own emulator (TCG) runs the same VM, slower but unchanged
# (same kernel, devices and disk). MVP_VM_ACCEL=kvm or tcg overrides the choice.
accelerator() {
  case "${MVP_VM_ACCEL:-auto}" in
    kvm|tcg) echo "$MVP_VM_ACCEL" ;;
    auto)
      if [ -w /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then
        echo kvm
      else
        echo tcg
      fi ;;
    *) die "MVP_VM_ACCEL must be auto, kvm or tcg" ;;
  esac
}

# Boot QEMU in the background. $1: disk file; $2: format; further arguments go to QEMU.
boot() {
  local disk=$1 format=$2; shift 2
  running && die "a VM is already running (pid $(cat "$PIDFILE")): scripts/test-vm.sh stop"
  local -a usb=() accel
  [ "$USB" = 1 ] && usb=(-device "qemu-xhci,id=xhci" -device "usb-tablet,bus=xhci.0")
  case "$(accelerator)" in
    kvm) accel=(-enable-kvm -cpu host) ;;
    *) accel=(-accel "tcg,thread=multi" -cpu max) ;;
  esac
  : >"$VM_DIR/console.log"
  qemu-system-x86_64 "${accel[@]}" -machine q35 -m "$MEM" -smp "$CPUS" -name "$NAME" \
    -nodefaults -display none -vga none -serial "file:$VM_DIR/console.log" \
    -drive "file=$disk,if=virtio,format=$format,discard=unmap" \
    -netdev "user,id=net0,hostname=$NAME,hostfwd=tcp:127.0.0.1:$PORT-:22" \
    -device virtio-net-pci,netdev=net0 -device virtio-rng-pci "${usb[@]}" \
    -daemonize -pidfile "$PIDFILE" "$@"
}

wait_ssh() {
  local user=$1 deadline=$((SECONDS + ${2:-180}))
  until vm_ssh "$user" true 2>/dev/null; do
    running || die "QEMU exited; see $VM_DIR/console.log"
    [ $SECONDS -lt $deadline ] || die "no SSH answer on 127.0.0.1:$PORT; see $VM_DIR/console.log"
    sleep 2
  done
}

wait_exit() {
  local deadline=$((SECONDS + ${1:-60}))
  while running; do
    if [ $SECONDS -ge $deadline ]; then
      log "no clean shutdown in time: ending QEMU"
      kill "$(cat "$PIDFILE")"
      sleep 2
      break
    fi
    sleep 1
  done
  rm -f "$PIDFILE"
}

# A stopped debootstrap can leave /proc or /sys mounted in the tree: unmount before deleting.
remove_rootfs() {
  local dir=$1 mnt
  [ -e "$dir" ] || return 0
  while read -r mnt; do
    umount -l "$mnt"
  done < <(findmnt -rn -o TARGET | grep -F "$dir/" | sort -r)
  rm -rf --one-file-system "$dir"
}

# The root file system in a directory, then copied into the disk's partition (mke2fs -d: no loop
# device or mount needed, so it also works in a container that may not mount).
build() {
  if [ -f "$BASE" ] && [ "${MVP_VM_REBUILD:-0}" != 1 ]; then
    log "reusing $BASE (MVP_VM_REBUILD=1 builds it again)"
    return
  fi
  [ "$(id -u)" -eq 0 ] || die "build needs root (debootstrap, chroot)"
  local tool
  for tool in debootstrap qemu-img qemu-system-x86_64 mke2fs sfdisk ssh-keygen; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install qemu-system-x86 qemu-utils debootstrap fdisk e2fsprogs openssh-client)"
  done
  running && die "stop the VM first"
  mkdir -p "$VM_DIR/cache" "$VM_DIR/keys"
  chmod 0700 "$VM_DIR" "$VM_DIR/keys"
  [ -f "$KEY" ] || ssh-keygen -q -t ed25519 -N '' -C "mvp-vm-harness" -f "$KEY"
  rm -f "$DISK" "$VM_DIR/known_hosts" "$BASE.partial"

  local rootfs="$VM_DIR/rootfs"
  remove_rootfs "$rootfs"
  log "debootstrap $SUITE from $MIRROR (packages cached in $VM_DIR/cache)"
  debootstrap --arch=amd64 --cache-dir="$VM_DIR/cache" \
    --include="$PACKAGES" \
    "$SUITE" "$rootfs" "$MIRROR" >"$VM_DIR/debootstrap.log" 2>&1 \
    || die "debootstrap failed; see $VM_DIR/debootstrap.log"

  log "configuring the root file system"
  local uuid
  uuid=$(cat /proc/sys/kernel/random/uuid)
  echo "$NAME" >"$rootfs/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$NAME" >"$rootfs/etc/hosts"
  printf 'UUID=%s\t/\text4\terrors=remount-ro\t0\t1\n' "$uuid" >"$rootfs/etc/fstab"
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  cat >"$rootfs/etc/systemd/network/50-mvp-vm.network" <<'EOF'
[Match]
Type=ether

[Network]
DHCP=yes
EOF
  # The deploy user, as a provider's first user: the harness's key and passwordless sudo, in the
  # file the hardening role owns afterwards (/etc/sudoers.d/50-mvp-access).
  chroot "$rootfs" useradd --create-home --shell /bin/bash --comment "Automation (Ansible, releases)" deploy
  install -d -m 0700 -o "$(chroot "$rootfs" id -u deploy)" -g "$(chroot "$rootfs" id -g deploy)" "$rootfs/home/deploy/.ssh"
  install -m 0600 -o "$(chroot "$rootfs" id -u deploy)" -g "$(chroot "$rootfs" id -g deploy)" \
    "$KEY.pub" "$rootfs/home/deploy/.ssh/authorized_keys"
  echo 'deploy ALL=(ALL:ALL) NOPASSWD: ALL' >"$rootfs/etc/sudoers.d/50-mvp-access"
  chmod 0440 "$rootfs/etc/sudoers.d/50-mvp-access"
  # GRUB on the serial console; its packages downloaded now (installed from the first boot, where
  # /dev/vda exists). The chroot resolves names with the build machine's resolv.conf meanwhile.
  mkdir -p "$rootfs/etc/default/grub.d"
  cat >"$rootfs/etc/default/grub.d/50-mvp-vm.cfg" <<'EOF'
GRUB_TIMEOUT=1
GRUB_CMDLINE_LINUX_DEFAULT="console=ttyS0,115200n8"
GRUB_TERMINAL=serial
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
EOF
  rm -f "$rootfs/etc/resolv.conf"
  cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
  chroot "$rootfs" apt-get -qq update
  DEBIAN_FRONTEND=noninteractive chroot "$rootfs" apt-get -qq install --download-only -y grub-pc >/dev/null
  ln -sf ../run/systemd/resolve/stub-resolv.conf "$rootfs/etc/resolv.conf"
  chroot "$rootfs" systemctl enable systemd-networkd systemd-resolved ssh >/dev/null 2>&1
  chroot "$rootfs" passwd --lock root >/dev/null

  log "making the disk ($SIZE)"
  local kernel initrd
  kernel=$(find "$rootfs/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n1)
  initrd=$(find "$rootfs/boot" -maxdepth 1 -name 'initrd.img-*' | sort -V | tail -n1)
  if [ -z "$kernel" ] || [ -z "$initrd" ]; then die "no kernel or initrd in $rootfs/boot"; fi
  cp "$kernel" "$VM_DIR/first-boot-vmlinuz"
  cp "$initrd" "$VM_DIR/first-boot-initrd"
  qemu-img create -q -f raw "$BASE.partial" "$SIZE"
  echo "${PART_START_SECTOR},,L,*" | sfdisk -q --label dos "$BASE.partial"
  local bytes fs_kib
  bytes=$(stat -c %s "$BASE.partial")
  fs_kib=$(((bytes - PART_START_SECTOR * 512) / 1024))
  mke2fs -q -F -t ext4 -L mvp-root -U "$uuid" -E "offset=$((PART_START_SECTOR * 512))" \
    -d "$rootfs" "$BASE.partial" "${fs_kib}k"
  remove_rootfs "$rootfs"

  # First boot straight from the kernel and initrd copied out of /boot; GRUB goes into the MBR
  # there, so every later boot goes through GRUB like a server's.
  log "first boot (direct kernel): installing GRUB"
  boot "$BASE.partial" raw -kernel "$VM_DIR/first-boot-vmlinuz" -initrd "$VM_DIR/first-boot-initrd" \
    -append "root=UUID=$uuid ro console=ttyS0,115200n8"
  wait_ssh deploy 600
  vm_ssh deploy sudo sh -euc "'
    echo \"grub-pc grub-pc/install_devices multiselect /dev/vda\" | debconf-set-selections
    DEBIAN_FRONTEND=noninteractive apt-get -qq install -y grub-pc >/dev/null
    grub-install --target=i386-pc /dev/vda 2>&1
    update-grub 2>&1
    apt-get -qq clean
    fstrim / || true
  '"
  vm_ssh deploy sudo systemctl poweroff || true
  wait_exit 120
  rm -f "$VM_DIR/first-boot-vmlinuz" "$VM_DIR/first-boot-initrd"
  mv "$BASE.partial" "$BASE"
  log "built $BASE"
}

start() {
  [ -f "$BASE" ] || die "no disk yet: scripts/test-vm.sh build"
  if [ ! -f "$DISK" ]; then
    qemu-img create -q -f qcow2 -F raw -b "$BASE" "$DISK"
  fi
  boot "$DISK" qcow2
  wait_ssh deploy 600
  log "$NAME is up: ssh -p $PORT deploy@127.0.0.1 (scripts/test-vm.sh ssh)"
}

stop() {
  running || { rm -f "$PIDFILE"; log "not running"; return; }
  vm_ssh deploy sudo systemctl poweroff 2>/dev/null || true
  wait_exit 120
  log "stopped"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  build) build ;;
  start) start ;;
  stop) stop ;;
  reset) stop; rm -f "$DISK" "$VM_DIR/known_hosts"; log "the next start boots the fresh disk" ;;
  ssh) vm_ssh deploy "$@" ;;
  status)
    if running; then echo "running (pid $(cat "$PIDFILE"), ssh port $PORT)"; else echo "stopped"; fi
    echo "accelerator: $(accelerator)" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 2 ;;
esac
