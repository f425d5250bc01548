#!/usr/bin/env bash
# Browser journey and API fuzzing against a real `bankflow serve` on a fresh SQLite data dir:
#   1. the Playwright journey (frontend/e2e) in Debian's headless Chromium;
#   2. schemathesis (from PyPI) against the served OpenAPI document, authenticated.
# Needs frontend/dist (built by frontend/scripts/ci.sh) and the `bankflow` binary.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if ! command -v chromium >/dev/null 2>&1; then
  echo "e2e: installing Debian's chromium"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
fi

cargo build -q -p bankflow-http --bin bankflow
bin="$root/target/debug/bankflow"
data=$(mktemp -d /tmp/bankflow-e2e.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export BANKFLOW_ADMIN_EMAIL="admin@e2e.bankflow.test"
export BANKFLOW_ADMIN_PASSWORD="E2e-admin-passphrase-$(date +%s)"
export BANKFLOW_JWT_SECRET="e2e-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# The journey and the fuzzer send far more than 100 requests a minute from one address.
export BANKFLOW_RATE_LIMIT_PER_MIN=100000 BANKFLOW_AUTH_RATE_LIMIT_PER_MIN=100000
# The admin enrols TOTP in the browser (the staff gate, issue #16 finding 9, is on). The journey
# cannot read an emailed code (the mail drop redacts them), so the verified-email gate before
# KYC (finding 12) is off here; the api and engine suites cover it.
export BANKFLOW_REQUIRE_VERIFIED_EMAIL=false

# A fresh SQLite data dir, whatever DATABASE_URL the caller exported for the PostgreSQL suites:
# a shared database would keep an earlier run's admin, whose password differs from this run's.
env -u DATABASE_URL "$bin" serve --data-dir "$data" --bind "127.0.0.1:$port" --static-dir "$root/frontend/dist" >"$data/server.log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "$base/readyz" >/dev/null || { echo "server did not start"; cat "$data/server.log"; exit 1; }
curl -fsS "$base/" | grep -q '<div id="root">' || { echo "frontend not served at /"; exit 1; }

echo "== Playwright journey against $base"
# BANKFLOW_DATA_DIR lets the journey read what the server writes there (never a code or token:
# the mail drop is off unless --mail-drop, and redacts them; SMTP is tested by the ops suite).
(cd frontend && BASE_URL="$base" BANKFLOW_DATA_DIR="$data" npm run --silent e2e) || { tail -50 "$data/server.log"; exit 1; }

echo "== schemathesis against $base/api/v1/openapi.json"
# Cached per machine (not per clone), pinned so the cache never goes stale silently.
py=$(bash scripts/tool-venv.sh schemathesis "" 'schemathesis==4.*')
venv=$(dirname "$(dirname "$py")")
email="fuzz-$(date +%s)@e2e.bankflow.test"
pass="Fuzz-passphrase-$(date +%s)-x"
curl -fsS -X POST "$base/api/v1/auth/register" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$pass\"}" >/dev/null
token=$(curl -fsS -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$pass\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
"$venv/bin/schemathesis" run "$base/api/v1/openapi.json" \
  --checks not_a_server_error,response_schema_conformance \
  --header "Authorization: Bearer $token" \
  --max-examples 15 --workers 2 --request-timeout 10 \
  || { tail -80 "$data/server.log"; exit 1; }
