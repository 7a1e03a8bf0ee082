#!/usr/bin/env bash
# Runs every test: unit tests and the integration tests against real servers (Pebble, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
./mvnw -B -ntp verify "$@"
