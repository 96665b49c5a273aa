"""Static checks of the deployment files: compose.yaml, the service Dockerfile, .dockerignore and
the RabbitMQ configuration. No Docker engine is needed; `docker compose config` runs only where
the compose plugin is installed."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "deploy" / "docker" / "service.Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
RABBITMQ_CONF = ROOT / "deploy" / "rabbitmq" / "rabbitmq.conf"
# Where `python -m pulse_runtime.topology` output is kept (generated, owned elsewhere).
DEFINITIONS = ROOT / "deploy" / "rabbitmq" / "definitions.json"

PORTS = {
    "gateway": 8000,
    "ingest": 8001,
    "share": 8002,
    "aggregator": 8003,
    "alerter": 8004,
    "reporter": 8005,
}
APP_SERVICES = tuple(PORTS)
PUBLISHED = {"gateway": 8000, "ingest": 8001, "share": 8002}
INFRA_SERVICES = ("postgres", "rabbitmq", "redis", "migrate")

SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET|(^|_)PASS$")
REQUIRED_REF = re.compile(r"\$\{(?P<name>[A-Z0-9_]+):\?[^}]+\}")
ANY_REF = re.compile(r"\$\{(?P<name>[A-Za-z0-9_]+)(?P<rest>[^}]*)\}")

# Dummy values for every variable compose requires, for `docker compose config` and the
# rabbitmq-init rendering test.
DUMMY_ENV = {
    "POSTGRES_PASSWORD": "pg-dummy",
    "PULSE_SERVICE_TOKEN": "token-dummy",
    "RABBITMQ_ADMIN_PASSWORD": "admin-dummy",
    "PULSE_N8N_AMQP_PASSWORD": "n8n-dummy",
    **{f"PULSE_{svc.upper()}_DATABASE_PASSWORD": f"db-{svc}-dummy" for svc in APP_SERVICES},
    **{f"PULSE_{svc.upper()}_AMQP_PASSWORD": f"amqp-{svc}-dummy" for svc in APP_SERVICES},
}


# ------------------------------------------------------------------------------------------------
# compose.yaml
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose_text() -> str:
    return COMPOSE_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose(compose_text: str) -> dict[str, Any]:
    data = yaml.safe_load(compose_text)
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose.get("services")
    assert isinstance(found, dict)
    return found


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(key): str(value) for key, value in env.items()}


def _published(service: dict[str, Any]) -> list[tuple[int, int]]:
    """(host, container) pairs for short ("8000:8000", "127.0.0.1:8000:8000") and long syntax."""
    pairs = []
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            pairs.append((int(port["published"]), int(port["target"])))
        else:
            *_, host, container = str(port).split(":")
            pairs.append((int(host), int(container.split("/")[0])))
    return pairs


def _mounts(service: dict[str, Any]) -> list[dict[str, Any]]:
    mounts = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            mounts.append(volume)
        else:
            source, target, *_ = str(volume).split(":")
            kind = "bind" if source.startswith((".", "/")) else "volume"
            mounts.append({"type": kind, "source": source, "target": target})
    return mounts


def test_every_service_is_defined(services: dict[str, dict[str, Any]]) -> None:
    missing = {*APP_SERVICES, *INFRA_SERVICES} - set(services)
    assert not missing, f"compose.yaml lacks services {sorted(missing)}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_waits_for_infrastructure(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    depends_on = services[name].get("depends_on")
    assert isinstance(depends_on, dict), f"{name}: depends_on must use the long form"
    assert depends_on.get("postgres", {}).get("condition") == "service_healthy"
    assert depends_on.get("rabbitmq", {}).get("condition") == "service_healthy"
    assert depends_on.get("migrate", {}).get("condition") == "service_completed_successfully"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_healthcheck_probes_health_on_its_port(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    healthcheck = services[name].get("healthcheck")
    assert healthcheck, f"{name} has no healthcheck"
    assert not healthcheck.get("disable")
    test = " ".join(healthcheck["test"]) if isinstance(healthcheck["test"], list) else ""
    assert f"127.0.0.1:{PORTS[name]}/health" in test, test


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_builds_its_own_image(services: dict[str, dict[str, Any]], name: str) -> None:
    build = services[name].get("build")
    assert isinstance(build, dict), f"{name}: build must be a mapping"
    assert build.get("context") == "."
    assert build.get("dockerfile") == "deploy/docker/service.Dockerfile"
    assert (ROOT / build["dockerfile"]).is_file()
    assert build.get("args", {}).get("SERVICE") == name


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_uses_its_own_credentials(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    env = _environment(services[name])
    svc = name.upper()
    assert env.get("PULSE_ENV") == "production"
    assert env.get("PULSE_HOST") == "0.0.0.0"  # noqa: S104 - inside the container
    assert f"PULSE_{svc}_DATABASE_PASSWORD" in env
    assert env.get(f"PULSE_{svc}_AMQP_URL", "").startswith(f"amqp://pulse_{name}:")
    # The superuser password stays with `migrate`; services connect as their own role.
    assert "POSTGRES_PASSWORD" not in json.dumps(env)
    others = [f"PULSE_{o.upper()}_" for o in APP_SERVICES if o != name]
    leaked = [key for key in env if key.startswith(tuple(others))]
    assert not leaked, f"{name} receives another service's settings: {leaked}"


def test_environment_comes_from_the_shared_anchor(compose_text: str) -> None:
    assert re.search(r"^x-pulse-env: &pulse-env$", compose_text, re.MULTILINE)
    assert compose_text.count("<<: *pulse-env") >= len(APP_SERVICES) + 1


def test_migrate_runs_every_service_once_postgres_is_healthy(
    services: dict[str, dict[str, Any]],
) -> None:
    migrate = services["migrate"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["build"]["dockerfile"] == "deploy/docker/service.Dockerfile"
    assert migrate["build"]["args"]["SERVICE"] == "all"
    assert migrate.get("restart") == "no"
    command = " ".join(migrate["command"])
    for name in APP_SERVICES:
        assert name in command
    assert "pulse-$$svc migrate" in command
    env = _environment(migrate)
    assert env["PULSE_DATABASE_URL"].startswith("postgresql://postgres:${POSTGRES_PASSWORD:?")
    for name in APP_SERVICES:
        assert f"PULSE_{name.upper()}_DATABASE_PASSWORD" in env


def test_infrastructure_images_are_pinned_to_a_major_version(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, expected_repo in (
        ("postgres", "postgres"),
        ("rabbitmq", "rabbitmq"),
        ("redis", "redis"),
    ):
        image = services[name]["image"]
        repo, _, tag = image.partition(":")
        assert repo == expected_repo
        assert re.match(r"^\d+(\.\d+)*(-[a-z0-9.-]+)?$", tag), f"{name}: unpinned image {image}"


def test_infrastructure_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    postgres = " ".join(services["postgres"]["healthcheck"]["test"])
    assert "pg_isready" in postgres
    rabbitmq = " ".join(services["rabbitmq"]["healthcheck"]["test"])
    assert "rabbitmq-diagnostics -q ping" in rabbitmq
    assert "redis-cli ping" in " ".join(services["redis"]["healthcheck"]["test"])
    assert any(m["target"] == "/var/lib/postgresql/data" for m in _mounts(services["postgres"]))
    assert any(m["target"] == "/var/lib/rabbitmq" for m in _mounts(services["rabbitmq"]))


def test_published_ports_match_the_port_table(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        expected = [(PUBLISHED[name], PUBLISHED[name])] if name in PUBLISHED else []
        assert _published(service) == expected, f"{name} publishes {_published(service)}"


def test_secrets_are_required_never_defaulted(compose_text: str) -> None:
    references = list(ANY_REF.finditer(compose_text))
    assert references
    for ref in references:
        if SECRET_NAME.search(ref.group("name")):
            message = f"secret {ref.group('name')} must be written ${{NAME:?message}}"
            assert ref.group("rest").startswith(":?"), message
            assert len(ref.group("rest")) > 2, message


def test_no_secret_value_is_a_literal(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for key, value in _environment(service).items():
            if SECRET_NAME.search(key):
                assert REQUIRED_REF.fullmatch(value), f"{name}.{key} must be ${{{key}:?...}}"
                assert REQUIRED_REF.fullmatch(value).group("name") == key  # type: ignore[union-attr]
            credentials = re.match(r"^[a-z]+://([^@/]*)@", value)
            if credentials and ":" in credentials.group(1):
                password = credentials.group(1).split(":", 1)[1]
                assert REQUIRED_REF.fullmatch(password), f"{name}.{key}: literal URL password"


def test_every_dollar_is_an_interpolation_or_escaped(compose_text: str) -> None:
    # `$$` is compose's literal dollar; any other `$` must open a ${...} reference.
    stray = [m.start() for m in re.finditer(r"\$(?!\{)", compose_text.replace("$$", ""))]
    assert not stray, f"unescaped $ in compose.yaml at offsets {stray}"


# ------------------------------------------------------------------------------------------------
# RabbitMQ: config, definitions import, users
# ------------------------------------------------------------------------------------------------


def _conf_value(key: str) -> str:
    for line in RABBITMQ_CONF.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#") and name.strip() == key:
            return value.strip()
    raise AssertionError(f"{key} not set in {RABBITMQ_CONF}")


def test_rabbitmq_imports_the_rendered_definitions(services: dict[str, dict[str, Any]]) -> None:
    rabbitmq, init = services["rabbitmq"], services["rabbitmq-init"]
    assert rabbitmq["depends_on"]["rabbitmq-init"]["condition"] == "service_completed_successfully"
    assert rabbitmq.get("hostname") == "rabbitmq", "the node name must not change on recreate"

    mounts = _mounts(rabbitmq)
    conf = [m for m in mounts if m["target"] == "/etc/rabbitmq/rabbitmq.conf"]
    assert conf, "rabbitmq.conf is not mounted"
    assert (ROOT / conf[0]["source"]).resolve() == RABBITMQ_CONF
    for mount in [*mounts, *_mounts(init)]:
        if mount["type"] == "bind":
            assert (ROOT / mount["source"]).exists(), mount

    # load_definitions points into the volume that rabbitmq-init writes.
    path = Path(_conf_value("load_definitions"))
    volume = next(m for m in mounts if m["type"] == "volume" and path.is_relative_to(m["target"]))
    out = Path(_environment(init)["PULSE_DEFINITIONS_OUT"])
    written = next(m for m in _mounts(init) if m["source"] == volume["source"])
    assert out.relative_to(written["target"]) == path.relative_to(volume["target"])

    # rabbitmq-init reads the generated topology file from the folder it is generated into.
    topology = Path(_environment(init)["PULSE_TOPOLOGY_FILE"])
    source = next(m for m in _mounts(init) if topology.is_relative_to(m["target"]))
    assert (ROOT / source["source"]).resolve() / topology.relative_to(source["target"]) == (
        DEFINITIONS
    )


def _render_definitions(tmp_path: Path, services: dict[str, dict[str, Any]]) -> dict[str, Any]:
    command = services["rabbitmq-init"]["command"]
    assert command[:2] == ["python", "-c"]
    script = command[2].replace("$$", "$")  # what compose hands to the container
    out = tmp_path / "rendered" / "definitions.json"
    out.parent.mkdir()
    env = {
        **os.environ,
        **DUMMY_ENV,
        "RABBITMQ_ADMIN_USER": "pulse-admin",
        "PULSE_TOPOLOGY_FILE": str(tmp_path / "topology.json"),
        "PULSE_DEFINITIONS_OUT": str(out),
    }
    subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True)
    rendered: dict[str, Any] = json.loads(out.read_text())
    return rendered


def _verify_rabbit_sha256(password_hash: str, password: str) -> bool:
    raw = base64.b64decode(password_hash)
    salt, digest = raw[:4], raw[4:]
    return hashlib.sha256(salt + password.encode()).digest() == digest


def _matches(pattern: str, name: str) -> bool:
    return re.search(pattern, name) is not None


def test_rabbitmq_init_renders_topology_users_and_permissions(
    tmp_path: Path, services: dict[str, dict[str, Any]]
) -> None:
    topology = pytest.importorskip("pulse_runtime.topology")
    (tmp_path / "topology.json").write_text(json.dumps(topology.definitions()))
    rendered = _render_definitions(tmp_path, services)

    assert rendered["queues"] == topology.definitions()["queues"]
    assert {"name": "/"} in rendered["vhosts"]
    users = {u["name"]: u for u in rendered["users"]}
    assert set(users) == {"pulse-admin", "n8n", *(f"pulse_{svc}" for svc in APP_SERVICES)}
    assert users["pulse-admin"]["tags"] == ["administrator"]
    assert _verify_rabbit_sha256(users["pulse-admin"]["password_hash"], "admin-dummy")
    assert _verify_rabbit_sha256(users["n8n"]["password_hash"], "n8n-dummy")
    for user in users.values():
        assert user["hashing_algorithm"] == "rabbit_password_hashing_sha256"
    assert "dummy" not in json.dumps(rendered), "a cleartext password reached the definitions"

    perms = {p["user"]: p for p in rendered["permissions"]}
    queues = list(topology.QUEUES.values())
    for svc in APP_SERVICES:
        perm = perms[f"pulse_{svc}"]
        assert _verify_rabbit_sha256(users[f"pulse_{svc}"]["password_hash"], f"amqp-{svc}-dummy")
        for exchange in ("pulse.events", "pulse.ingest", "pulse.dlx"):
            assert all(_matches(perm[k], exchange) for k in ("configure", "write", "read"))
        for spec in queues:
            for queue in (spec.name, spec.dlq_name):
                own = queue.startswith(f"{svc}.")
                assert _matches(perm["configure"], queue) is own, (svc, queue)
                assert _matches(perm["read"], queue) is own, (svc, queue)
        assert _matches(perm["read"], "amq.gen-abc123")  # server-named exclusive queues

    n8n = perms["n8n"]
    assert _matches(n8n["write"], "pulse.ingest")
    for other in ("pulse.events", "pulse.dlx", "pulse.ingestx", "ingest.items", "amq.default"):
        assert not _matches(n8n["write"], other)
    assert not any(_matches(n8n["read"], name) for name in ("pulse.ingest", "ingest.items", "x"))
    assert not _matches(n8n["configure"], "ingest.items")
    (topic,) = rendered["topic_permissions"]
    assert (topic["user"], topic["exchange"]) == ("n8n", "pulse.ingest")
    assert _matches(topic["write"], "ingest.posts")
    assert not _matches(topic["write"], "ingest.postsx")
    assert not _matches(topic["write"], "catalog.client.upserted")


def test_rabbitmq_init_without_topology_still_creates_users(
    tmp_path: Path, services: dict[str, dict[str, Any]]
) -> None:
    rendered = _render_definitions(tmp_path, services)
    assert rendered["vhosts"] == [{"name": "/"}]
    assert len(rendered["users"]) == len(APP_SERVICES) + 2


def test_rabbitmq_conf_has_no_default_credentials() -> None:
    text = RABBITMQ_CONF.read_text(encoding="utf-8")
    active = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert not [line for line in active if line.startswith(("default_user", "default_pass"))]


# ------------------------------------------------------------------------------------------------
# service.Dockerfile
# ------------------------------------------------------------------------------------------------


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, keyword: str) -> list[str]:
        return [arg for kw, arg in self.instructions if kw == keyword]


def _instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) with line continuations joined and comment lines dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, rest = line.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    assert not pending, "dangling line continuation"
    return result


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    found: list[Stage] = []
    for keyword, rest in _instructions(DOCKERFILE.read_text(encoding="utf-8")):
        if keyword == "FROM":
            parts = [p for p in rest.split() if not p.startswith("--")]
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            found.append(Stage(parts[0], name))
        elif found:
            found[-1].instructions.append((keyword, rest))
    return found


def test_dockerfile_stages(stages: list[Stage]) -> None:
    by_name = {stage.name: stage for stage in stages}
    assert by_name["builder"].base == "python:3.11-slim"
    assert by_name["runtime"].base == "python:3.11-slim"
    for svc in [*APP_SERVICES, "all"]:
        assert by_name[f"svc-{svc}"].base == "runtime"
    assert stages[-1].base == "svc-${SERVICE}", "the final stage must be picked by SERVICE"


def test_dockerfile_builder_syncs_the_locked_workspace(stages: list[Stage]) -> None:
    builder = next(stage for stage in stages if stage.name == "builder")
    runs = " ".join(builder.args("RUN"))
    assert re.search(r'pip install "?uv==\$\{UV_VERSION\}"?', runs)
    assert any(re.fullmatch(r"UV_VERSION=\d+\.\d+\.\d+", arg) for arg in builder.args("ARG"))
    assert 'uv sync --frozen --no-dev --package "pulse-${SERVICE}"' in runs
    assert "UV_PROJECT_ENVIRONMENT=/app/.venv" in " ".join(builder.args("ENV"))


def test_dockerfile_runtime_is_non_root_with_healthcheck(stages: list[Stage]) -> None:
    runtime = next(stage for stage in stages if stage.name == "runtime")
    env = " ".join(runtime.args("ENV"))
    for expected in ("PATH=/app/.venv/bin:$PATH", "PULSE_HOST=0.0.0.0", "PULSE_SERVICE=${SERVICE}"):
        assert expected in env
    assert "--from=builder /app /app" in runtime.args("COPY"), "venv and sources from builder"
    (healthcheck,) = runtime.args("HEALTHCHECK")
    assert "urllib.request" in healthcheck
    assert "/health" in healthcheck
    (cmd,) = runtime.args("CMD")
    assert "pulse-${PULSE_SERVICE}" in cmd
    assert cmd.endswith("serve")

    final_users = stages[-1].args("USER") or runtime.args("USER")
    assert final_users, "the final stage must run as a named non-root user"
    user = final_users[-1].split(":")[0]
    assert user not in ("root", "0", "")


@pytest.mark.parametrize(("svc", "port"), PORTS.items())
def test_dockerfile_service_stage_exposes_its_port(
    stages: list[Stage], svc: str, port: int
) -> None:
    stage = next(stage for stage in stages if stage.name == f"svc-{svc}")
    assert stage.args("EXPOSE") == [str(port)]
    assert stage.args("ENV") == [f"PULSE_PORT={port}"]


def _copy_sources(arguments: str) -> list[str]:
    if arguments.startswith("["):
        parts: list[str] = json.loads(arguments)
    else:
        parts = arguments.split()
    if any(part.startswith("--from") for part in parts):
        return []
    parts = [part for part in parts if not part.startswith("--")]
    return parts[:-1]


def _dockerignored(relative: str) -> bool:
    patterns = [
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    top = relative.rstrip("/").split("/")[0]
    return relative.rstrip("/") in patterns or top in patterns


def test_dockerfile_copies_only_existing_paths(stages: list[Stage]) -> None:
    copied = [src for stage in stages for arg in stage.args("COPY") for src in _copy_sources(arg)]
    assert {"pyproject.toml", "uv.lock", "contracts/", "libs/", "services/"} <= set(copied)
    for source in copied:
        assert (ROOT / source).exists(), f"COPY {source}: no such path in the repository"
        assert not _dockerignored(source), f"COPY {source}: excluded by .dockerignore"
    assert not [arg for stage in stages for arg in stage.args("ADD")], "use COPY, not ADD"


def test_dockerignore_keeps_local_state_out_of_the_context() -> None:
    patterns = {
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    required = {".venv", ".git", "var", "bench/results", "test-artifacts", ".env"}
    assert required <= patterns, sorted(required - patterns)
    assert {"**/__pycache__", "**/.pytest_cache", "**/.mypy_cache", "**/.ruff_cache"} <= patterns


# ------------------------------------------------------------------------------------------------
# docker compose config (only where the compose plugin exists; it needs no engine)
# ------------------------------------------------------------------------------------------------


def _compose_available() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


@pytest.mark.skipif(not _compose_available(), reason="`docker compose` plugin not installed")
def test_docker_compose_config_is_valid() -> None:
    env = {**os.environ, **DUMMY_ENV}
    result = subprocess.run(
        ["docker", "compose", "--env-file", os.devnull, "-f", str(COMPOSE_FILE), "config", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(not _compose_available(), reason="`docker compose` plugin not installed")
def test_docker_compose_refuses_missing_secrets() -> None:
    env = {k: v for k, v in {**os.environ, **DUMMY_ENV}.items() if k != "PULSE_SERVICE_TOKEN"}
    result = subprocess.run(
        ["docker", "compose", "--env-file", os.devnull, "-f", str(COMPOSE_FILE), "config", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "PULSE_SERVICE_TOKEN" in result.stderr
