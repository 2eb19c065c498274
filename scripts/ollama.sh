#!/usr/bin/env bash
# ollama.sh — build, cache and run a local Ollama server for Quarry's LLM tests.
#
#   scripts/ollama.sh build    build $QUARRY_HOME/bin/ollama-VERSION-MARCH from the Go module proxy if absent
#   scripts/ollama.sh start    build if needed, then serve on 127.0.0.1:$QUARRY_OLLAMA_PORT (idempotent)
#   scripts/ollama.sh stop     stop the server started by `start`
#   scripts/ollama.sh status   exit 0 and print the version if the server answers
#   scripts/ollama.sh bin      print the path of the cached binary
#
# Everything lives under $QUARRY_HOME (default ~/.cache/quarry): bin/ollama, ollama/models,
# ollama/ollama.pid, ollama/serve.log, ollama/build.log. Only package registries are used
# (Debian for two header packages, the Go module proxy for the sources).
set -euo pipefail

QUARRY_HOME="${QUARRY_HOME:-$HOME/.cache/quarry}"
PORT="${QUARRY_OLLAMA_PORT:-11435}"
HOST="127.0.0.1:${PORT}"
OLLAMA_VERSION="${QUARRY_OLLAMA_VERSION:-v0.17.4}"
BIN_DIR="$QUARRY_HOME/bin"
# The binary's name carries the version and the CPU flavour: `go install` compiles ggml's CPU backend through
# cgo with the module's own flags (-O3, no -march), i.e. for baseline x86-64 (SSE2), which measured 14–33× slower
# prompt evaluation than the same sources built for this CPU (AVX2/AVX-512). Ollama's release builds get the
# fast kernels from CMake variants loaded at run time; a source build gets them only from -march. The binary is
# built on, and only run on, the machine whose cache holds it.
OLLAMA_MARCH="${QUARRY_OLLAMA_MARCH:-native}"
BIN="$BIN_DIR/ollama-$OLLAMA_VERSION-$OLLAMA_MARCH"
STATE="$QUARRY_HOME/ollama"
PIDFILE="$STATE/ollama.pid"
LOG="$STATE/serve.log"
START_TIMEOUT="${QUARRY_OLLAMA_START_TIMEOUT:-60}"

log() { echo "ollama.sh: $*" >&2; }
die() { log "$*"; exit 1; }

need_pkgs() {
	local missing=()
	for p in nlohmann-json3-dev libstb-dev; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	((${#missing[@]} == 0)) && return 0
	log "installing ${missing[*]} (apt)"
	local sudo=""
	[[ $(id -u) -ne 0 ]] && sudo="sudo"
	$sudo apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# miniaudio_include prints a folder that contains miniaudio/miniaudio.h. The header ships at the
# root of the github.com/gen2brain/malgo module; ollama's sources include it as <miniaudio/miniaudio.h>.
miniaudio_include() {
	local dir inc
	dir=$(cd "$(mktemp -d)" && go mod download -json github.com/gen2brain/malgo@latest |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[[ -n "$dir" && -f "$dir/miniaudio.h" ]] || die "miniaudio.h not found in github.com/gen2brain/malgo ($dir)"
	inc="$QUARRY_HOME/include"
	mkdir -p "$inc/miniaudio"
	ln -sf "$dir/miniaudio.h" "$inc/miniaudio/miniaudio.h"
	echo "$inc"
}

build() {
	if [[ -x "$BIN" ]]; then
		return 0
	fi
	command -v go >/dev/null || die "go is required to build ollama"
	mkdir -p "$BIN_DIR" "$STATE"
	need_pkgs
	local inc start tmp
	inc=$(miniaudio_include)
	tmp=$(mktemp -d)
	start=$(date +%s)
	log "building ollama $OLLAMA_VERSION (takes a few minutes; log: $STATE/build.log)"
	# go install pkg@version is module-aware and ignores any go.mod in the working directory;
	# run it from an empty folder anyway so GOFLAGS like -mod=vendor cannot interfere.
	if ! (cd "$tmp" && GOFLAGS=-buildvcs=false CGO_ENABLED=1 \
		CGO_CPPFLAGS="-I$inc ${CGO_CPPFLAGS:-}" GOBIN="$tmp/bin" \
		CGO_CFLAGS="-O3 -march=$OLLAMA_MARCH" CGO_CXXFLAGS="-O3 -march=$OLLAMA_MARCH" \
		go install "github.com/ollama/ollama@$OLLAMA_VERSION") >"$STATE/build.log" 2>&1; then
		tail -20 "$STATE/build.log" >&2
		die "build failed"
	fi
	mv "$tmp/bin/ollama" "$BIN.tmp" && mv "$BIN.tmp" "$BIN"
	rm -rf "$tmp"
	log "built $BIN in $(($(date +%s) - start))s"
}

running() {
	curl -fsS --max-time 2 "http://$HOST/api/version" 2>/dev/null
}

start() {
	if running >/dev/null; then
		return 0
	fi
	build
	mkdir -p "$STATE/models"
	log "starting ollama on $HOST (log: $LOG)"
	OLLAMA_HOST="$HOST" OLLAMA_MODELS="$STATE/models" OLLAMA_NOPRUNE=1 \
		OLLAMA_KEEP_ALIVE="${OLLAMA_KEEP_ALIVE:-30m}" \
		nohup setsid "$BIN" serve >>"$LOG" 2>&1 </dev/null &
	echo $! >"$PIDFILE"
	local deadline=$(($(date +%s) + START_TIMEOUT))
	until running >/dev/null; do
		if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
			tail -20 "$LOG" >&2
			die "ollama exited during start"
		fi
		(($(date +%s) < deadline)) || die "ollama did not answer on $HOST within ${START_TIMEOUT}s"
		sleep 0.3
	done
}

stop() {
	[[ -f "$PIDFILE" ]] || return 0
	local pid
	pid=$(cat "$PIDFILE")
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
	fi
	rm -f "$PIDFILE"
}

status() {
	local v
	if v=$(running); then
		echo "ollama running on http://$HOST $v"
	else
		echo "ollama not running on http://$HOST"
		return 1
	fi
}

case "${1:-}" in
build) build ;;
start) start ;;
stop) stop ;;
status) status ;;
bin) echo "$BIN" ;;
*) echo "usage: $0 build|start|stop|status|bin" >&2; exit 2 ;;
esac
