# Pulse: `make dev` runs everything locally, `make test` runs the whole suite.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
PY := .venv/bin/python
export PULSE_ENV ?= development

.PHONY: install servers browser deploy-tools migrate dev stop test lint format schemas up down bench bench-smoke chaos chaos-short backtest

install:
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
	@$$(command -v uv || echo $(HOME)/.local/bin/uv) sync --all-packages --frozen --quiet
	@# Bytecode written once here: with PYTHONDONTWRITEBYTECODE set (as on these machines),
	@# every service start and test subprocess would otherwise compile every import again
	@# (the gateway's imports: 11 s instead of 2 on a loaded machine). Up-to-date files are skipped.
	@$(PY) -m compileall -q -j 0 "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" contracts libs services tools bench chaos >/dev/null

servers:
	@bash scripts/ensure-servers.sh

browser:
	@bash scripts/ensure-browser.sh

deploy-tools:
	@bash scripts/ensure-deploy-tools.sh

migrate: install servers
	@bash -c 'for svc in ingest aggregator alerter gateway share reporter; do .venv/bin/pulse-$$svc migrate; done'

dev: install servers
	@bash scripts/dev.sh

stop:
	@bash scripts/dev.sh stop

test: install servers browser deploy-tools
	PULSE_ENV=test .venv/bin/pytest

# The performance benchmark (design/performance.md): every P1–P9 scenario against all five
# services, PostgreSQL and RabbitMQ, in a database and vhost of its own. The first full run
# seeds the 10M-sample template (minutes); later runs copy it. Report: bench/results/latest.json.
bench: install servers
	$(PY) -m bench $(BENCH_ARGS)

# The same code path at tiny sizes, under a minute: every scenario completes, no sample is missing.
bench-smoke: install servers
	$(PY) -m bench --smoke $(BENCH_ARGS)

# Accepted data is never lost or double-counted (docs/reliability.md): load over HTTP and AMQP
# while every service is killed -9 20 times and RabbitMQ and PostgreSQL are restarted twice
# each. Restarts the SHARED servers: everyone using them notices. Report: chaos/results/.
chaos: install servers
	$(PY) -m chaos $(CHAOS_ARGS)

# The CI version: one kill -9 of ingest, aggregator and alerter, one fault of the run's own
# RabbitMQ connections and PostgreSQL sessions (tests/system/test_chaos.py runs it).
chaos-short: install servers
	$(PY) -m chaos --short $(CHAOS_ARGS)

# The delivery forecast replayed over finished campaigns (demo and a seeded synthetic set);
# no servers needed. Prints the table and writes it to docs/forecast.md.
backtest: install
	$(PY) -m bench.backtest --out docs/forecast.md

lint: install
	.venv/bin/ruff format --check .
	.venv/bin/ruff check .
	.venv/bin/mypy contracts/pulse_contracts libs/runtime/pulse_runtime libs/report/pulse_report services/*/pulse_* tools/fake-scrapecreators/fake_scrapecreators bench chaos

format: install
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

# Regenerate what is derived from code: JSON Schemas of the contracts, RabbitMQ definitions.
schemas: install
	$(PY) -m pulse_contracts.schemas
	$(PY) -m pulse_runtime.topology > deploy/rabbitmq/definitions.json
	cp deploy/rabbitmq/definitions.json deploy/k8s/base/rabbitmq/definitions.json

up:
	docker compose up -d --build --wait

down:
	docker compose down
