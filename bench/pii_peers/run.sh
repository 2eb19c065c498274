#!/usr/bin/env bash
# PII detection on the generated set: Quarry's internal/pii vs Microsoft
# Presidio's analyzer (pattern recognizers, blank spaCy: no spaCy model is
# installable offline). Installs presidio-analyzer into
# $QUARRY_HOME/venv-presidio on first use.
#   bench/pii_peers/run.sh [N] [SEED]
set -euo pipefail
cd "$(dirname "$0")/../.."
QUARRY_HOME=${QUARRY_HOME:-$HOME/.cache/quarry}
N=${1:-3000}
SEED=${2:-1}
VENV=$QUARRY_HOME/venv-presidio
SET=$QUARRY_HOME/bench/piiset-$N-$SEED.jsonl
mkdir -p "$QUARRY_HOME/bench"
go run ./internal/pii/cmd/piiset -n "$N" -seed "$SEED" > "$SET"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import presidio_analyzer' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q presidio-analyzer
fi
echo "set: $SET ($N examples, seed $SEED)"
go run ./bench/pii_peers/quarrypii --set "$SET"
"$VENV/bin/python" bench/pii_peers/presidio_bench.py "$SET"
