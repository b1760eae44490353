#!/usr/bin/env bash
# Make sure a local PostgreSQL answers on 127.0.0.1 with the role and database the
# factdb tests use, then print their DSN on stdout (messages go to stderr), so
#   export FACTDB_TEST_POSTGRES=$(hack/postgres.sh)
# works. Idempotent: a running cluster, an existing role or database is left as is,
# only the role's password is set again.
# CI machines are fresh Debian 12 without systemd: the cluster is created with
# pg_createcluster when there is none and started with pg_ctlcluster, never systemctl.
set -euo pipefail

PG_ROLE=${FACTDB_PG_ROLE:-hostcaps}
PG_PASSWORD=${FACTDB_PG_PASSWORD:-hostcaps-test}
PG_DATABASE=${FACTDB_PG_DATABASE:-hostcaps_test}
PG_TIMEOUT=${FACTDB_PG_TIMEOUT:-60}

say() {
    echo "postgres: $*" >&2
}

die() {
    say "$*"
    exit 1
}

for tool in pg_lsclusters pg_ctlcluster pg_createcluster pg_isready psql; do
    command -v "$tool" >/dev/null 2>&1 \
        || die "$tool not found; install Debian's 'postgresql' package ('make deps-test', bindep profile 'test')"
done

# psql runs as the cluster's superuser, over its Unix socket (peer authentication).
as_postgres() {
    if [ "$(id -un)" = postgres ]; then
        "$@"
    elif [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        sudo -u postgres -- "$@"
    fi
}

SUDO=
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
fi

# First cluster line: version, name, port, status.
cluster_line() {
    pg_lsclusters --no-header 2>/dev/null | awk 'NF >= 4 { print $1, $2, $3, $4; exit }'
}

line=$(cluster_line)
if [ -z "$line" ]; then
    version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)
    [ -n "$version" ] || die "no PostgreSQL server under /usr/lib/postgresql; install Debian's 'postgresql' package"
    say "creating cluster $version/main"
    $SUDO pg_createcluster "$version" main >&2
    line=$(cluster_line)
    [ -n "$line" ] || die "pg_createcluster $version main left no cluster; see pg_lsclusters"
fi
read -r version cluster port status <<<"$line"

if [ "$status" != online ]; then
    say "starting cluster $version/$cluster on port $port"
    $SUDO pg_ctlcluster "$version" "$cluster" start >&2
fi

deadline=$(( $(date +%s) + PG_TIMEOUT ))
until pg_isready -q -h 127.0.0.1 -p "$port"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        say "cluster $version/$cluster does not answer on 127.0.0.1:$port within ${PG_TIMEOUT}s."
        die "check listen_addresses in /etc/postgresql/$version/$cluster/postgresql.conf and /var/log/postgresql/postgresql-$version-$cluster.log"
    fi
    sleep 1
done

# Identifiers and the password go through psql variables (:"name" and :'literal'),
# which quote them; \gexec runs the statement only when the row is missing.
as_postgres psql -X -q -p "$port" -d postgres -v ON_ERROR_STOP=1 \
    -v role="$PG_ROLE" -v password="$PG_PASSWORD" -v database="$PG_DATABASE" >&2 <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" WITH LOGIN PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'database') \gexec
SQL

say "cluster $version/$cluster answers on 127.0.0.1:$port; role '$PG_ROLE' owns database '$PG_DATABASE'"
echo "postgresql://$PG_ROLE:$PG_PASSWORD@127.0.0.1:$port/$PG_DATABASE"
