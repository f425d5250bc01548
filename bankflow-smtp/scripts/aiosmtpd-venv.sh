#!/usr/bin/env bash
# PyPI's aiosmtpd, the SMTP server the bankflow-smtp tests (and the bankflow-http SMTP
# acceptance test) start, in the repository's cached tool venv; prints its python.
exec bash "$(dirname "$0")/../../scripts/tool-venv.sh" aiosmtpd aiosmtpd 'aiosmtpd==1.4.6'
