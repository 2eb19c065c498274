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

# shellcheck source=setup.sh
source "$here/setup.sh"
setup_peers "$venv" "${pkgs[@]}"

unset OMP_NUM_THREADS MKL_NUM_THREADS OPENBLAS_NUM_THREADS GOMAXPROCS OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
export TOKENIZERS_PARALLELISM=true PYTHONHASHSEED=0

cd "$repo"
PEERS_COMMAND="bench/embed_peers/int8.sh${*:+ $*}" exec "$py" "$here/int8.py" "$@"
