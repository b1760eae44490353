#!/usr/bin/env bash
# Usage: private-libvirtd.sh polkit|socket-group COMMAND...
#
# Runs COMMAND beside a libvirtd of its own, inside a mount and network namespace (run
# it under `unshare --mount --net --propagation private`). Empty tmpfs over libvirt's
# run, state, cache, log and config directories hide the host's daemon, its domains and
# networks, so qemu:///system reaches this daemon only and the host's one is untouched.
# Read-write access is withheld from non-root users the two ways hosts do it:
#   polkit        Debian's stock configuration: polkit allows org.libvirt.unix.monitor
#                 (read-only) to anyone, org.libvirt.unix.manage (read-write) only to
#                 root and the libvirt group. A system bus and polkitd are started here,
#                 since CI machines run without systemd.
#   socket-group  no polkit: the read-write socket is mode 0770, group libvirt.
set -euo pipefail

model=$1
shift
case "$model" in
    polkit | socket-group) ;;
    *) echo "private-libvirtd: unknown access model '$model' (polkit or socket-group)" >&2; exit 2 ;;
esac
if [ "$(readlink /proc/self/ns/mnt)" = "$(readlink /proc/1/ns/mnt)" ]; then
    echo "private-libvirtd: run me under 'unshare --mount --net --propagation private'" >&2
    exit 2
fi

for dir in /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt /etc/libvirt /run/dbus; do
    mkdir -p "$dir"
    mount -t tmpfs -o mode=0755 tmpfs "$dir"
done

pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT

wait_for() {
    local what=$1 tries=120
    shift
    while [ "$tries" -gt 0 ]; do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        tries=$((tries - 1))
        sleep 0.5
    done
    echo "private-libvirtd: $what did not come up; daemon log:" >&2
    cat /run/libvirt/daemon.log >&2 || true
    exit 1
}

if [ "$model" = polkit ]; then
    : > /etc/libvirt/libvirtd.conf
    dbus-daemon --system --nofork --nopidfile >/run/libvirt/dbus.log 2>&1 &
    pids+=($!)
    wait_for 'the system bus' test -S /run/dbus/system_bus_socket
    /usr/lib/polkit-1/polkitd --no-debug >/run/libvirt/polkitd.log 2>&1 &
    pids+=($!)
    wait_for polkitd sh -c "dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.PolicyKit1 | grep -q 'boolean true'"
else
    getent group libvirt >/dev/null || groupadd --system libvirt
    cat > /etc/libvirt/libvirtd.conf <<'CONF'
unix_sock_group = "libvirt"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0770"
auth_unix_ro = "none"
auth_unix_rw = "none"
CONF
fi

/usr/sbin/libvirtd -f /etc/libvirt/libvirtd.conf -p /run/libvirt/libvirtd.pid >/run/libvirt/daemon.log 2>&1 &
pids+=($!)
wait_for libvirtd virsh -c qemu:///system version

"$@"
