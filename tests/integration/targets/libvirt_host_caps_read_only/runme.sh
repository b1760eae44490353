#!/usr/bin/env bash
# libvirt_host_caps as a user who may use libvirt's read-only socket but not the
# read-write one (the Unix user hostcaps-ro, created here), against a libvirtd of its
# own (private-libvirtd.sh), for both ways a host withholds read-write access.
set -euxo pipefail

cd "$(dirname "$0")"
ansible-playbook -i ../../inventory setup.yml "$@"
for model in polkit socket-group; do
    unshare --mount --net --propagation private -- \
        ./private-libvirtd.sh "$model" \
        ansible-playbook -i ../../inventory read_only_user.yml "$@"
done
