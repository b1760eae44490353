#!/usr/bin/env bash
# Make sure a libvirt daemon answers on $LIBVIRT_URI (default qemu:///system).
# CI machines have no systemd, so the daemons are started directly: virtlogd first
# (QEMU domains log through it), then libvirtd, both daemonised with -d.
set -euo pipefail

LIBVIRT_URI=${LIBVIRT_URI:-qemu:///system}
LIBVIRT_TIMEOUT=${LIBVIRT_TIMEOUT:-60}

answers() {
    timeout 10 virsh -c "$LIBVIRT_URI" version >/dev/null 2>&1
}

SUDO=
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
fi

start_daemon() {
    local daemon=$1 path
    pgrep -x "$daemon" >/dev/null 2>&1 && return 0
    path=$(command -v "$daemon" || echo "/usr/sbin/$daemon")
    if [ ! -x "$path" ]; then
        echo "libvirtd: $daemon not installed; run 'make deps-test' (bindep profile 'test')" >&2
        exit 1
    fi
    echo "libvirtd: starting $path -d"
    $SUDO "$path" -d
}

if ! command -v virsh >/dev/null 2>&1; then
    echo "libvirtd: virsh not found; run 'make deps-test' (bindep profile 'test')" >&2
    exit 1
fi

# A libvirtd started by hand may lack virtlogd, and then no QEMU domain can start.
if [[ "$LIBVIRT_URI" == qemu* ]]; then
    start_daemon virtlogd
fi
if ! answers; then
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        echo "libvirtd: starting libvirtd.service through systemd"
        $SUDO systemctl start libvirtd.service || true
    fi
    answers || start_daemon libvirtd
fi

deadline=$(( $(date +%s) + LIBVIRT_TIMEOUT ))
until answers; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        echo "libvirtd: $LIBVIRT_URI did not answer within ${LIBVIRT_TIMEOUT}s." >&2
        echo "libvirtd: check 'virsh -c $LIBVIRT_URI version' and /var/log/libvirt/." >&2
        exit 1
    fi
    sleep 1
done
echo "libvirtd: $LIBVIRT_URI answers ($(virsh -c "$LIBVIRT_URI" version 2>/dev/null | grep -i 'running hypervisor' || echo 'no hypervisor line'))"
