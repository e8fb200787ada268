#!/usr/bin/env bash
# `npm run bench:pool` / `npm run bench:burst`: compiles src/, test/support and bench/ to .bench/ and runs
# bench/<name>.ts (default pool-bench) against a real sshd, in the same prepared environment as the tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rm -rf .bench
npx tsc -p tsconfig.json --outDir .bench --noEmit false --sourceMap false
echo '{"type":"module"}' > .bench/package.json
exec bash scripts/test.sh --run node ".bench/bench/${1:-pool-bench}.js"
