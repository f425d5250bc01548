#!/usr/bin/env bash
# Runs every test suite in the repository: the README's "run all tests" command, and what
# .ci/run calls. Installs and starts what the tests need (PostgreSQL from Debian's packages
# when none is reachable, Chromium for the browser journey). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never CI="${CI:-true}"
# One build per run: incremental caches would only double the target dir on disk.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
started=$(date +%s)
section() { printf '\n======== %s (t+%ss) ========\n' "$*" "$(( $(date +%s) - started ))"; }

section "PostgreSQL"
# shellcheck source=scripts/pg-test-env.sh
source scripts/pg-test-env.sh
echo "DATABASE_URL=${DATABASE_URL%%@*}@…"

section "Rust: format, lints, core purity"
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
bash scripts/check-core-purity.sh

section "Kafka broker (tansu from crates.io, built once into the tools dir)"
# Before the tests: bankflow-kafka's tests start it, and a first build takes ~10 min.
bash scripts/kafka-broker.sh install

section "Rust: tests (core, stores, http, examples)"
# cargo-nextest (on this machine kind's image) runs all test binaries from one queue
# (.config/nextest.toml); doctests are not nextest's, so cargo runs those. Without
# nextest, plain `cargo test` runs the same tests one binary after another.
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
  cargo test --workspace --doc
else
  echo "cargo-nextest not found: running cargo test (slower, same tests)"
  cargo test --workspace --no-fail-fast
fi

section "Rust examples (quickstart, cross-language parity)"
cargo run -q -p bankflow-examples --example quickstart
cargo run -q -p bankflow-examples --example parity

section "Python binding (maturin wheel in a fresh venv, pytest)"
bash bankflow-py/scripts/ci.sh

section "Node binding (napi-rs, tsc, node --test)"
bash bankflow-node/scripts/ci.sh

section "WebAssembly binding (wasm32 build, node --test)"
bash scripts/build-wasm.sh --test

section "Frontend (typecheck, lint, vitest, build)"
bash frontend/scripts/ci.sh

section "Deployment files (offline: yamllint, kustomize + schemas, metrics vs dashboard/alerts, Kong, Terraform)"
bash deploy/check.sh
bash scripts/pg-tls-test.sh

section "Kafka acceptance (bankflow serve -> tansu -> kafka-python, broker killed mid-run)"
bash scripts/kafka-acceptance.sh

section "Browser journey and API fuzzing against bankflow serve"
bash scripts/e2e.sh

section "done in $(( $(date +%s) - started ))s"
