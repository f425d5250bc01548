#!/usr/bin/env bash
# Builds the bankflow wheel from this checkout with maturin, installs it into a FRESH venv
# and runs the pytest suite, the stub check and the Python examples there.
# Needs only python3 (with venv), cargo, and PyPI. Exits non-zero on any failure.
#
#   bash bankflow-py/scripts/ci.sh            # debug build (reuses `cargo test` artifacts)
#   BANKFLOW_PY_RELEASE=1 bash bankflow-py/scripts/ci.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/bankflow-py-ci.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# PostgreSQL for the postgres-backed tests (reuses DATABASE_URL or a local server, else
# starts a throwaway cluster).
# shellcheck source=../../scripts/pg-test-env.sh
source "$root/scripts/pg-test-env.sh"

python3 -m venv "$work/build"
"$work/build/bin/pip" install --quiet --disable-pip-version-check "maturin>=1.8,<2"

profile=()
if [[ "${BANKFLOW_PY_RELEASE:-0}" == 1 ]]; then profile=(--release); fi
start=$SECONDS
"$work/build/bin/maturin" build "${profile[@]}" -m "$root/bankflow-py/Cargo.toml" -o "$work/dist"
echo "bankflow-py: wheel built in $((SECONDS - start))s: $(ls "$work"/dist)"

# A fresh environment with nothing but the wheel and the test tools: the adapter tests'
# SMTP server (aiosmtpd, the version bankflow-smtp's tests use) and Kafka consumer
# (kafka-python, the version scripts/kafka-acceptance.sh uses). The S3 server (moto) and the
# Kafka broker (tansu) come from their cached tool installs (see tests/peers.py).
python3 -m venv "$work/env"
"$work/env/bin/pip" install --quiet --disable-pip-version-check pytest mypy \
  "aiosmtpd==1.4.6" "kafka-python==3.0.12" "$work"/dist/*.whl
py="$work/env/bin/python"
# The tests must exercise the installed wheel, not the source tree.
"$py" -c 'import bankflow, sys; assert "site-packages" in bankflow.__file__, bankflow.__file__; print("bankflow from", bankflow.__file__)'

# The stubs must match the native module's real signatures.
(cd "$work" && "$py" -m mypy.stubtest bankflow --allowlist "$root/bankflow-py/stubtest-allowlist.txt")

# Examples type-check against the stubs and run against the installed wheel.
(cd "$work" && "$py" -m mypy --strict "$root/examples/python/quickstart.py")
(cd "$work" && "$py" "$root/examples/python/quickstart.py")

cd "$root/bankflow-py"
"$py" -m pytest -p no:cacheprovider -q tests
