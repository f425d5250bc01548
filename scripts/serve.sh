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
# Without an SMTP server no verification code reaches anyone, so a customer could never submit
# KYC: this local runner turns the verified-email gate off then, and says so. Production servers
# (`bankflow serve` itself) keep it on; pass BANKFLOW_SMTP_HOST/--smtp-host to keep it here too.
case " $* " in *" --smtp-host"*) smtp=1 ;; *) smtp="${BANKFLOW_SMTP_HOST:+1}" ;; esac
if [ -z "$smtp" ] && [ -z "${BANKFLOW_REQUIRE_VERIFIED_EMAIL:-}" ]; then
  export BANKFLOW_REQUIRE_VERIFIED_EMAIL=false
  echo "No SMTP server configured: KYC does not wait for a verified email (set BANKFLOW_SMTP_HOST to require it)"
fi
exec cargo run --release -p bankflow-http --bin bankflow -- serve --static-dir frontend/dist "$@"
