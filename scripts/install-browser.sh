#!/usr/bin/env bash
# Installs Debian's chromium, which the dashboard's browser test drives through playwright-core
# (test/dashboard/browser.test.ts). No browser is downloaded from anywhere else. Idempotent:
# does nothing when /usr/bin/chromium already runs. Needs root (apt-get).
set -euo pipefail

CHROMIUM=${SWARM_CHROMIUM:-/usr/bin/chromium}

if [ -x "$CHROMIUM" ] && "$CHROMIUM" --version >/dev/null 2>&1; then
  echo "install-browser: $("$CHROMIUM" --version 2>/dev/null) already installed at $CHROMIUM"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-browser: run as root: sudo bash scripts/install-browser.sh" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: no apt-get here; install chromium with the system's package manager and set SWARM_CHROMIUM to its path" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# fonts-dejavu-core: the page's text renders the same on a bare CI box.
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
echo "install-browser: $(/usr/bin/chromium --version 2>/dev/null) installed"
