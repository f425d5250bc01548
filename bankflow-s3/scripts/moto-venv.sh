#!/usr/bin/env bash
# The S3-compatible test server (PyPI `moto[server]`) and an independent S3 client (boto3), in
# the repository's cached tool venv; prints its python (see scripts/tool-venv.sh).
exec bash "$(dirname "$0")/../../scripts/tool-venv.sh" moto moto.server,boto3 \
  'moto[server]==5.2.5' 'boto3==1.42.*'
