#!/usr/bin/env bash
# Installs the system packages the tests need (Debian): a headless Chromium
# for the web UI test, and Noto fonts so that its screenshots show CJK,
# Arabic and Devanagari text (the page itself uses the system's fonts).
# Idempotent; does nothing when they are present.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
dpkg -s fonts-noto-core >/dev/null 2>&1 || need+=(fonts-noto-core)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "deps: please install: ${need[*]}" >&2
    exit 1
  fi
  echo "deps: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
