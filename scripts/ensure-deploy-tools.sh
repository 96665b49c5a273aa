#!/usr/bin/env bash
# The deployment checks (tests/deploy) need `promtool` to check the Prometheus alert rules: it
# comes with Debian's `prometheus` package, installed when missing. (kubectl, for rendering the
# kustomize overlays, is a locked dev dependency in .venv: Debian's kubernetes-client is too old
# for today's kustomize.) Only the tool is used; no Prometheus server is started.
set -euo pipefail

if command -v promtool >/dev/null 2>&1; then
  exit 0
fi
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_root apt-get update -qq
# policy-rc.d 101: the package's post-install must not start the server it ships.
policy=/usr/sbin/policy-rc.d
created=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
  as_root chmod +x "$policy"
  created=1
fi
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends prometheus >/dev/null
if [ "$created" = 1 ]; then as_root rm -f "$policy"; fi
command -v promtool >/dev/null || { echo "promtool did not install" >&2; exit 1; }
