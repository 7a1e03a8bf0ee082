#!/usr/bin/env bash
# Issues a real certificate from a local Pebble test CA and prints every protocol step and the chain.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
./mvnw -B -ntp -q -DskipTests -Pdemo package -pl examples -am "$@"
