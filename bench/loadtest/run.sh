#!/usr/bin/env bash
# Load test on loopback: builds quarry, ingests the sample corpus into a
# temporary data folder (with all-MiniLM-L6-v2 for hybrid search), serves
# it on 127.0.0.1:$PORT and runs bench/loadtest against it; extra
# arguments go to the load generator. The server is stopped at the end.
#
#   bench/loadtest/run.sh                       # max rate, then 50/80/100 % of it
#   bench/loadtest/run.sh -rates 5,10 -duration 5s
set -euo pipefail
cd "$(dirname "$0")/../.."
port="${PORT:-18080}"
data="$(mktemp -d)"
go build -o bin/quarry ./cmd/quarry
./bin/quarry ingest --data-dir "$data" --collection samples --embedding all-MiniLM-L6-v2 samples >/dev/null
./bin/quarry serve --data-dir "$data" --collection samples --addr "127.0.0.1:$port" 2>"$data/serve.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.1
done
go run ./bench/loadtest -url "http://127.0.0.1:$port" -collection samples "$@"
