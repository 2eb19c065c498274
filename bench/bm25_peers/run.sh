#!/usr/bin/env bash
# Quarry BM25 vs Python BM25 peers on BEIR SciFact, in one run.
#
#   bench/bm25_peers/run.sh [--write] [--repeat N] [--rank-bm25-budget S] [--no-numba]
#   bench/bm25_peers/run.sh trec-check     # regenerate internal/eval/testdata/trec_fixture.json
#   bench/bm25_peers/run.sh speed [--rounds 5] [--passes 5]   # query speed only, CPU-time QPS, interleaved rounds
#
# Environment: QUARRY_HOME (default ~/.cache/quarry; the venv is
# $QUARRY_HOME/venv-bench), QUARRY_DATASETS, QUARRY_BIN, QUARRY_SKIP_QUARRY=1
# (peers only). See README.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
home="${QUARRY_HOME:-$HOME/.cache/quarry}"
venv="$home/venv-bench"
py="$venv/bin/python"

# Pinned so that reruns measure the same code; bump deliberately.
pkgs=(bm25s==0.3.16 PyStemmer==3.1.0 rank-bm25==0.2.2 numba==0.68.1 pytrec-eval-terrier==0.5.11 numpy scipy)

if [[ ! -x "$py" ]]; then
	mkdir -p "$home"
	python3 -m venv "$venv"
fi
if ! "$py" -c 'import bm25s, Stemmer, rank_bm25, numba, pytrec_eval, numpy, scipy' 2>/dev/null; then
	echo "# installing ${pkgs[*]} into $venv" >&2
	"$py" -m pip install --quiet --disable-pip-version-check "${pkgs[@]}" >&2
fi

# One thread for every pool a peer might start.
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1
export PYTHONHASHSEED=0

if [[ "${1:-}" == "trec-check" ]]; then
	shift
	exec "$py" "$here/trec_check.py" "$@"
fi
if [[ "${1:-}" == "speed" ]]; then
	shift
	export QUARRY_HOME="$home"
	exec "$py" "$here/speed.py" "$@"
fi

if [[ "${QUARRY_SKIP_QUARRY:-}" != "1" && -z "${QUARRY_BIN:-}" ]]; then
	if [[ -d "$repo/cmd/quarry" ]]; then
		echo "# building bin/quarry" >&2
		(cd "$repo" && go build -o bin/quarry ./cmd/quarry)
	fi
fi

PEERS_COMMAND="bench/bm25_peers/run.sh${*:+ $*}" exec "$py" "$here/peers.py" "$@"
