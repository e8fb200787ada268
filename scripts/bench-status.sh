#!/usr/bin/env bash
# `npm run bench:status`: builds dist/ (the service it measures, run as `node dist/main.js`) and
# compiles bench/ to .bench/, then runs the status benchmark in the tests' prepared environment.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
npm run --silent build
rm -rf .bench
npx tsc -p tsconfig.json --outDir .bench --noEmit false --sourceMap false
echo '{"type":"module"}' > .bench/package.json
exec bash scripts/test.sh --run node .bench/bench/status-bench.js
