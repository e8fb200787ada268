#!/usr/bin/env bash
# `npm run bench:pool`: compiles src/, test/support and bench/ to .bench/ and runs the pool benchmark
# against a real sshd, in the same prepared environment as the tests (scripts/test.sh --env-only).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rm -rf .bench
npx tsc -p tsconfig.json --outDir .bench --noEmit false --sourceMap false
echo '{"type":"module"}' > .bench/package.json
exec bash scripts/test.sh --run node .bench/bench/pool-bench.js
