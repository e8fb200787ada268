#!/usr/bin/env bash
# `npm run check:image`: proves the Dockerfile without a container engine. The jest spec
# test/deploy/image.e2e-spec.ts replays its stages in a scratch copy (npm ci, build, prune), starts
# dist/main.js as the image's unprivileged user with only the data volume writable, and checks
# /health/ready, one exec at a real sshd, and that nothing outside the volume was written.
# `npm test` runs the same spec with the rest of the suite; this runs it alone, in the same
# prepared environment (test user, sshd, PostgreSQL) that scripts/test.sh sets up.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec bash scripts/test.sh --run npm run --silent test:jest -- test/deploy/image.e2e-spec.ts "$@"
