# syntax=docker/dockerfile:1
#
# One image recipe for every Pulse service. Build context = repository root:
#
#   docker build -f deploy/docker/service.Dockerfile --build-arg SERVICE=ingest -t pulse-ingest .
#
# SERVICE is one of gateway | ingest | share | aggregator | alerter | reporter, or `all` for the
# tools image (every service package installed; runs `pulse-<svc> migrate` for all six by default, which is
# what compose's one-shot `migrate` service and a Kubernetes migration Job use).
#
# The port table lives here once (the svc-* stages below): gateway 8000, ingest 8001,
# share 8002, aggregator 8003, alerter 8004, reporter 8005. PULSE_<SVC>_PORT still overrides at run time,
# exactly as the service's settings read it.

# Global: used by the final FROM below; each stage re-declares it to read it.
ARG SERVICE

# ---------------------------------------------------------------------------------------------
# builder: resolve the locked dependency set of one workspace package into /app/.venv
# ---------------------------------------------------------------------------------------------
FROM python:3.11-slim AS builder
ARG SERVICE
ARG UV_VERSION=0.13.9

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

RUN pip install "uv==${UV_VERSION}"

WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY contracts/ ./contracts/
COPY libs/ ./libs/
COPY services/ ./services/

# Workspace members are installed editable, pointing at /app/<member>: the runtime stage keeps
# the sources at the same path, because services find their SQL migrations next to their
# package (services/<svc>/migrations), not inside the wheel.
RUN --mount=type=cache,target=/root/.cache/uv \
    set -eu; \
    case "${SERVICE:-}" in \
      gateway|ingest|share|aggregator|alerter|reporter) \
        uv sync --frozen --no-dev --package "pulse-${SERVICE}" ;; \
      all) \
        uv sync --frozen --no-dev --all-packages ;; \
      *) \
        echo "build arg SERVICE must be gateway|ingest|share|aggregator|alerter|reporter|all, got '${SERVICE:-}'" >&2; \
        exit 1 ;; \
    esac; \
    python -m compileall -q contracts libs services

# ---------------------------------------------------------------------------------------------
# runtime: slim image, no build tools, non-root
# ---------------------------------------------------------------------------------------------
# Same base tag as the builder: the venv's interpreter is a symlink to /usr/local/bin/python3.11.
FROM python:3.11-slim AS runtime
ARG SERVICE

RUN groupadd --system --gid 10001 pulse \
 && useradd --system --uid 10001 --gid pulse --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin pulse

# Owned by root and read-only for the service user: the app never writes its own code.
COPY --from=builder /app /app

WORKDIR /app
ENV PATH=/app/.venv/bin:$PATH \
    PULSE_HOST=0.0.0.0 \
    PULSE_SERVICE=${SERVICE} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

USER 10001:10001

# Liveness only (/ready also needs PostgreSQL and RabbitMQ). Port precedence mirrors the
# service's settings: PULSE_<SVC>_PORT, then PULSE_PORT (set per stage below).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; s = os.environ['PULSE_SERVICE'].upper(); p = os.environ.get(f'PULSE_{s}_PORT') or os.environ['PULSE_PORT']; urllib.request.urlopen(f'http://127.0.0.1:{p}/health', timeout=4)"]

# Shell form so the build arg (baked into PULSE_SERVICE) picks the console script at run
# time; `exec` makes the service PID 1 so it receives SIGTERM from `docker stop`.
CMD exec "pulse-${PULSE_SERVICE}" serve

# ---------------------------------------------------------------------------------------------
# one stage per service: its port. The final stage is chosen by SERVICE.
# ---------------------------------------------------------------------------------------------
FROM runtime AS svc-gateway
ENV PULSE_PORT=8000
EXPOSE 8000

FROM runtime AS svc-ingest
ENV PULSE_PORT=8001
EXPOSE 8001

FROM runtime AS svc-share
ENV PULSE_PORT=8002
EXPOSE 8002

FROM runtime AS svc-aggregator
ENV PULSE_PORT=8003
EXPOSE 8003

FROM runtime AS svc-alerter
ENV PULSE_PORT=8004
EXPOSE 8004

# The report worker: WeasyPrint's system libraries (Pango, HarfBuzz, fonts) in this image only;
# no other service renders a PDF.
FROM runtime AS svc-reporter
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b \
      fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
USER 10001:10001
ENV PULSE_PORT=8005
EXPOSE 8005

# Tools image: all six packages, serves nothing, migrates everything by default.
FROM runtime AS svc-all
HEALTHCHECK NONE
CMD ["sh", "-ec", "for svc in gateway ingest aggregator alerter share reporter; do pulse-$svc migrate; done"]

FROM svc-${SERVICE} AS final
USER 10001:10001
