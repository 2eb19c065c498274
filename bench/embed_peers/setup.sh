# Sourced by run.sh and int8.sh: the steps both take before measuring.
#
#   setup_peers VENV PKG==VERSION...
#
# creates VENV if missing and installs the pinned packages unless every one
# is already at its version, fetches all-MiniLM-L6-v2 into $home/models,
# and builds the Go driver into $home/bench/quarrybench (exported as
# QUARRY_BENCH_BIN; QUARRY_BENCH_BIN_OUT, if set, names another output path,
# so that a run does not replace the binary another run is using). Expects
# $home and $repo set by the caller.
setup_peers() {
	local venv=$1
	shift
	local py="$venv/bin/python"
	if [[ ! -x "$py" ]]; then
		mkdir -p "$home"
		python3 -m venv "$venv"
	fi
	if ! "$py" - "$@" <<'PY' 2>/dev/null; then
import sys
from importlib import metadata
for spec in sys.argv[1:]:
    name, want = spec.split("==")
    if metadata.version(name).split("+")[0] != want:
        sys.exit(1)
PY
		echo "# installing $* into $venv" >&2
		"$py" -m pip install --quiet --disable-pip-version-check "$@" >&2
	fi
	if [[ ! -f "$home/models/all-MiniLM-L6-v2/tokenizer.json" ]]; then
		echo "# pulling all-MiniLM-L6-v2 into $home/models" >&2
		(cd "$repo" && go run ./internal/models/hub/internal/pullcmd all-MiniLM-L6-v2) >&2
	fi
	mkdir -p "$home/bench"
	local bin="${QUARRY_BENCH_BIN_OUT:-$home/bench/quarrybench}"
	echo "# building the Go driver into $bin" >&2
	(cd "$repo" && go build -o "$bin" ./bench/embed_peers/quarrybench)
	export QUARRY_BENCH_BIN="$bin"
}
