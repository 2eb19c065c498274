#!/usr/bin/env bash
# Soak test on loopback: builds quarry, ingests the sample corpus into a
# temporary data folder (all-MiniLM-L6-v2, so hybrid search and upserts
# embed), serves it on 127.0.0.1:$PORT and runs bench/soak against it;
# extra arguments go to the soak driver (default -duration 30m measured after
# -warmup-for 5m, -rate 10).
# The samples land in $OUT (default $QUARRY_HOME/artifacts/soak): soak.csv,
# soak.svg, summary.json. The server is stopped at the end. GOMEMLIMIT in
# the environment reaches the server (the Go runtime reads it); the
# summary names the limit it ran with (docs/benchmarks.md, soak run 4).
# With PPROF_PORT set the server also serves its Go profiles on
# 127.0.0.1:$PPROF_PORT (quarry serve --pprof-addr), e.g.
#   go tool pprof -sample_index=inuse_space http://127.0.0.1:$PPROF_PORT/debug/pprof/heap
#
#   bench/soak/run.sh                   # 30 minutes at 10 requests/s
#   bench/soak/run.sh -duration 3m -sample 5s
#   GOMEMLIMIT=320MiB PORT=18464 OUT=/tmp/soak-lim bench/soak/run.sh -duration 10m
#   PPROF_PORT=18465 bench/soak/run.sh -duration 5m -sample 5s
set -euo pipefail
cd "$(dirname "$0")/../.."
port="${PORT:-18090}"
home="${QUARRY_HOME:-$HOME/.cache/quarry}"
out="${OUT:-$home/artifacts/soak}"
mkdir -p "$out"
data="$(mktemp -d)"
go build -o bin/quarry ./cmd/quarry
go build -o "$data/soak" ./bench/soak
./bin/quarry ingest --data-dir "$data" --collection samples --embedding all-MiniLM-L6-v2 samples >/dev/null
pprof=()
[[ -n "${PPROF_PORT:-}" ]] && pprof=(--pprof-addr "127.0.0.1:$PPROF_PORT")
./bin/quarry serve --data-dir "$data" --collection samples --addr "127.0.0.1:$port" "${pprof[@]}" 2>"$data/serve.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.1
done
status=0
"$data/soak" -url "http://127.0.0.1:$port" -pid "$pid" -collection samples -csv "$out/soak.csv" -svg "$out/soak.svg" "$@" | tee "$out/summary.json" || status=$?
echo "soak: samples and plot in $out" >&2
exit "$status"
