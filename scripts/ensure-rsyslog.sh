#!/usr/bin/env bash
# ensure-rsyslog.sh — the syslog sink test runs a private rsyslogd with TLS
# (imtcp + gtls); install Debian's rsyslog and rsyslog-gnutls when missing.
set -euo pipefail
have() {
  local bin
  bin=$(command -v rsyslogd 2>/dev/null || echo /usr/sbin/rsyslogd)
  [ -x "$bin" ] || return 1
  # lmnsd_gtls.so is rsyslog-gnutls's TLS driver.
  compgen -G "/usr/lib/*/rsyslog/lmnsd_gtls.so" >/dev/null || compgen -G "/usr/lib/rsyslog/lmnsd_gtls.so" >/dev/null
}
if have; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "ensure-rsyslog: installing Debian's rsyslog and rsyslog-gnutls for the syslog sink test" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rsyslog rsyslog-gnutls >&2
  exit 0
fi
echo "ensure-rsyslog: rsyslogd with its TLS driver not found. Install them (Debian/Ubuntu: 'sudo apt-get install rsyslog rsyslog-gnutls')." >&2
exit 1
