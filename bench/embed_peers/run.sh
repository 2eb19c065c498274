#!/usr/bin/env bash
# Quarry's embedding encoder against sentence-transformers (PyTorch CPU) and
# ONNX Runtime on BEIR SciFact, side by side in one run.
#
#   bench/embed_peers/run.sh [--write] [--rounds N] [--queries N] [--threads N]
#
# Environment: QUARRY_HOME (default ~/.cache/quarry; venv $QUARRY_HOME/venv-ref,
# ONNX export and Go driver under $QUARRY_HOME/bench), QUARRY_DATASETS.
# See README.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
home="${QUARRY_HOME:-$HOME/.cache/quarry}"
export QUARRY_HOME="$home"
venv="$home/venv-ref"
py="$venv/bin/python"

# Pinned so that reruns measure the same code; bump deliberately. The first
# six match tools/embref/requirements.txt (the same venv makes the parity
# fixtures). PyPI's torch wheel brings CUDA libraries; only the CPU is used.
pkgs=(torch==2.15.0 sentence-transformers==6.2.0 transformers==5.24.0 tokenizers==0.23.3 safetensors==0.8.0
	numpy==2.4.6 onnx==1.23.2 onnxruntime==1.31.1 threadpoolctl==3.8.0)

# shellcheck source=setup.sh
source "$here/setup.sh"
setup_peers "$venv" "${pkgs[@]}"

# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set on some machines for old
# OpenBLAS builds; they slow a current numpy. Drop them for this command only
# (peers.py records the kernel threadpoolctl then sees).
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
# Thread counts are set explicitly per system by peers.py; do not cap them here.
unset OMP_NUM_THREADS MKL_NUM_THREADS OPENBLAS_NUM_THREADS GOMAXPROCS
export TOKENIZERS_PARALLELISM=true PYTHONHASHSEED=0

cd "$repo"
PEERS_COMMAND="bench/embed_peers/run.sh${*:+ $*}" exec "$py" "$here/peers.py" "$@"
