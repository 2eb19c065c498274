#!/usr/bin/env bash
# Cross-lingual retrieval on XQuAD: questions in de, es, zh, ar, hi, ru
# against English paragraphs, for each mode given (default: dense and bm25),
# with multilingual-e5-small. Prints one JSON line per language and mode and
# the mean nDCG@10 per mode.
#
#   bench/xling/run.sh [MODE...]
set -euo pipefail
cd "$(dirname "$0")/../.."
root="${QUARRY_DATASETS:-$(cd .. && pwd)/shared/datasets}/xquad/xling"
model="${QUARRY_XLING_MODEL:-multilingual-e5-small}"
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(dense bm25)
[ -x bin/quarry ] || go build -o bin/quarry ./cmd/quarry
for mode in "${modes[@]}"; do
  sum=0; n=0
  for lang in de es zh ar hi ru; do
    out=$(./bin/quarry eval retrieval --dataset "$root/$lang-en" --mode "$mode" --model "$model" --json)
    ndcg=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["ndcg@10"])' <<<"$out")
    echo "{\"lang\":\"$lang\",\"mode\":\"$mode\",\"ndcg@10\":$ndcg}"
    sum=$(python3 -c "print($sum + $ndcg)"); n=$((n + 1))
  done
  python3 -c "print('{\"mode\":\"$mode\",\"mean_ndcg@10\":%.4f}' % ($sum / $n))"
done
