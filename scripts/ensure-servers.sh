#!/usr/bin/env bash
# Make sure the local PostgreSQL, RabbitMQ and Redis are up: start them, or install them when
# missing. Skipped for a server whose URL is given explicitly (PULSE_DATABASE_URL /
# PULSE_AMQP_URL / PULSE_REDIS_URL).
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

if [ -z "${PULSE_DATABASE_URL:-}" ] && ! port_open 5432; then
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  cluster=$(ls /etc/postgresql | sort -V | tail -n 1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$cluster" main start
  for _ in $(seq 1 60); do port_open 5432 && break; sleep 0.5; done
  port_open 5432 || { echo "PostgreSQL did not start on 5432" >&2; exit 1; }
fi

if [ -z "${PULSE_AMQP_URL:-}" ] && ! port_open 5672; then
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  as_root rabbitmq-server -detached
  for _ in $(seq 1 120); do port_open 5672 && break; sleep 0.5; done
  port_open 5672 || { echo "RabbitMQ did not start on 5672" >&2; exit 1; }
fi
# Redis keeps the API rate limits that every gateway and ingest replica shares.
if [ -z "${PULSE_REDIS_URL:-}" ] && ! port_open 6379; then
  command -v redis-server >/dev/null || apt_install redis-server
  # (Debian's package may have started one itself: then this start just finds the port taken.)
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null || true
  for _ in $(seq 1 40); do port_open 6379 && break; sleep 0.25; done
  port_open 6379 || { echo "Redis did not start on 6379" >&2; exit 1; }
fi
echo "PostgreSQL, RabbitMQ and Redis are up"
