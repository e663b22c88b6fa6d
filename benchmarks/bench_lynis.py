"""Lynis hardening index of a host converged with the production settings, and where points are lost.

Runs ``lynis audit system --quick`` (Debian's package) inside the security scenario's host
(container ``mvp-sec-host``: ``molecule converge -s security`` creates and converges it with the
hardening role and the production inventory's SSH, MFA and allowlist settings), then reads
Lynis's own log: every "assigned N hardening points (max M)" line, grouped by test id, so the
result lists each test that lost points and how many.

A test container cannot apply kernel parameters (``/proc/sys`` is read-only), so KRNL-6000 (one
point per sysctl key that differs from Lynis's scan profile) is measured against the machine's
values, not the role's. The result also gives the index *projected for a real host*: KRNL-6000's
keys that the role's sysctl file (``/etc/sysctl.d/60-mvp-hardening.conf`` on the host) sets to
Lynis's expected value counted as earned. Both numbers are written; only the first is measured.

``--vm`` measures a virtual machine instead (QEMU, with KVM where the CPU allows;
``scripts/test-vm.sh``; not in CI): a fresh copy of the Debian 13 disk is booted, converged with
the same production settings as the scenario
(``molecule/security/converge.yml`` on ``benchmarks/vm/inventory.yml``: the hardening and
security_audit roles, Ansible over SSH as the deploy user), converged again (idempotence), then
audited with the project's own ``playbooks/audit.yml`` (Lynis and ssh-audit, as on a production
host). Its Lynis log, report and ``/var/lib/mvp-audit/result.json`` are read over SSH and parsed
as above; nothing is projected. The result is the ``vm`` section of the same file (the container
measurement is kept); the VM is stopped at the end unless ``--keep-running``.

Writes benchmarks/results/lynis.json. Run: .venv/bin/python benchmarks/bench_lynis.py [--host mvp-sec-host]
or .venv/bin/python benchmarks/bench_lynis.py --vm [--reuse [--read-only] [--note TEXT]] [--keep-running]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "results" / "lynis.json"
VM_SCRIPT = ROOT / "scripts" / "test-vm.sh"
VM_INVENTORY = ROOT / "benchmarks" / "vm" / "inventory.yml"
VM_CONVERGE = ROOT / "molecule" / "security" / "converge.yml"
AUDIT_DIR = "/var/lib/mvp-audit"
SYSCTL_FILE = "/etc/sysctl.d/60-mvp-hardening.conf"
TEST_RE = re.compile(r"Performing test ID (\S+) \((.*)\)")
FULL_RE = re.compile(r"assigned maximum number of hardening points for this item \((\d+)\)")
PART_RE = re.compile(r"assigned partial number of hardening points \((\d+) of (\d+)\)")
SYSCTL_RE = re.compile(
    r"sysctl key (\S+) has a different value than expected in scan profile\. Expected=(\S+), Real=(\S+)"
)
# From Lynis's log: its report file holds only some of them with --quick.
SUGGESTION_RE = re.compile(r"Suggestion: (.*?) \[test:([^\]]+)\] \[details:([^\]]*)\]")
# Why each open suggestion is left (the hardening README's "Lynis" section says more).
WHY_LEFT = {
    "SSH-7408 AllowTcpForwarding": "decided against: operators reach Prometheus and PostgreSQL through SSH "
    "tunnels (local only)",
    "SSH-7408 MaxSessions": "decided against: 4 = a shell, a copy and Ansible's multiplexed tasks at once",
    "SSH-7408 Port": "decided against as a default: set hardening_ssh_port (the move is guarded); a port is no secret",
    "AUTH-9286": "decided against: the accounts have no password (keys only); an expired one makes sshd "
    "refuse the login",
    "DEB-0810": "decided against: apt-listbugs asks bugs.debian.org at every apt run, unattended upgrades included",
    "DEB-0811": "left: apt-listchanges shows news to a person at a terminal; these hosts upgrade unattended",
    "DEB-0880": "left: the role's jail is in jail.d/ (fail2ban's place for local settings); "
    "an empty jail.local only for the check would change nothing",
    "HRDN-7230": "left: a malware scanner (rkhunter, ClamAV) repeats AIDE's job with more false alarms or "
    "costs a resident signature database; AIDE is the file integrity check",
    "LOGG-2154": "left: the journal is the log store (LOG-2, local storage); remote log archiving is not "
    "part of the platform yet",
    "ACCT-9626": "left: sysstat's accounting duplicates node_exporter's metrics",
    "ACCT-9628": "not applicable in a container: the kernel refuses audit requests; the role runs auditd on real hosts",
    "KRNL-6000": "not applicable in a container: /proc/sys is read-only; the role's sysctl file sets 16 of the 17 "
    "keys (the 17th, net.ipv4.conf.all.forwarding=1, is what Docker needs)",
    "KRNL-5788": "not applicable in a container: no kernel image in /boot",
    "FILE-6310": "host layout, not the role's: separate /home and /var partitions are decided when the server is made",
    "NETW-2705": "test network: Docker's embedded resolver is the only name server; real hosts use the provider's",
    "NAME-4028": "test network: the container has no DNS domain name",
    "BOOT-5264": "left: a per-unit review of systemd-analyze security, not done here",
    "BOOT-5180": "informational (runlevels; systemd host)",
    "AUTH-9284": "informational: the locked accounts are the system's own (no password, no shell login)",
    "PKGS-7392": "test image: upgrades pending in the image; unattended-upgrades installs security updates daily",
    "LYNIS": "Debian's packaged Lynis (updated with the distribution, not from the website)",
}


# On the VM the container's "not applicable" reasons do not hold: these replace them there.
WHY_LEFT_VM = {
    "KRNL-6000": "see vm.sysctl_differing: kernel.modules_disabled=1 is decided against (Docker loads "
    "overlay, bridge and netfilter modules when it needs them)",
    "KRNL-5788": "see the suggestion's details",
    "ACCT-9628": "see the suggestion's details",
    "NETW-2705": "QEMU's user network gives one name server (10.0.2.3) by DHCP; a provider's DHCP usually gives two",
    "NAME-4028": "test VM: QEMU's DHCP gives no DNS domain name",
    "PKGS-7392": "upgrades published after the VM's disk was built; unattended-upgrades installs security "
    "updates daily",
    "BOOT-5122": "left: a GRUB password guards against a person at the console; a server's console is the "
    "provider's, whose rescue system boots without GRUB, and the password would be one more secret to keep",
}


def sh(host: str, cmd: str, timeout: int = 900) -> str:
    return subprocess.run(
        ["docker", "exec", host, "sh", "-c", cmd], capture_output=True, text=True, check=True, timeout=timeout
    ).stdout


def points(log: str) -> tuple[int, int, dict]:
    """(earned, possible, {test: {title, lost}}) from Lynis's log."""
    earned = possible = 0
    lost: dict = {}
    test, title = "-", ""
    for line in log.splitlines():
        if m := TEST_RE.search(line):
            test, title = m.group(1), m.group(2)
            continue
        if m := FULL_RE.search(line):
            got = top = int(m.group(1))
        elif m := PART_RE.search(line):
            got, top = int(m.group(1)), int(m.group(2))
        else:
            continue
        earned, possible = earned + got, possible + top
        if got < top:
            entry = lost.setdefault(test, {"title": title, "lost": 0})
            entry["lost"] += top - got
    return earned, possible, lost


def role_sysctls(text: str) -> dict:
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line and not line.lstrip().startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


def suggestions(log: str, why_left: dict | None = None) -> list:
    """Each open suggestion once, with why it is left (WHY_LEFT: by test id, or test id and the option)."""
    why_left = WHY_LEFT if why_left is None else why_left
    seen, out = set(), []
    for text, test, details in SUGGESTION_RE.findall(log):
        if (text, test, details) in seen:
            continue
        seen.add((text, test, details))
        option = details.split(" ", 1)[0] if details not in ("", "-") else ""
        why = why_left.get(f"{test} {option}") or why_left.get(test, "not reviewed")
        out.append({"test": test, "suggestion": text, "details": details, "why_left": why})
    return out


def variants(log: str, earned: int, possible: int) -> dict:
    """The sysctl projection with what a real host changes in Lynis's scoring and a container cannot show."""
    out = {}
    # ACCT-9628: auditd running gives 4 of 4 (the container's skipped auditd: 0 of 1).
    auditd = "auditd running" not in log and "ACCT-9628" in log
    if auditd:
        earned, possible = earned + 4, possible + 3
        out["auditd_running"] = {
            "index": earned * 100 // possible,
            "points": [earned, possible],
            "why": "ACCT-9628 gives 4 of 4 when auditd runs (the role runs it on real hosts; "
            "a container refuses audit requests): +4 earned, +3 possible",
        }
    # USB-2000 runs only where /sys/bus/usb/devices exists; with a USB controller its root hubs are
    # always authorised (authorized=1), so the test gives 0 of 3 whatever USBGuard does.
    if "USB devices path" in log and "devices path does not exist" in log:
        out["with_a_usb_controller"] = {
            "index": earned * 100 // (possible + 3),
            "points": [earned, possible + 3],
            "why": "USB-2000: 0 of 3 on a host with a USB controller (root hubs are authorised); a host without "
            "one (no /sys/bus/usb/devices entries) gets 3 of 3 instead",
        }
    # MACF-6290: a MAC framework active gives 3 of 3 (the container: 2 of 3). Debian's kernel has
    # AppArmor on by default; that is the distribution's, not the role's.
    if "found no implemented MAC framework" in log:
        earned += 1
        out["apparmor_active"] = {
            "index": earned * 100 // (possible + (3 if "with_a_usb_controller" in out else 0)),
            "why": "MACF-6290: 3 of 3 with AppArmor active (Debian's kernel default, not the role's): +1 earned",
        }
    return out


def report_index(report: str) -> int | None:
    """Lynis' hardening index in its report; None when the run did not finish."""
    found = re.search(r"^hardening_index=(\d+)", report, re.M)
    return int(found.group(1)) if found else None


def vm(*args: str, timeout: int = 1800) -> float:
    """scripts/test-vm.sh with these arguments; its wall time in seconds."""
    start = time.monotonic()
    subprocess.run([str(VM_SCRIPT), *args], check=True, timeout=timeout, cwd=ROOT)
    return round(time.monotonic() - start, 1)


def vm_sh(cmd: str, timeout: int = 300, tries: int = 3) -> str:
    """A shell command as root on the VM (the deploy user's sudo), its output.

    An emulated VM sometimes leaves one SSH connection hanging; the read-only commands here are
    simply asked again.
    """
    for attempt in range(1, tries + 1):
        try:
            return subprocess.run(
                [str(VM_SCRIPT), "ssh", "sudo", "sh", "-c", shlex.quote(cmd)],
                capture_output=True,
                text=True,
                check=True,
                timeout=timeout,
                cwd=ROOT,
            ).stdout
        except subprocess.TimeoutExpired:
            if attempt == tries:
                raise
    raise AssertionError("unreachable")


def playbook(playbook_path: Path) -> tuple[float, dict]:
    """ansible-playbook on the VM inventory: wall time and the recap's counts for the VM."""
    env = os.environ | {
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
    }
    log_path = Path(f"/tmp/mvp-vm-{playbook_path.stem}.log")  # noqa: S108 - for the person running it
    start = time.monotonic()
    with log_path.open("w") as log_file:
        proc = subprocess.run(
            ["ansible-playbook", "-i", str(VM_INVENTORY), str(playbook_path)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            timeout=7200,
            cwd=ROOT,
            check=False,
        )
    wall = round(time.monotonic() - start, 1)
    output = log_path.read_text()
    if proc.returncode != 0:
        raise SystemExit(f"{playbook_path.name} failed on the VM (rc {proc.returncode}); see {log_path}")
    recap = re.search(r"^mvp-vm-\S*\s*:\s*(.*)$", output, re.M)
    counts = dict(re.findall(r"(\w+)=(\d+)", recap.group(1))) if recap else {}
    return wall, {k: int(v) for k, v in counts.items()}


def measure_vm(args: argparse.Namespace) -> dict:
    """Build (or reuse) the disk, boot a fresh copy, converge twice, audit, and read the results.

    --read-only reads the last audit's reports again (e.g. after a reason in WHY_LEFT_VM changed).
    """
    timings: dict = {}
    recaps: dict = {}
    if not args.reuse:
        reused = (Path(os.environ.get("MVP_VM_DIR", "/var/tmp/mvp-vm")) / "base.raw").is_file()  # noqa: S108
        timings["build_s" if not reused else "build_reused_s"] = vm("build", timeout=3600)
        vm("reset")
        timings["boot_to_ssh_s"] = vm("start")
        timings["converge_s"], recaps["converge"] = playbook(VM_CONVERGE)
        if not args.once:
            timings["second_converge_s"], recaps["second_converge"] = playbook(VM_CONVERGE)
    if args.read_only:  # the reports of the last audit; its timings are those recorded with it
        last = (json.loads(RESULT.read_text()) if RESULT.is_file() else {}).get("vm", {})
        timings, recaps = last.get("timings", {}), last.get("playbook_recaps", {})
    else:
        timings["audit_s"], recaps["audit"] = playbook(ROOT / "playbooks" / "audit.yml")

    log = vm_sh(f"cat {AUDIT_DIR}/lynis.log")
    report = vm_sh(f"cat {AUDIT_DIR}/lynis-report.dat")
    audit = json.loads(vm_sh(f"cat {AUDIT_DIR}/result.json"))
    earned, possible, lost = points(log)
    wanted = role_sysctls(vm_sh(f"cat {SYSCTL_FILE} 2>/dev/null || true"))
    differing = [{"key": k, "expected": e, "live": r, "role_sets": wanted.get(k)} for k, e, r in SYSCTL_RE.findall(log)]
    usb = vm_sh("ls /sys/bus/usb/devices 2>/dev/null || true").split()
    status = subprocess.run([str(VM_SCRIPT), "status"], capture_output=True, text=True, check=True).stdout
    accel = re.search(r"accelerator: (\S+)", status).group(1)
    return {
        "what": "a QEMU virtual machine (scripts/test-vm.sh; KVM or emulated, see machine.accelerator): "
        "Debian 13 from debootstrap, booted through GRUB, "
        "converged with molecule/security/converge.yml on benchmarks/vm/inventory.yml (production settings), "
        "audited with playbooks/audit.yml; measured, nothing projected",
        "history": args.note or None,
        "when": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "host": "mvp-vm-1",
        "machine": {
            "host_cpus": os.cpu_count(),
            "host_load_1min_at_the_end": round(os.getloadavg()[0], 1),
            "accelerator": accel,
            "vm": "QEMU q35, 2 vCPUs, 2 GiB, virtio disk and NIC, user-mode network"
            + (", xHCI USB controller with a tablet" if usb else ", no USB"),
        },
        "kernel": vm_sh("uname -r").strip(),
        "os": vm_sh(". /etc/os-release && echo $PRETTY_NAME").strip(),
        "lynis": vm_sh("lynis show version").strip(),
        "usb_devices": usb,
        "apparmor": vm_sh("cat /sys/module/apparmor/parameters/enabled 2>/dev/null || echo absent").strip(),
        "auditd": vm_sh("systemctl is-active auditd || true").strip(),
        "usbguard": vm_sh("systemctl is-active usbguard || true").strip(),
        "hardening_index": report_index(report),
        "audit_hardening_index": audit.get("lynis_hardening_index"),
        "points": {"earned": earned, "possible": possible},
        "goal": 88,
        "ssh_audit": {
            "fail": audit.get("ssh_fail"),
            "warn": audit.get("ssh_warn"),
            "details": audit.get("ssh_details", []),
        },
        "audit_regressions": audit.get("regressions", []),
        "timings": timings,
        "playbook_recaps": recaps,
        "lost_points_by_test": dict(sorted(lost.items(), key=lambda kv: -kv[1]["lost"])),
        "sysctl_differing": differing,
        "open_suggestions": suggestions(log, WHY_LEFT | WHY_LEFT_VM),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="mvp-sec-host")
    parser.add_argument("--vm", action="store_true", help="measure the KVM VM of scripts/test-vm.sh instead")
    parser.add_argument("--reuse", action="store_true", help="--vm: audit the running, converged VM as it is")
    parser.add_argument("--once", action="store_true", help="--vm: converge once (no idempotence run)")
    parser.add_argument("--note", default="", help="--vm --reuse: how the running VM was converged (recorded)")
    parser.add_argument(
        "--read-only", action="store_true", help="--vm --reuse: read the reports of the VM's last audit, run nothing"
    )
    parser.add_argument("--keep-running", action="store_true", help="--vm: leave the VM running")
    args = parser.parse_args()
    previous = json.loads(RESULT.read_text()) if RESULT.is_file() else {}

    if args.vm:
        try:
            section = measure_vm(args)
        finally:
            if not args.keep_running:
                vm("stop")
        RESULT.write_text(json.dumps(previous | {"vm": section}, indent=2) + "\n")
        summary = {k: section[k] for k in ("hardening_index", "points", "ssh_audit", "timings")}
        summary["ssh_audit"] = {k: section["ssh_audit"][k] for k in ("fail", "warn")}
        print(json.dumps(summary | {"lost": {k: v["lost"] for k, v in section["lost_points_by_test"].items()}}))
        return

    install = "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lynis >/dev/null"
    sh(args.host, f"command -v lynis >/dev/null || {install}")
    sh(args.host, "lynis audit system --quick --no-colors >/dev/null 2>&1 || true")
    log = sh(args.host, "cat /var/log/lynis.log")
    report = sh(args.host, "cat /var/log/lynis-report.dat")
    index = int(re.search(r"^hardening_index=(\d+)", report, re.M).group(1))
    earned, possible, lost = points(log)

    wanted = role_sysctls(sh(args.host, f"cat {SYSCTL_FILE} 2>/dev/null || true"))
    differing = [{"key": k, "expected": e, "live": r, "role_sets": wanted.get(k)} for k, e, r in SYSCTL_RE.findall(log)]
    fixed_by_role = [d["key"] for d in differing if d["role_sets"] == d["expected"]]
    projected = earned + len(fixed_by_role)

    result = {
        "benchmark": "Lynis hardening index of the security scenario's host (hardening role, production settings)",
        "when": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "host": args.host,
        "lynis": sh(args.host, "lynis show version").strip(),
        "machine": {"cpus": os.cpu_count()},
        "hardening_index": index,
        "points": {"earned": earned, "possible": possible},
        "goal": 88,
        "lost_points_by_test": dict(sorted(lost.items(), key=lambda kv: -kv[1]["lost"])),
        "sysctl_in_container": {
            "differing_keys": differing,
            "set_right_by_the_role_file": fixed_by_role,
            "note": "/proc/sys is read-only in a test container: the role writes the file, "
            "the kernel keeps the machine's values",
        },
        "projected_real_host_index": projected * 100 // possible,
        "projection_note": "measured points plus the KRNL-6000 keys the role's sysctl file sets to "
        "Lynis's value; not measured",
        # What else differs on a real host, from Lynis's own scoring (not measured here): each
        # variant adds its difference to the one before (sysctl, then auditd, then a USB controller).
        "projection_variants": variants(log, earned + len(fixed_by_role), possible),
        "open_suggestions": suggestions(log),
    }
    if "vm" in previous:
        result["vm"] = previous["vm"]
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    summary = {k: result[k] for k in ("hardening_index", "projected_real_host_index")}
    print(json.dumps(summary | {"lost": {k: v["lost"] for k, v in result["lost_points_by_test"].items()}}))


if __name__ == "__main__":
    main()
