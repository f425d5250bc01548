#!/usr/bin/env bash
# Installs the S3-compatible test server (PyPI `moto[server]`) and an independent S3 client
# (boto3) into a venv cached under the tools dir, then prints the venv's python on stdout.
# The tests call this; any failure exits non-zero so they fail instead of skipping.
set -euo pipefail
tools="${BANKFLOW_TOOLS_DIR:-$HOME/.cache/bankflow-tools}"
venv="$tools/moto-venv"
# Bump to reinstall: the marker names exactly what the venv holds.
want="moto[server]==5.2.5 boto3==1.42.*"
marker="$venv/.bankflow-installed"
if [[ -x "$venv/bin/python" && -f "$marker" && "$(cat "$marker")" == "$want" ]]; then
  echo "$venv/bin/python"
  exit 0
fi
mkdir -p "$tools"
# One installer at a time: test binaries may call this concurrently.
exec 9>"$tools/moto-venv.lock"
flock 9
if [[ ! -x "$venv/bin/python" || ! -f "$marker" || "$(cat "$marker")" != "$want" ]]; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  # shellcheck disable=SC2086
  "$venv/bin/pip" install --quiet --disable-pip-version-check $want >&2
  "$venv/bin/python" -c 'import moto.server, boto3' >&2
  echo "$want" >"$marker"
fi
echo "$venv/bin/python"
