#!/usr/bin/env bash
# ensure-chromium.sh — the browser tests need a Chromium; install Debian's when missing.
set -euo pipefail
for b in ${CHROME_BIN:-} chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then exit 0; fi
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "ensure-chromium: installing Debian's chromium for the browser tests" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
  exit 0
fi
echo "ensure-chromium: no Chromium found. Install it (Debian/Ubuntu: 'sudo apt-get install chromium') or set CHROME_BIN." >&2
exit 1
