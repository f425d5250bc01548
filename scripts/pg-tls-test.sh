#!/usr/bin/env bash
# The PostgreSQL store's conformance suite over TLS with sslmode=verify-full: starts a
# throwaway cluster with ssl=on and hostssl-only access (plain connections have no pg_hba
# entry), its server certificate signed by a CA made here, checks a plain connection is
# refused, then runs `cargo test -p bankflow-store-postgres --test conformance` against it.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/pg-test-env.sh
# Only for its helpers (_bf_pg_run_as_postgres, _bf_pg_port_free): a set DATABASE_URL keeps it
# from starting a cluster of its own.
DATABASE_URL=unused source scripts/pg-test-env.sh

bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$bindir" ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
  bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
fi
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
fi

dir="$(mktemp -d /tmp/bankflow-pgtls.XXXXXX)"
chmod 700 "$dir"
port=55432
while ! _bf_pg_port_free "$port"; do port=$((port + 1)); done
cleanup() {
  _bf_pg_run_as_postgres "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

echo "== a test CA and a server certificate for localhost / 127.0.0.1"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bankflow test CA" \
  -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
  -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$dir/ext.cnf"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
  -days 2 -extfile "$dir/ext.cnf" -out "$dir/server.pem" 2>/dev/null
chmod 600 "$dir/server.key" "$dir/ca.key"
[ "$(id -u)" -eq 0 ] && chown -R postgres "$dir"
chmod 755 "$dir"   # the CA certificate is read by the tests too

echo "== initdb, ssl=on, hostssl only, port $port"
_bf_pg_run_as_postgres "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust >/dev/null
cat >"$dir/data/pg_hba.conf" <<HBA
# TLS only: no host (plain TCP) and no local lines.
hostssl all all 127.0.0.1/32 trust
HBA
cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
ssl = on
ssl_cert_file = '$dir/server.pem'
ssl_key_file = '$dir/server.key'
ssl_min_protocol_version = 'TLSv1.2'
max_connections = 200
fsync = off
CONF
# A start can fail when the port is taken between the free-port probe and the bind (another
# suite's throwaway server): try the next free ports, and show the server's log if all fail.
started=0
for _attempt in 1 2 3; do
  if _bf_pg_run_as_postgres "$bindir/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -w start >/dev/null; then
    started=1
    break
  fi
  echo "pg-tls-test: the server did not start on port $port; its log:" >&2
  tail -n 20 "$dir/pg.log" >&2 || true
  port=$((port + 1))
  while ! _bf_pg_port_free "$port"; do port=$((port + 1)); done
  sed -i "s/^port = .*/port = $port/" "$dir/data/postgresql.conf"
done
[ "$started" -eq 1 ] || { echo "pg-tls-test: could not start PostgreSQL" >&2; exit 1; }

if "$bindir/psql" "host=127.0.0.1 port=$port user=postgres dbname=postgres sslmode=disable" -c 'select 1' >/dev/null 2>&1; then
  echo "pg-tls-test: a plain connection was accepted" >&2
  exit 1
fi
"$bindir/psql" "host=localhost port=$port user=postgres dbname=postgres sslmode=verify-full sslrootcert=$dir/ca.pem" \
  -tAc 'select ssl from pg_stat_ssl where pid = pg_backend_pid()' | grep -qx t

echo "== conformance suite over TLS (sslmode=verify-full)"
DATABASE_URL="postgres://postgres@localhost:$port/postgres?sslmode=verify-full&sslrootcert=$dir/ca.pem" \
  cargo test -q -p bankflow-store-postgres --test conformance
