#!/usr/bin/env bash
# Architecture invariant (issue 2): bankflow-core's normal dependency tree has no database,
# HTTP or networking crate. Fails loudly if one creeps in.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(cargo tree -p bankflow-core -e normal --prefix none --no-dedupe | awk '{print $1}' | sort -u)
bad=$(echo "$tree" | grep -E '^(sqlx|sqlx-.*|axum|hyper|reqwest|rusqlite|tokio-postgres|mio|socket2)$' || true)
if [ -n "$bad" ]; then
  echo "bankflow-core depends on I/O crates:"; echo "$bad"; exit 1
fi
echo "core purity: ok ($(echo "$tree" | wc -l) crates, none of sqlx/axum/hyper/reqwest/mio)"
