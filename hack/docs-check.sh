#!/usr/bin/env bash
# Build the collection as Galaxy would, install the tarball into a scratch collections
# path and render the documentation of every plugin from there with ansible-doc, so
# docs that only work from the source tree (or a file build_ignore drops) are caught.
# Usage: hack/docs-check.sh WORKDIR FQCN     (run from the collection root)
set -euo pipefail

workdir=${1:?usage: docs-check.sh WORKDIR FQCN}
fqcn=${2:?usage: docs-check.sh WORKDIR FQCN}

rm -rf "$workdir"
mkdir -p "$workdir/dist" "$workdir/collections"
ansible-galaxy collection build --force --output-path "$workdir/dist" .
tarball=$(ls "$workdir"/dist/*.tar.gz)
# --no-deps: galaxy.yml's dependencies (community.libvirt) would be fetched from Galaxy,
# which CI cannot reach; ansible-doc renders this collection's docs without them.
ansible-galaxy collection install --force --offline --no-deps -p "$workdir/collections" "$tarball"

export ANSIBLE_COLLECTIONS_PATH="$workdir/collections"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false

# plugin type : where its plugins live : how a plugin file is named
plugins=()
for f in plugins/modules/*.py; do plugins+=("module:$f"); done
# Filters are documented by YAML files beside the Python file that defines them.
for f in plugins/filter/*.yml plugins/filter/*.yaml; do plugins+=("filter:$f"); done
for f in plugins/cache/*.py; do plugins+=("cache:$f"); done
for f in plugins/lookup/*.py; do plugins+=("lookup:$f"); done
# A role is documented by its meta/argument_specs.yml.
for f in roles/*/meta/argument_specs.yml; do plugins+=("role:${f%/meta/argument_specs.yml}"); done

checked=0
failed=0
for entry in "${plugins[@]}"; do
    type=${entry%%:*}
    file=${entry#*:}
    [ -e "$file" ] || continue
    name=$(basename "$file")
    name=${name%.*}
    case "$name" in __init__) continue ;; esac
    checked=$((checked + 1))
    out="$workdir/$type.$name.txt"
    # ansible-doc only warns, and may exit 0, for a plugin it cannot find or whose
    # documentation it cannot parse: any warning or error counts as a failure.
    if ansible-doc -t "$type" "$fqcn.$name" >"$out" 2>"$out.err" \
            && ! grep -qE 'ERROR|WARNING' "$out.err" && [ -s "$out" ]; then
        echo "docs-check: ok      $type $fqcn.$name"
    else
        failed=$((failed + 1))
        echo "docs-check: FAILED  $type $fqcn.$name" >&2
        sed 's/^/    /' "$out.err" >&2
    fi
done

echo "docs-check: $checked plugin(s) checked, $failed failed"
[ "$failed" -eq 0 ]
