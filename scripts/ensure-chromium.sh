#!/usr/bin/env bash
# ensure-chromium.sh — the browser tests need a Chromium, and CJK fonts so
# that the Chinese pages' screenshots show their characters; install
# Debian's when missing.
set -euo pipefail
missing=()
found=
for b in ${CHROME_BIN:-} chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then found=1; break; fi
done
[ -n "$found" ] || missing+=(chromium)
if ! fc-list 2>/dev/null | grep -qi 'Noto Sans CJK'; then missing+=(fonts-noto-cjk); fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "ensure-chromium: installing Debian's ${missing[*]} for the browser tests" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  exit 0
fi
echo "ensure-chromium: missing ${missing[*]}. Install them (Debian/Ubuntu: 'sudo apt-get install ${missing[*]}') or set CHROME_BIN." >&2
exit 1
