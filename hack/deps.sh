#!/usr/bin/env bash
# Install the Debian packages that bindep.txt lists for the given bindep profiles and
# that are missing. Usage: hack/deps.sh [PROFILE...]   (e.g. `compile test`)
#
# bindep itself comes from PyPI into a small bootstrap venv; on a fresh Debian 12 that
# venv cannot be made until python3-venv is installed, so that one package is
# bootstrapped by hand. apt-get update runs at most once, and only when something is
# missing, so a second run on a ready machine is quick and touches nothing.
set -euo pipefail

PYTHON=${PYTHON:-python3}
BOOTSTRAP_VENV=${BOOTSTRAP_VENV:-.tmp/bootstrap}
BINDEP_FILE=${BINDEP_FILE:-bindep.txt}
export DEBIAN_FRONTEND=noninteractive

SUDO=
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
fi

apt_updated=
apt_install() {
    if [ -z "$apt_updated" ]; then
        echo "deps: apt-get update"
        $SUDO apt-get update -q
        apt_updated=1
    fi
    echo "deps: apt-get install $*"
    $SUDO apt-get install -y -q "$@"
}

make_bootstrap_venv() {
    rm -rf "$BOOTSTRAP_VENV"
    "$PYTHON" -m venv "$BOOTSTRAP_VENV" >/dev/null 2>&1
}

if [ ! -x "$BOOTSTRAP_VENV/bin/bindep" ]; then
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        apt_install python3 python3-venv
    fi
    # Debian's python3 has the venv module but not ensurepip until python3-venv is in.
    if ! make_bootstrap_venv; then
        apt_install python3-venv
        if ! make_bootstrap_venv; then
            echo "deps: '$PYTHON -m venv' still fails after installing python3-venv." >&2
            echo "deps: a pyenv or other non-Debian Python needs its own venv support." >&2
            exit 1
        fi
    fi
    "$BOOTSTRAP_VENV/bin/python" -m pip install -q --disable-pip-version-check bindep
fi

# bindep -b prints the missing packages, one a line, and exits 1 when there are some.
rc=0
missing=$("$BOOTSTRAP_VENV/bin/bindep" -b -f "$BINDEP_FILE" "$@") || rc=$?
if [ "$rc" -ne 0 ] && [ -z "$missing" ]; then
    echo "deps: bindep failed (exit $rc) on $BINDEP_FILE" >&2
    exit "$rc"
fi
if [ -n "$missing" ]; then
    # shellcheck disable=SC2086  # one package a word
    apt_install $missing
    # A package that apt installed but bindep still misses means a wrong name.
    "$BOOTSTRAP_VENV/bin/bindep" -b -f "$BINDEP_FILE" "$@" >/dev/null || {
        echo "deps: still missing after install:" >&2
        "$BOOTSTRAP_VENV/bin/bindep" -b -f "$BINDEP_FILE" "$@" >&2 || true
        exit 1
    }
fi
echo "deps: all packages of bindep profile(s) '${*:-default}' present"
