#!/usr/bin/env bash
# Load test on loopback: builds quarry, ingests a corpus into a data folder
# (with all-MiniLM-L6-v2 for hybrid search), serves it on 127.0.0.1:$PORT
# and runs bench/loadtest against it; extra arguments go to the load
# generator. The server is stopped at the end.
#
# CORPUS=samples (default): the sample corpus (samples/, 34 files) and ten
# questions about it. CORPUS=scifact: BEIR SciFact's corpus.jsonl (5,183
# abstracts) from $QUARRY_DATASETS/beir/scifact, and its 300 test claims
# (queries.jsonl) rotated per request. The data folder is temporary unless
# DATA names one: then it is kept, and a later run with the same DATA and
# CORPUS skips the ingest (SciFact takes minutes to embed on two cores).
#
#   bench/loadtest/run.sh                       # max rate, then 50/80/100 % of it
#   bench/loadtest/run.sh -rates 5,10 -duration 5s
#   CORPUS=scifact DATA=/tmp/lt-scifact bench/loadtest/run.sh -duration 5s
set -euo pipefail
cd "$(dirname "$0")/../.."
port="${PORT:-18080}"
corpus="${CORPUS:-samples}"
datasets="${QUARRY_DATASETS:-/work/shared/datasets}"
case "$corpus" in
samples)
  src=samples
  queries=()
  ;;
scifact)
  src="$datasets/beir/scifact"
  [ -f "$src/corpus.jsonl" ] || src="$datasets/scifact"
  if [ ! -f "$src/corpus.jsonl" ] || [ ! -f "$src/queries.jsonl" ]; then
    echo "run.sh: SciFact not found under $datasets (beir/scifact/corpus.jsonl, queries.jsonl)" >&2
    exit 1
  fi
  queries=(-queries "$src/queries.jsonl")
  ;;
*)
  echo "run.sh: CORPUS=$corpus: want samples or scifact" >&2
  exit 1
  ;;
esac
if [ -n "${DATA:-}" ]; then
  data="$DATA"
  mkdir -p "$data"
  cleanup() { :; }
else
  data="$(mktemp -d)"
  cleanup() { rm -rf "$data"; }
fi
go build -o bin/quarry ./cmd/quarry
if [ ! -f "$data/.ingested-$corpus" ]; then
  start=$(date +%s)
  ./bin/quarry ingest --data-dir "$data" --collection "$corpus" --embedding all-MiniLM-L6-v2 "$src" >/dev/null
  echo "run.sh: ingested $corpus in $(( $(date +%s) - start )) s" >&2
  touch "$data/.ingested-$corpus"
fi
./bin/quarry serve --data-dir "$data" --collection "$corpus" --addr "127.0.0.1:$port" 2>"$data/serve.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; cleanup' EXIT
for _ in $(seq 300); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.1
done
echo "run.sh: $corpus on 127.0.0.1:$port, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
go run ./bench/loadtest -url "http://127.0.0.1:$port" -collection "$corpus" "${queries[@]}" "$@"
echo "run.sh: load average at the end $(cut -d' ' -f1-3 /proc/loadavg)" >&2
