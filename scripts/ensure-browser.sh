#!/usr/bin/env bash
# The browser tests drive the system Chromium (Debian's `chromium` package) through Playwright;
# Playwright's own browser download is not used, so install the package when it is missing.
set -euo pipefail

if [ -n "${PULSE_CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1; then
  exit 0
fi
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_root apt-get update -qq
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
command -v chromium >/dev/null || { echo "chromium did not install" >&2; exit 1; }
