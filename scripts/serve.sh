#!/usr/bin/env bash
# Runs the bank: builds the web app (once) and starts `bankflow serve` on the embedded SQLite
# default (./bankflow-data), listening on 127.0.0.1:8080 with the web UI at /.
# Extra arguments go to `bankflow serve` (e.g. --bind 0.0.0.0:8080, --database-url postgres://…).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f frontend/dist/index.html ]; then
  (cd frontend && npm ci --no-audit --no-fund && npm run build)
fi
export BANKFLOW_ADMIN_EMAIL="${BANKFLOW_ADMIN_EMAIL:-admin@bankflow.local}"
if [ -z "${BANKFLOW_ADMIN_PASSWORD:-}" ] && [ ! -d bankflow-data ]; then
  BANKFLOW_ADMIN_PASSWORD="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
  export BANKFLOW_ADMIN_PASSWORD
  echo "First start: admin ${BANKFLOW_ADMIN_EMAIL} / ${BANKFLOW_ADMIN_PASSWORD} (shown once; change it)"
fi
exec cargo run --release -p bankflow-http --bin bankflow -- serve --static-dir frontend/dist "$@"
