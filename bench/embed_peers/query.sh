#!/usr/bin/env bash
# Issue 18: single-thread latency of one 16-token query, Quarry against ONNX
# Runtime, float32 and int8, interleaved in one run.
#
#   bench/embed_peers/query.sh [--write] [--rounds N] [--calls N] [--no-int8]
#
# Environment: QUARRY_HOME (default ~/.cache/quarry; venv $QUARRY_HOME/venv-ort8
# and the ONNX models under $QUARRY_HOME/bench, shared with int8.sh),
# QUARRY_DATASETS. See README.md ("query latency").
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
home="${QUARRY_HOME:-$HOME/.cache/quarry}"
export QUARRY_HOME="$home"
venv="$home/venv-ort8"
py="$venv/bin/python"

# The same venv and pins as int8.sh (no torch: int8.py builds the ONNX graph).
pkgs=(numpy==2.4.6 onnx==1.23.2 onnxruntime==1.31.1 tokenizers==0.23.3 safetensors==0.8.0)

# A private driver binary: other runs may be using $home/bench/quarrybench.
bindir="$(mktemp -d)"
trap 'rm -rf "$bindir"' EXIT
export QUARRY_BENCH_BIN_OUT="$bindir/quarrybench"

# shellcheck source=setup.sh
source "$here/setup.sh"
setup_peers "$venv" "${pkgs[@]}"

# One thread each, set explicitly by query.py (GOMAXPROCS=1 for Quarry,
# intra_op_num_threads=1 for ONNX Runtime); drop caps that would interfere.
unset OMP_NUM_THREADS MKL_NUM_THREADS OPENBLAS_NUM_THREADS GOMAXPROCS OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
export TOKENIZERS_PARALLELISM=false PYTHONHASHSEED=0

cd "$repo"
PEERS_COMMAND="bench/embed_peers/query.sh${*:+ $*}" "$py" "$here/query.py" "$@"
