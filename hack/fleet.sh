#!/usr/bin/env bash
# Usage: hack/fleet.sh [start|stop|status]
#
# The SSH side of the functional fleet test (tests/functional/fleet.py): private sshd
# daemons on loopback addresses, so that plays reach "hypervisors" over real SSH. Run as
# root. Idempotent: `start` leaves running daemons alone when their configuration is the
# same, and restarts them when it changed. Nothing of a system sshd is read or touched:
# the daemons have their own configuration, host keys, port and pid files under
# $FLEET_DIR, and listen only on 127.0.0.0/8.
#
#   root sshd       127.0.0.2 ... 127.0.0.$FLEET_LAST, port $FLEET_PORT, user root; this
#                   machine's libvirt and test:/// hosts are reached through it.
#   read-only sshd  $FLEET_RO_ADDRESS, port $FLEET_PORT, user hostcaps-ro only. It runs
#                   beside a libvirtd of its own in a mount namespace (the integration
#                   target libvirt_host_caps_read_only's private-libvirtd.sh, model
#                   socket-group), where hostcaps-ro may use the read-only socket only.
#                   The host's libvirtd, which asks polkit, is not changed.
#
# The user hostcaps-ro is the one of that integration target, created by its setup.yml
# (run here with $ANSIBLE_PLAYBOOK when the user is missing). One key pair, $FLEET_DIR/id_ed25519,
# is authorised for both users (AuthorizedKeysFile under $FLEET_DIR: no home is changed).
#
# `status` prints KEY=VALUE lines that tests/functional/fleet.py reads.
set -euo pipefail

# sshd listens on 16 sockets at most (MAX_LISTEN_SOCKS): 14 addresses for root.
FLEET_DIR=${FLEET_DIR:-/run/hostcaps-fleet}
FLEET_PORT=${FLEET_PORT:-2022}
FLEET_LAST=${FLEET_LAST:-15}
FLEET_RO_ADDRESS=${FLEET_RO_ADDRESS:-127.0.0.16}
FLEET_RO_USER=hostcaps-ro
ANSIBLE_PLAYBOOK=${ANSIBLE_PLAYBOOK:-ansible-playbook}
SSHD=/usr/sbin/sshd
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RO_TARGET=$ROOT/tests/integration/targets/libvirt_host_caps_read_only

die() {
    echo "fleet: $*" >&2
    exit 1
}

running() {
    local pidfile=$1 pid
    [ -s "$pidfile" ] || return 1
    pid=$(cat "$pidfile")
    kill -0 "$pid" 2>/dev/null
}

stop_one() {
    local pidfile=$1 pid tries=50
    if running "$pidfile"; then
        pid=$(cat "$pidfile")
        kill "$pid"
        while kill -0 "$pid" 2>/dev/null && [ "$tries" -gt 0 ]; do
            sleep 0.1
            tries=$((tries - 1))
        done
    fi
    rm -f "$pidfile"
}

# sshd_config of one daemon, on stdout.
sshd_config() {
    local name=$1 users=$2
    shift 2
    local address
    for address in "$@"; do
        echo "ListenAddress $address:$FLEET_PORT"
    done
    cat <<CONF
HostKey $FLEET_DIR/ssh_host_ed25519_key
PidFile $FLEET_DIR/sshd-$name.pid
AuthorizedKeysFile $FLEET_DIR/authorized_keys/%u
AllowUsers $users
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
# PAM lets a system user whose password is locked (useradd's '!') in with a key.
UsePAM yes
StrictModes yes
X11Forwarding no
AllowTcpForwarding no
PrintMotd no
# The plays open many sessions on each address at once (forks, ControlMaster).
MaxStartups 100:30:200
MaxSessions 50
LogLevel INFO
Subsystem sftp internal-sftp
CONF
}

wait_port() {
    local address=$1 tries=100
    while [ "$tries" -gt 0 ]; do
        if (exec 3<>"/dev/tcp/$address/$FLEET_PORT") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
        tries=$((tries - 1))
    done
    return 1
}

# Writes the config to $FLEET_DIR/sshd-NAME.conf; true when it differs from the one there.
write_config() {
    local name=$1 users=$2
    shift 2
    local new=$FLEET_DIR/sshd-$name.conf.new
    sshd_config "$name" "$users" "$@" >"$new"
    "$SSHD" -t -f "$new" || die "sshd refuses $new"
    if cmp -s "$new" "$FLEET_DIR/sshd-$name.conf"; then
        rm -f "$new"
        return 1
    fi
    mv "$new" "$FLEET_DIR/sshd-$name.conf"
    return 0
}

check_login() {
    local user=$1 address=$2
    ssh -q -F /dev/null -i "$FLEET_DIR/id_ed25519" -p "$FLEET_PORT" -o BatchMode=yes -o ConnectTimeout=5 \
        -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "$user@$address" true 2>>"$FLEET_DIR/login.log" \
        || die "ssh $user@$address:$FLEET_PORT does not log in; see $FLEET_DIR/login.log and sshd-*.log"
}

root_addresses() {
    local i
    for i in $(seq 2 "$FLEET_LAST"); do
        echo "127.0.0.$i"
    done
}

start() {
    [ "$(id -u)" = 0 ] || die "run me as root (the fleet logs in as root and as $FLEET_RO_USER)"
    [ -x "$SSHD" ] || die "$SSHD is missing: install openssh-server (bindep.txt, profile test: make deps-test)"
    command -v unshare >/dev/null || die "unshare is missing (util-linux)"

    if ! id "$FLEET_RO_USER" >/dev/null 2>&1; then
        "$ANSIBLE_PLAYBOOK" -i 'testhost,' -c local -e ansible_python_interpreter=/usr/bin/python3 "$RO_TARGET/setup.yml" >/dev/null \
            || die "creating $FLEET_RO_USER with $RO_TARGET/setup.yml failed"
    fi

    install -d -m 0755 "$FLEET_DIR" "$FLEET_DIR/authorized_keys"
    # sshd's privilege separation directory; Debian creates it only from its unit.
    install -d -m 0755 /run/sshd
    [ -s "$FLEET_DIR/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C hostcaps-fleet-host -f "$FLEET_DIR/ssh_host_ed25519_key"
    [ -s "$FLEET_DIR/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C hostcaps-fleet -f "$FLEET_DIR/id_ed25519"
    local user
    for user in root "$FLEET_RO_USER"; do
        install -m 0644 -o root -g root "$FLEET_DIR/id_ed25519.pub" "$FLEET_DIR/authorized_keys/$user"
    done

    local -a addresses
    mapfile -t addresses < <(root_addresses)
    if write_config root root "${addresses[@]}" || ! running "$FLEET_DIR/sshd-root.pid"; then
        stop_one "$FLEET_DIR/sshd-root.pid"
        "$SSHD" -f "$FLEET_DIR/sshd-root.conf" -E "$FLEET_DIR/sshd-root.log"
    fi

    if write_config ro "$FLEET_RO_USER" "$FLEET_RO_ADDRESS" || ! running "$FLEET_DIR/sshd-ro.pid"; then
        stop_one "$FLEET_DIR/sshd-ro.pid"
        # The namespace lives as long as its sshd: private-libvirtd.sh stops its libvirtd
        # when the command it runs (sshd -D) ends.
        setsid unshare --mount --propagation private -- "$RO_TARGET/private-libvirtd.sh" socket-group \
            "$SSHD" -D -f "$FLEET_DIR/sshd-ro.conf" -E "$FLEET_DIR/sshd-ro.log" \
            </dev/null >"$FLEET_DIR/namespace-ro.log" 2>&1 &
    fi

    wait_port "${addresses[0]}" || die "the root sshd does not listen; see $FLEET_DIR/sshd-root.log"
    # The private libvirtd comes up before its sshd starts.
    wait_port "$FLEET_RO_ADDRESS" || die "the read-only sshd does not listen; see $FLEET_DIR/namespace-ro.log and sshd-ro.log"
    check_login root "${addresses[0]}"
    check_login "$FLEET_RO_USER" "$FLEET_RO_ADDRESS"
    status
}

status() {
    echo "FLEET_DIR=$FLEET_DIR"
    echo "FLEET_PORT=$FLEET_PORT"
    echo "FLEET_KEY=$FLEET_DIR/id_ed25519"
    echo "FLEET_ROOT_ADDRESSES=$(root_addresses | tr '\n' ' ' | sed 's/ $//')"
    echo "FLEET_RO_ADDRESS=$FLEET_RO_ADDRESS"
    echo "FLEET_RO_USER=$FLEET_RO_USER"
    local name
    for name in root ro; do
        if running "$FLEET_DIR/sshd-$name.pid"; then
            echo "FLEET_SSHD_${name^^}=running"
        else
            echo "FLEET_SSHD_${name^^}=stopped"
        fi
    done
}

case "${1:-start}" in
    start) start ;;
    stop)
        stop_one "$FLEET_DIR/sshd-ro.pid"
        stop_one "$FLEET_DIR/sshd-root.pid"
        ;;
    status) status ;;
    *) die "unknown command '$1' (start, stop or status)" ;;
esac
