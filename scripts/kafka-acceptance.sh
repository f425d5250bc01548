#!/usr/bin/env bash
# Kafka acceptance (issue 14): `bankflow serve --kafka-brokers …` against a real tansu broker,
# read back by kafka-python (PyPI, in a cached venv); a broker SIGKILL mid-journey loses
# nothing. Fails (never skips) when the broker, the venv or the server cannot start.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tools="${BANKFLOW_TOOLS_DIR:-$HOME/.cache/bankflow-tools}"
KAFKA_PYTHON_VERSION=3.0.12

bash scripts/kafka-broker.sh install
cargo build -q -p bankflow-http --bin bankflow
venv="$tools/kafka-python-$KAFKA_PYTHON_VERSION-venv"
if ! "$venv/bin/python" -c 'import kafka' 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "kafka-python==$KAFKA_PYTHON_VERSION"
fi
"$venv/bin/python" scripts/kafka_acceptance.py --bin "$root/target/debug/bankflow" \
  --broker-script "$root/scripts/kafka-broker.sh"
