#!/usr/bin/env bash
# Builds and runs a local Weaviate for Quarry's Weaviate backend, on loopback
# only, with no vectorizer modules (Quarry sends its own vectors).
#
#   scripts/weaviate.sh build              go install weaviate-server into $QUARRY_HOME/bin (cached)
#   scripts/weaviate.sh start [--nodes 3]  start one node (HTTP 8089) or a 3-node cluster (HTTP 8091-8093)
#   scripts/weaviate.sh stop               stop every node started from $WEAVIATE_HOME
#   scripts/weaviate.sh status             list the running nodes
#   scripts/weaviate.sh url [--nodes 3]    print QUARRY_WEAVIATE_URL=…
#
# `start` prints the line a shell can eval: eval "$(scripts/weaviate.sh start)".
# State lives in $WEAVIATE_HOME (default $QUARRY_HOME/weaviate): one folder per
# node with its data, pid file and log. WEAVIATE_FRESH=1 wipes a node's data
# before starting it (tests use a throwaway WEAVIATE_HOME instead).
set -euo pipefail
cd "$(dirname "$0")/.."
QUARRY_HOME="${QUARRY_HOME:-$HOME/.cache/quarry}"
WEAVIATE_HOME="${WEAVIATE_HOME:-$QUARRY_HOME/weaviate}"
VERSION="v1.35.2"
BIN="$QUARRY_HOME/bin/weaviate-server"
STAMP="$QUARRY_HOME/bin/weaviate-server.version"

log() { echo "weaviate.sh: $*" >&2; }

build() {
	if [ -x "$BIN" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$VERSION" ]; then
		return 0
	fi
	mkdir -p "$QUARRY_HOME/bin" "$WEAVIATE_HOME"
	log "building weaviate-server $VERSION (a few minutes; log: $WEAVIATE_HOME/build.log)"
	if ! (cd /tmp && GOBIN="$QUARRY_HOME/bin" GOFLAGS=-buildvcs=false \
		go install "github.com/weaviate/weaviate/cmd/weaviate-server@$VERSION") >"$WEAVIATE_HOME/build.log" 2>&1; then
		tail -20 "$WEAVIATE_HOME/build.log" >&2
		log "build failed"
		exit 1
	fi
	echo "$VERSION" >"$STAMP"
}

# port layout: single node = index "s"; cluster nodes 0..2.
http_port() { if [ "$1" = s ]; then echo 8089; else echo $((8091 + $1)); fi; }
grpc_port() { if [ "$1" = s ]; then echo 50061; else echo $((50071 + $1)); fi; }

start_node() { # start_node IDX NODES
	local i="$1" n="$2" name dir gossip data raft rpc prom prof join="" raftjoin expect
	if [ "$i" = s ]; then
		name=weaviate-single gossip=7200 data=7201 raft=8400 rpc=8401 prom=2212 prof=6160
		raftjoin="$name:$raft" expect=1
	else
		name="weaviate-$i" gossip=$((7100 + 2 * i)) data=$((7101 + 2 * i))
		raft=$((8300 + 2 * i)) rpc=$((8301 + 2 * i)) prom=$((2222 + i)) prof=$((6170 + i))
		raftjoin="weaviate-0:8300,weaviate-1:8302,weaviate-2:8304" expect=3
		[ "$i" != 0 ] && join="localhost:7100"
	fi
	dir="$WEAVIATE_HOME/$name"
	if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
		return 0
	fi
	[ "${WEAVIATE_FRESH:-}" = 1 ] && rm -rf "$dir"
	mkdir -p "$dir/data"
	# USE_INVERTED_SEARCHABLE=false: new classes keep BM25 postings in
	# Weaviate's classic searchable buckets, scored by WAND over whole
	# posting lists with length statistics updated on every write, so an
	# acknowledged write is scored at once as it will be later. The default
	# block-max buckets compute block bounds and length statistics when
	# memtables flush and segments compact: right after a fresh SciFact
	# ingest nDCG@10 read 0.677 (and 0.680 with 1 s flushes), 0.682 minutes
	# later; with this setting 0.6817 at once and after (docs/benchmarks.md).
	(
		export CLUSTER_HOSTNAME="$name" CLUSTER_IN_LOCALHOST=true CLUSTER_ADVERTISE_ADDR=127.0.0.1 \
			CLUSTER_GOSSIP_BIND_PORT="$gossip" CLUSTER_DATA_BIND_PORT="$data" CLUSTER_JOIN="$join" \
			RAFT_PORT="$raft" RAFT_INTERNAL_RPC_PORT="$rpc" RAFT_JOIN="$raftjoin" RAFT_BOOTSTRAP_EXPECT="$expect" \
			PERSISTENCE_DATA_PATH="$dir/data" AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true \
			DEFAULT_VECTORIZER_MODULE=none ENABLE_MODULES="" GRPC_PORT="$(grpc_port "$i")" \
			PROMETHEUS_MONITORING_PORT="$prom" GO_PROFILING_PORT="$prof" DISABLE_TELEMETRY=true \
			LOG_LEVEL="${WEAVIATE_LOG_LEVEL:-warning}" QUERY_DEFAULTS_LIMIT=25 LIMIT_RESOURCES=true \
			USE_INVERTED_SEARCHABLE=false
		nohup setsid "$BIN" --host 127.0.0.1 --port "$(http_port "$i")" --scheme http \
			>>"$dir/weaviate.log" 2>&1 </dev/null &
		echo $! >"$dir/pid"
	)
}

wait_ready() { # wait_ready IDX
	local url="http://127.0.0.1:$(http_port "$1")/v1/.well-known/ready"
	for _ in $(seq 600); do
		curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
		sleep 0.2
	done
	log "node $1 not ready after 120 s (see $WEAVIATE_HOME/*/weaviate.log)"
	exit 1
}

nodes=1
parse_nodes() {
	while [ $# -gt 0 ]; do
		case "$1" in
		--nodes) nodes="$2"; shift 2 ;;
		--nodes=*) nodes="${1#--nodes=}"; shift ;;
		*) log "unknown argument $1"; exit 2 ;;
		esac
	done
	case "$nodes" in 1 | 3) ;; *) log "--nodes must be 1 or 3"; exit 2 ;; esac
}

url() {
	if [ "$nodes" = 1 ]; then
		echo "QUARRY_WEAVIATE_URL=http://127.0.0.1:$(http_port s)"
	else
		echo "QUARRY_WEAVIATE_URL=http://127.0.0.1:$(http_port 0)"
		echo "QUARRY_WEAVIATE_URLS=http://127.0.0.1:$(http_port 0),http://127.0.0.1:$(http_port 1),http://127.0.0.1:$(http_port 2)"
	fi
}

start() {
	build
	if [ "$nodes" = 1 ]; then
		start_node s 1
		wait_ready s
	else
		start_node 0 3
		sleep 1
		start_node 1 3
		start_node 2 3
		wait_ready 0; wait_ready 1; wait_ready 2
	fi
	url
}

stop() {
	local f pid
	for f in "$WEAVIATE_HOME"/weaviate-*/pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		if kill -0 "$pid" 2>/dev/null; then
			kill "$pid"
			for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
		fi
		rm -f "$f"
	done
}

status() {
	local f any=1
	for f in "$WEAVIATE_HOME"/weaviate-*/pid; do
		[ -f "$f" ] || continue
		if kill -0 "$(cat "$f")" 2>/dev/null; then
			echo "$(basename "$(dirname "$f")") running (pid $(cat "$f"))"
			any=0
		fi
	done
	return $any
}

cmd="${1:-start}"
[ $# -gt 0 ] && shift
case "$cmd" in
build) build ;;
start) parse_nodes "$@"; start ;;
stop) stop ;;
status) status ;;
url) parse_nodes "$@"; url ;;
*) echo "usage: $0 build|start [--nodes 3]|stop|status|url" >&2; exit 2 ;;
esac
