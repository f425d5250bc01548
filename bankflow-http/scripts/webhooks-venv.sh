#!/usr/bin/env bash
# Installs the third-party Standard Webhooks verifier (PyPI `standardwebhooks`) into a venv
# cached under the tools dir, then prints the venv's python on stdout. The webhook test
# calls this; any failure exits non-zero so the test fails instead of skipping.
set -euo pipefail
tools="${BANKFLOW_TOOLS_DIR:-$HOME/.cache/bankflow-tools}"
venv="$tools/webhooks-venv"
# Bump to reinstall: the marker names exactly what the venv holds.
want="standardwebhooks==1.1.0"
marker="$venv/.bankflow-installed"
if [[ -x "$venv/bin/python" && -f "$marker" && "$(cat "$marker")" == "$want" ]]; then
  echo "$venv/bin/python"
  exit 0
fi
mkdir -p "$tools"
# One installer at a time: test binaries may call this concurrently.
exec 9>"$tools/webhooks-venv.lock"
flock 9
if [[ ! -x "$venv/bin/python" || ! -f "$marker" || "$(cat "$marker")" != "$want" ]]; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  # shellcheck disable=SC2086
  "$venv/bin/pip" install --quiet --disable-pip-version-check $want >&2
  "$venv/bin/python" -c 'import standardwebhooks' >&2
  echo "$want" >"$marker"
fi
echo "$venv/bin/python"
