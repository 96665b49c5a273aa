#!/usr/bin/env bash
# What the tests use to see pages and PDFs as a person does: the system Chromium (Debian's
# `chromium`, driven through Playwright; Playwright's own browser download is not used) and
# poppler's pdftoppm (Debian's `poppler-utils`), which rasterises report PDFs so the tests can
# look at their pixels. Install whichever is missing.
set -euo pipefail

missing=()
if [ -z "${PULSE_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  missing+=(chromium)
fi
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
[ ${#missing[@]} -eq 0 ] && exit 0

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_root apt-get update -qq
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
if [ -z "${PULSE_CHROMIUM:-}" ]; then
  command -v chromium >/dev/null || { echo "chromium did not install" >&2; exit 1; }
fi
command -v pdftoppm >/dev/null || { echo "pdftoppm (poppler-utils) did not install" >&2; exit 1; }
