#!/usr/bin/env bash
# One cached Python venv per tool set, shared by every test that needs a third-party peer
# (moto's S3 server, aiosmtpd, the Standard Webhooks verifier, kafka-python, schemathesis, the
# deploy checkers). Prints the venv's python on stdout; everything else goes to stderr.
#
#   scripts/tool-venv.sh NAME IMPORTS REQUIREMENT...
#
# NAME names the venv under ${BANKFLOW_TOOLS_DIR:-$HOME/.cache/bankflow-tools}; IMPORTS is a
# comma-separated list of modules that must import once installed ("" for none). The venv is
# reused only when its marker names exactly these requirements (pin them: a bump reinstalls).
# Any failure exits non-zero, so the calling test fails instead of skipping.
set -euo pipefail
if [[ $# -lt 3 ]]; then
  echo "usage: $0 NAME IMPORTS REQUIREMENT..." >&2
  exit 2
fi
name=$1 imports=$2
shift 2
want="$*"
tools="${BANKFLOW_TOOLS_DIR:-$HOME/.cache/bankflow-tools}"
venv="$tools/$name-venv"
marker="$venv/.bankflow-installed"
current() { [[ -x "$venv/bin/python" && -f "$marker" && "$(cat "$marker")" == "$want" ]]; }
if ! current; then
  mkdir -p "$tools"
  # One installer at a time: test binaries (nextest runs many at once) may call this together.
  exec 9>"$tools/$name-venv.lock"
  flock 9
  if ! current; then
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@" >&2
    if [[ -n "$imports" ]]; then
      "$venv/bin/python" -c "import $imports" >&2
    fi
    echo "$want" >"$marker"
  fi
fi
echo "$venv/bin/python"
