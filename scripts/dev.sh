#!/usr/bin/env bash
# `make dev`: migrate, then run every service in the background against the local servers.
# `scripts/dev.sh stop` stops them. Logs: var/log/<service>.log.
set -euo pipefail
cd "$(dirname "$0")/.."

SERVICES="ingest aggregator alerter gateway share reporter"
FAKE_PROVIDER_PORT=8010
export PULSE_ENV="${PULSE_ENV:-development}"
# ScrapeCreators: the real API when a key is given, else the built-in fake server.
if [ -n "${SCRAPECREATORS_API_KEY:-}" ]; then
  export PULSE_INGEST_SCRAPECREATORS_API_KEY="$SCRAPECREATORS_API_KEY"
  USE_FAKE_PROVIDER=0
else
  export PULSE_INGEST_SCRAPECREATORS_BASE_URL="http://127.0.0.1:$FAKE_PROVIDER_PORT"
  export PULSE_INGEST_SCRAPECREATORS_API_KEY="fake-dev-key"
  USE_FAKE_PROVIDER=1
fi
export PULSE_DATABASE_URL="${PULSE_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/pulse}"
export PULSE_AMQP_URL="${PULSE_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}"
mkdir -p var/log var/run
# The `pulse` command run from this checkout reads these when the shell does not set them.
cat >var/dev.env <<ENV
PULSE_ENV=$PULSE_ENV
PULSE_DATABASE_URL=$PULSE_DATABASE_URL
PULSE_AMQP_URL=$PULSE_AMQP_URL
ENV

stop() {
  local pids=()
  for svc in $SERVICES fake-scrapecreators; do
    if [ -f "var/run/$svc.pid" ]; then
      pids+=("$(cat "var/run/$svc.pid")")
      rm -f "var/run/$svc.pid"
    fi
  done
  [ ${#pids[@]} -eq 0 ] && return 0
  kill "${pids[@]}" 2>/dev/null || true
  # Wait for them to let go of their ports, so a restart right after never collides.
  for _ in $(seq 1 100); do
    kill -0 "${pids[@]}" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "${pids[@]}" 2>/dev/null || true
}

if [ "${1:-start}" = "stop" ]; then stop; echo "Pulse stopped"; exit 0; fi

# The database itself, once; each service then creates its own role and schema.
db=$(basename "${PULSE_DATABASE_URL%%\?*}")
admin="${PULSE_DATABASE_URL%/*}/postgres"
.venv/bin/python - "$admin" "$db" <<'PY'
import asyncio, sys, asyncpg
async def main(admin: str, db: str) -> None:
    conn = await asyncpg.connect(admin)
    if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", db):
        await conn.execute(f'CREATE DATABASE "{db}"')
    await conn.close()
asyncio.run(main(*sys.argv[1:]))
PY
for svc in $SERVICES; do ".venv/bin/pulse-$svc" migrate; done

stop
if [ "$USE_FAKE_PROVIDER" = 1 ]; then
  nohup .venv/bin/fake-scrapecreators --port "$FAKE_PROVIDER_PORT" >>var/log/fake-scrapecreators.log 2>&1 &
  echo $! >var/run/fake-scrapecreators.pid
fi
for svc in $SERVICES; do
  nohup ".venv/bin/pulse-$svc" serve >>"var/log/$svc.log" 2>&1 &
  echo $! >"var/run/$svc.pid"
done

declare -A PORTS=([gateway]=8000 [ingest]=8001 [share]=8002 [aggregator]=8003 [alerter]=8004 [reporter]=8005)
for svc in $SERVICES; do
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:${PORTS[$svc]}/ready" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fsS "http://127.0.0.1:${PORTS[$svc]}/ready" >/dev/null \
    || { echo "$svc did not become ready; see var/log/$svc.log" >&2; exit 1; }
done

# The demo agency, through the running services (a second run changes nothing).
fake_arg=()
[ "$USE_FAKE_PROVIDER" = 1 ] && fake_arg=(--fake-provider-url "http://127.0.0.1:$FAKE_PROVIDER_PORT")
seeded=$(.venv/bin/pulse seed-demo "${fake_arg[@]}")
echo "demo: $seeded"
provider="the built-in fake ScrapeCreators (http://127.0.0.1:$FAKE_PROVIDER_PORT)"
[ "$USE_FAKE_PROVIDER" = 1 ] || provider="ScrapeCreators (SCRAPECREATORS_API_KEY)"

cat <<MSG

Pulse is running (logs in var/log/, stop with: make stop)
  dashboard   http://127.0.0.1:8000/login   demo login: demo@northwind.agency / pulse-demo-2026
  gateway     http://127.0.0.1:8000   staff API (OpenAPI at /docs)
  ingest      http://127.0.0.1:8001   POST /api/ingest/posts  (n8n webhook)
  share       http://127.0.0.1:8002
  aggregator  http://127.0.0.1:8003   internal reads, X-Pulse-Service-Token: dev-service-token
  alerter     http://127.0.0.1:8004   internal reads, X-Pulse-Service-Token: dev-service-token
  reporter    http://127.0.0.1:8005   report jobs (PDF/CSV/XLSX); reports at /reports
  provider    $provider
MSG
