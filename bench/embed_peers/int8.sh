#!/usr/bin/env bash
# Issue 19: Quarry's int8 encoder against its float32 encoder and ONNX
# Runtime's dynamically quantized (quantize_dynamic) int8 model, float32 ORT
# beside, on BEIR SciFact, interleaved in one run.
#
#   bench/embed_peers/int8.sh [--write] [--rounds N] [--threads N] [--n N]
#
# Environment: QUARRY_HOME (default ~/.cache/quarry; venv $QUARRY_HOME/venv-ort8,
# ONNX models and the Go driver under $QUARRY_HOME/bench), QUARRY_DATASETS.
# See README.md ("int8").
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
home="${QUARRY_HOME:-$HOME/.cache/quarry}"
export QUARRY_HOME="$home"
venv="$home/venv-ort8"
py="$venv/bin/python"

# No torch here: the float32 graph is built from model.safetensors with
# onnx.helper (int8.py), so the venv stays small. Versions as run.sh's.
pkgs=(numpy==2.4.6 onnx==1.23.2 onnxruntime==1.31.1 tokenizers==0.23.3 safetensors==0.8.0)

if [[ ! -x "$py" ]]; then
	mkdir -p "$home"
	python3 -m venv "$venv"
fi
if ! "$py" - "${pkgs[@]}" <<'PY' 2>/dev/null; then
import sys
from importlib import metadata
for spec in sys.argv[1:]:
    name, want = spec.split("==")
    if metadata.version(name).split("+")[0] != want:
        sys.exit(1)
PY
	echo "# installing ${pkgs[*]} into $venv" >&2
	"$py" -m pip install --quiet --disable-pip-version-check "${pkgs[@]}" >&2
fi

model="$home/models/all-MiniLM-L6-v2"
if [[ ! -f "$model/tokenizer.json" ]]; then
	echo "# pulling all-MiniLM-L6-v2 into $home/models" >&2
	(cd "$repo" && go run ./internal/models/hub/internal/pullcmd all-MiniLM-L6-v2) >&2
fi

mkdir -p "$home/bench"
echo "# building the Go driver into $home/bench/quarrybench" >&2
(cd "$repo" && go build -o "$home/bench/quarrybench" ./bench/embed_peers/quarrybench)
export QUARRY_BENCH_BIN="$home/bench/quarrybench"

unset OMP_NUM_THREADS MKL_NUM_THREADS OPENBLAS_NUM_THREADS GOMAXPROCS OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
export TOKENIZERS_PARALLELISM=true PYTHONHASHSEED=0

cd "$repo"
PEERS_COMMAND="bench/embed_peers/int8.sh${*:+ $*}" exec "$py" "$here/int8.py" "$@"
