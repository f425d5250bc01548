#!/usr/bin/env bash
# Builds the `bankflow` npm package from this checkout with @napi-rs/cli, type-checks the
# TypeScript/JS examples against the generated index.d.ts, runs the node:test suite, then
# packs the package, installs the tarball into a FRESH project and runs the suite and the
# quickstart there. Needs node >= 20.17, npm, cargo and the npm registry. Exits non-zero on
# any failure.
#
#   bash bankflow-node/scripts/ci.sh           # debug addon
#   BANKFLOW_NODE_RELEASE=1 bash bankflow-node/scripts/ci.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
pkg="$root/bankflow-node"
work="$(mktemp -d "${TMPDIR:-/tmp}/bankflow-node-ci.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# PostgreSQL for the postgres-backed tests (reuses DATABASE_URL or a local server, else
# starts a throwaway cluster).
# shellcheck source=../../scripts/pg-test-env.sh
source "$root/scripts/pg-test-env.sh"
cd "$pkg"

npm ci --no-audit --no-fund

profile=()
if [[ "${BANKFLOW_NODE_RELEASE:-0}" == 1 ]]; then profile=(--release); fi
start=$SECONDS
npx napi build --platform "${profile[@]}" --js index.js --dts index.d.ts
echo "bankflow-node: addon built in $((SECONDS - start))s"

npx tsc --noEmit -p tsconfig.json
echo "bankflow-node: tsc --noEmit passed (index.d.ts + examples/node)"

# A fresh project that knows nothing of this checkout but the packed tarball.
tarball="$(npm pack --silent --pack-destination "$work" | tail -n 1)"
mkdir "$work/app"
cp -r "$pkg/__test__" "$work/app/__test__"
cp "$root/examples/node/quickstart.mjs" "$work/app/"
cd "$work/app"
printf '{ "name": "bankflow-ci-app", "private": true, "type": "module" }\n' > package.json
npm install --no-audit --no-fund --no-save "$work/$tarball"
node -e 'const p = require.resolve("bankflow"); if (!p.includes("node_modules")) throw new Error(p); console.log("bankflow from", p)'
node quickstart.mjs
BANKFLOW_ROOT="$root" node --test __test__/
