#!/usr/bin/env bash
# Frontend CI: install, type-check, lint, unit tests, build. Exits non-zero on the first failure.
# (The Playwright journey `npm run e2e` needs a running `bankflow serve`; the lead wires it in .ci/run.)
set -euo pipefail
cd "$(dirname "$0")/.."
export CI="${CI:-true}"

step() { printf '\n==> %s\n' "$*"; }

step "npm ci"
npm ci --no-audit --no-fund

step "typecheck"
npm run --silent typecheck

step "lint"
npm run --silent lint -- --max-warnings=0

step "unit tests"
# Vitest prints its own summary ("Test Files … / Tests N passed"); also print a plain closing line.
set +e
npm test --silent -- --reporter=default 2>&1 | tee /tmp/bankflow-frontend-vitest.log
rc=${PIPESTATUS[0]}
set -e
summary=$(sed 's/\x1b\[[0-9;]*m//g' /tmp/bankflow-frontend-vitest.log | grep -E '^\s+Tests\s' | tail -1 || true)
passed=$(echo "$summary" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+' || echo 0)
failed=$(echo "$summary" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+' || echo 0)
if [ "$rc" -ne 0 ]; then
  echo "vitest: ${passed} passed, ${failed} failed"
  echo "unit tests failed" >&2
  exit "$rc"
fi

step "build"
npm run --silent build
test -f dist/index.html

echo
echo "frontend ci: typecheck ok, lint ok, build ok (dist/)"
echo "vitest: ${passed} passed, ${failed} failed"
