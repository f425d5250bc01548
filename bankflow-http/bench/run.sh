#!/usr/bin/env bash
# HTTP load figures for GET /accounts/{id}/balance and POST /transactions/transfer with wrk.
# Usage: bankflow-http/bench/run.sh [DATABASE_URL]   (default: SQLite in a temp data dir)
# CONNECTIONS (default 32) wrk connections and distinct customer pairs; SECONDS_PER_RUN (10).
# transfer_pairs rotates over distinct account pairs, transfer_hot hits one pair.
# Needs: cargo build --release -p bankflow-http, wrk, python3. Traffic stays on 127.0.0.1 and
# each wrk run is bounded to 10 s.
set -euo pipefail
cd "$(dirname "$0")"
BIN=../../target/release/bankflow
PORT=18090
CONNECTIONS=${CONNECTIONS:-32}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
DATA=$(mktemp -d)
URL_ARGS=()
if [ $# -ge 1 ]; then URL_ARGS=(--database-url "$1"); fi
BANKFLOW_DATA_DIR=$DATA BANKFLOW_RATE_LIMIT_PER_MIN=100000000 BANKFLOW_AUTH_RATE_LIMIT_PER_MIN=100000 \
  BANKFLOW_STAFF_MFA_REQUIRED=false BANKFLOW_REQUIRE_VERIFIED_EMAIL=false \
  BANKFLOW_ADMIN_EMAIL=admin@example.com BANKFLOW_ADMIN_PASSWORD='correct horse battery staple' RUST_LOG=warn \
  "$BIN" serve "${URL_ARGS[@]}" --bind 127.0.0.1:$PORT &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA" env.json pairs.txt' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:$PORT/readyz >/dev/null && break; sleep 0.2; done
python3 setup.py http://127.0.0.1:$PORT "$CONNECTIONS" >/dev/null
run() { wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -s "$1" "http://127.0.0.1:$PORT$2" | tail -1; }
echo "balance:          $(run balance.lua /)"
echo "transfer_pairs:   $(run transfer_pairs.lua /api/v1/transactions/transfer)"
echo "transfer_hot:     $(run transfer.lua /api/v1/transactions/transfer)"
