#!/usr/bin/env bash
# Quarry's ANN index (internal/index/vector) against hnswlib and FAISS
# IndexHNSWFlat on the same vectors, single-threaded, in one run.
#
#   bench/ann_peers/run.sh [--write] [--sets scifact,xquad,wordnet,synth1m] [--rounds N] [--modes hnsw,sq8,int8,ivf]
#
# Environment: QUARRY_HOME (default ~/.cache/quarry; venv $QUARRY_HOME/venv-bench,
# vectors and ground truth $QUARRY_HOME/ann/<set>/, Go drivers $QUARRY_HOME/bench/
# or QUARRY_ANN_BINDIR, so that two worktrees benchmarking at once do not
# overwrite each other's driver), QUARRY_DATASETS. See README.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
home="${QUARRY_HOME:-$HOME/.cache/quarry}"
export QUARRY_HOME="$home"
venv="$home/venv-bench"
py="$venv/bin/python"

# Pinned so that reruns measure the same code; bump deliberately.
pkgs=(hnswlib==0.8.0 faiss-cpu==1.15.1 numpy==2.4.6 matplotlib==3.11.2)

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
	mkdir -p "$home/ann"
	echo "# installing ${pkgs[*]} into $venv (log: $home/ann/venv-install.log)" >&2
	"$py" -m pip install --disable-pip-version-check "${pkgs[@]}" >"$home/ann/venv-install.log" 2>&1
fi

# The Go drivers. quarryann gets the build tag annivf when the vector
# package has an IVF index (vector.NewIVF), so it compiles either way.
bindir="${QUARRY_ANN_BINDIR:-$home/bench}"
mkdir -p "$bindir"
tags=()
if grep -qs '^func NewIVF(' "$repo"/internal/index/vector/*.go; then
	tags=(-tags annivf)
fi
echo "# building quarryann ${tags[*]} and annprep into $bindir" >&2
(cd "$repo" && go build "${tags[@]}" -o "$bindir/quarryann" ./bench/ann_peers/quarryann &&
	go build -o "$bindir/annprep" ./bench/ann_peers/annprep)
export QUARRY_ANN_BIN="$bindir/quarryann" QUARRY_ANNPREP="$bindir/annprep"

# One thread for every pool a peer might start (annprep, which embeds once
# and is not timed, sets nothing and uses every core).
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export PYTHONHASHSEED=0

cd "$repo"
PEERS_COMMAND="bench/ann_peers/run.sh${*:+ $*}" exec "$py" "$here/peers.py" "$@"
