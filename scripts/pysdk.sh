#!/usr/bin/env bash
# Runs the Python SDK's tests (clients/python/tests, pytest) against a real
# `quarry serve` started here on a fresh data directory. The venv lives in
# $QUARRY_HOME/venv-sdk (default ~/.cache/quarry) and is rebuilt when
# clients/python/tests/requirements.txt changes; the SDK itself is
# reinstalled from the tree on every run. Exits with pytest's status, after
# pytest's closing line.
set -euo pipefail
cd "$(dirname "$0")/.."
home=${QUARRY_HOME:-$HOME/.cache/quarry}
venv=$home/venv-sdk
req=clients/python/tests/requirements.txt
py=$venv/bin/python
if ! cmp -s "$req" "$venv/quarry-requirements.txt" 2>/dev/null; then
	echo "pysdk: creating $venv" >&2
	python3 -m venv "$venv"
	"$py" -m pip --version >/dev/null 2>&1 || "$py" -m ensurepip --upgrade >/dev/null
	"$py" -m pip install -q --upgrade pip setuptools >&2
	"$py" -m pip install -q -r "$req" >&2
	cp "$req" "$venv/quarry-requirements.txt"
fi
"$py" -m pip install -q --no-deps --no-build-isolation --force-reinstall ./clients/python >&2
work=$(mktemp -d)
srv=
ksrv=
cleanup() {
	for p in $srv $ksrv; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/quarry" ./cmd/quarry
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
env -u QUARRY_LLM_URL -u QUARRY_LLM_MODEL "$work/quarry" serve --data-dir "$work/data" --addr "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
srv=$!
# A second server whose data directory holds API keys: the tests check
# that the client maps 401 and 403 to its error classes.
kport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
admin_key=$("$work/quarry" keys create --data-dir "$work/kdata" --role admin 2>/dev/null)
read_key=$("$work/quarry" keys create --data-dir "$work/kdata" --role read 2>/dev/null)
env -u QUARRY_LLM_URL -u QUARRY_LLM_MODEL "$work/quarry" serve --data-dir "$work/kdata" --addr "127.0.0.1:$kport" >"$work/kserve.log" 2>&1 &
ksrv=$!
for p in $port $kport; do
	for _ in $(seq 100); do
		curl -sf "http://127.0.0.1:$p/healthz" >/dev/null && break
		sleep 0.1
	done
done
status=0
QUARRY_KEYED_URL="http://127.0.0.1:$kport" QUARRY_ADMIN_KEY="$admin_key" QUARRY_READ_KEY="$read_key" \
QUARRY_URL="http://127.0.0.1:$port" "$py" -m pytest -q -p no:cacheprovider clients/python/tests || status=$?
if [ "$status" != 0 ]; then
	echo "pysdk: server log:" >&2
	tail -20 "$work/serve.log" >&2
fi
exit "$status"
