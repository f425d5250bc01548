#!/usr/bin/env bash
# Kafka acceptance (issue 14): `bankflow serve --kafka-brokers …` against a real tansu broker,
# read back by kafka-python (PyPI, in a cached venv); a broker SIGKILL mid-journey loses
# nothing. Fails (never skips) when the broker, the venv or the server cannot start.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
KAFKA_PYTHON_VERSION=3.0.12

bash scripts/kafka-broker.sh install
cargo build -q -p bankflow-http --bin bankflow
py=$(bash scripts/tool-venv.sh kafka-python kafka "kafka-python==$KAFKA_PYTHON_VERSION")
"$py" scripts/kafka_acceptance.py --bin "$root/target/debug/bankflow" \
  --broker-script "$root/scripts/kafka-broker.sh"
