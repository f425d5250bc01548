#!/usr/bin/env bash
# The third-party Standard Webhooks verifier (PyPI `standardwebhooks`) the webhook test uses,
# in the repository's cached tool venv; prints its python.
exec bash "$(dirname "$0")/../../scripts/tool-venv.sh" webhooks standardwebhooks \
  'standardwebhooks==1.1.0'
