#!/usr/bin/env bash
# Prints the path of a Python interpreter that has PyPI's aiosmtpd, the SMTP server the
# bankflow-smtp tests (and the bankflow-http SMTP acceptance test) start. The venv is built once
# and cached under ${BANKFLOW_TOOLS_DIR:-$HOME/.cache/bankflow-tools}. Exits non-zero (and the
# tests then fail, never skip) when it cannot be installed.
set -euo pipefail
tools="${BANKFLOW_TOOLS_DIR:-$HOME/.cache/bankflow-tools}"
venv="$tools/aiosmtpd-venv"
version="1.4.6"
if ! "$venv/bin/python" -c "import aiosmtpd, sys; sys.exit(aiosmtpd.__version__ != '$version')" >/dev/null 2>&1; then
  mkdir -p "$tools"
  rm -rf "$venv.tmp"
  python3 -m venv "$venv.tmp" >&2
  "$venv.tmp/bin/pip" install -q "aiosmtpd==$version" >&2
  rm -rf "$venv"
  mv "$venv.tmp" "$venv"
fi
echo "$venv/bin/python"
