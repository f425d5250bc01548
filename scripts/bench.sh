#!/usr/bin/env bash
# The store-level benches and the HTTP load figures in ONE run, so the HTTP rates can be
# read as ratios of the store-level rates measured minutes before on the same machine
# (its fsync and CPU speeds swing several-fold within an hour).
#   scripts/bench.sh            SQLite and PostgreSQL (PostgreSQL from scripts/pg-test-env.sh)
#   STORES=sqlite scripts/bench.sh
# Output: criterion's own report per store bench, then one wrk summary line per HTTP run
# (p50/p99/max, rate, error counts). Nothing here is a test: figures go to the README.
set -euo pipefail
cd "$(dirname "$0")/.."
STORES=${STORES:-"sqlite postgres"}
OUT=${BENCH_OUT:-target/bench-run.txt}
mkdir -p "$(dirname "$OUT")"
: >"$OUT"
log() { printf '%s\n' "$*" | tee -a "$OUT"; }

command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }
cargo build --release -q -p bankflow-http --bin bankflow
log "bench run $(date -u +%FT%TZ) on $(nproc) cores"
for store in $STORES; do
  url=()
  if [ "$store" = postgres ]; then
    # shellcheck source=scripts/pg-test-env.sh
    source scripts/pg-test-env.sh
    db="bankflow_bench_http_$$"
    psql -q "$DATABASE_URL" -c "CREATE DATABASE $db" >/dev/null
    url=("${DATABASE_URL%/*}/$db")
  fi
  log "== $store: store level (criterion, same run)"
  cargo bench -q -p bankflow-benches --bench "$store" 2>/dev/null | sed -n '/transfers\/s over every/,$p' | tee -a "$OUT"
  log "== $store: HTTP, wrk in a second process"
  bash bankflow-http/bench/run.sh "${url[@]}" | tee -a "$OUT"
  if [ "$store" = postgres ]; then psql -q "$DATABASE_URL" -c "DROP DATABASE $db" >/dev/null; fi
done
log "written to $OUT"
