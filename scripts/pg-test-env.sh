#!/usr/bin/env bash
# Provides a PostgreSQL server for BankFlow's PostgreSQL tests and benches, and exports
# DATABASE_URL for it.
#
#   source scripts/pg-test-env.sh     # exports DATABASE_URL into the current shell
#   bash scripts/pg-test-env.sh       # prints the URL (e.g. DATABASE_URL=$(bash scripts/pg-test-env.sh))
#
# Order of preference:
#   1. DATABASE_URL already set: used as is.
#   2. A server answering on 127.0.0.1:5432: postgres://postgres@127.0.0.1:5432/postgres.
#   3. Otherwise a throwaway cluster: installs Debian's `postgresql` package if no server
#      binaries are present, runs initdb into a temporary directory (as the `postgres` user:
#      initdb refuses to run as root), starts it with trust auth on a free local port, and uses
#      that. It keeps running after this script; stop it with the command printed on stderr.
#
# Tests never skip: without a reachable server they fail with a message naming this script.

_bf_pg_log() { echo "pg-test-env: $*" >&2; }

_bf_pg_run_as_postgres() {
    if [ "$(id -u)" -ne 0 ]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u postgres -- "$@"
    else
        su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
    fi
}

_bf_pg_port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

_bf_pg_env() {
    if [ -n "${DATABASE_URL:-}" ]; then
        return 0
    fi
    if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
        return 0
    fi
    local bindir
    bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [ -z "$bindir" ]; then
        _bf_pg_log "no PostgreSQL server binaries; installing Debian's postgresql package"
        if [ "$(id -u)" -ne 0 ]; then
            _bf_pg_log "need root to install postgresql (or set DATABASE_URL)"
            return 1
        fi
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2 || return 1
        bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
        [ -n "$bindir" ] || { _bf_pg_log "postgresql installed but no server binaries found"; return 1; }
    fi
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres || return 1
    fi
    local dir port
    dir="$(mktemp -d /tmp/bankflow-pg.XXXXXX)" || return 1
    chmod 700 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    port=55432
    while ! _bf_pg_port_free "$port"; do
        port=$((port + 1))
        [ "$port" -lt 55532 ] || { _bf_pg_log "no free port in 55432-55531"; return 1; }
    done
    _bf_pg_log "starting a throwaway cluster in $dir on port $port"
    _bf_pg_run_as_postgres "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || _bf_pg_run_as_postgres "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; return 1; }
    _bf_pg_run_as_postgres "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >&2 \
        || { cat "$dir/server.log" >&2; return 1; }
    _bf_pg_log "stop it with: $( [ "$(id -u)" -eq 0 ] && echo 'runuser -u postgres -- ')$bindir/pg_ctl -D $dir/data stop"
    DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    # Sourced: export into the caller's shell; never exit it.
    if _bf_pg_env; then
        export DATABASE_URL
    else
        _bf_pg_log "could not provide PostgreSQL; the PostgreSQL tests will fail"
        return 1
    fi
else
    set -euo pipefail
    _bf_pg_env
    echo "$DATABASE_URL"
fi
