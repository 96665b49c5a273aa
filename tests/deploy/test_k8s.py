"""The Kubernetes manifests (deploy/k8s): both overlays render, every object validates (core
kinds against the Kubernetes OpenAPI schemas of `kubernetes-validate`, custom resources against
the vendored CRD schemas), and each service is deployed the way compose runs it."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from tests.deploy.manifests import (
    K8S,
    OPERATOR_SECRETS,
    OVERLAYS,
    PORTS,
    ROOT,
    SERVICES,
    Manifest,
    compose_services,
    containers,
    crd_schema,
    env_of,
    of_kind,
    one,
    pod_spec,
    render,
)

# The oldest Kubernetes minor the manifests are written for (autoscaling/v2, policy/v1, ...).
KUBERNETES_VERSION = "1.30"
# bench/RESULTS.md, P6: peak RSS of each service under the P1 load, in MB.
PEAK_RSS_MB = {
    "gateway": 135,
    "ingest": 128,
    "share": 93,
    "aggregator": 96,
    "alerter": 97,
    # A 12-creator PDF render alone peaked at 124 MB (ru_maxrss); plus the service's runtime.
    "reporter": 200,
}
UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


def _bytes(quantity: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([KMG]i)", quantity).groups()  # type: ignore[union-attr]
    return int(number) * UNITS[unit]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_every_part(overlay: str) -> None:
    objects = render(overlay)
    kinds = {o["kind"] for o in objects}
    expected = {
        "Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy", "Job", "Ingress",
        "ConfigMap", "Cluster", "RabbitmqCluster", "ScaledObject", "TriggerAuthentication",
        "HorizontalPodAutoscaler", "PodMonitor", "ServiceMonitor", "PrometheusRule",
    }  # fmt: skip
    assert expected <= kinds, sorted(expected - kinds)
    namespaces = {o["metadata"].get("namespace") for o in objects}
    assert namespaces == {"pulse-dev" if overlay == "dev" else "pulse"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_core_kinds_validate_against_kubernetes_schemas(overlay: str) -> None:
    checked = 0
    for obj in render(overlay):
        if crd_schema(obj["apiVersion"], obj["kind"]) is not None:
            continue
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            pytest.fail(f"{name}: neither a Kubernetes kind nor a vendored CRD")
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{name}: {exc.message} at {list(exc.path)}")
        checked += 1
    assert checked >= 20


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_custom_resources_validate_against_vendored_crds(overlay: str) -> None:
    checked = set()
    for obj in render(overlay):
        schema = crd_schema(obj["apiVersion"], obj["kind"])
        if schema is None:
            continue
        errors = sorted(
            jsonschema.Draft7Validator(schema).iter_errors(obj), key=lambda e: list(e.path)
        )
        assert not errors, [
            f"{obj['kind']}/{obj['metadata']['name']}: {e.message} at {list(e.path)}"
            for e in errors
        ]
        checked.add(obj["kind"])
    assert checked >= {
        "Cluster", "RabbitmqCluster", "ScaledObject", "TriggerAuthentication",
        "PodMonitor", "ServiceMonitor", "PrometheusRule",
    }  # fmt: skip


def test_strict_crd_validation_catches_a_misspelt_field() -> None:
    cluster = one(render("production"), "Cluster", "pulse-db")
    schema = crd_schema(cluster["apiVersion"], cluster["kind"])
    assert schema is not None
    broken = {**cluster, "spec": {**cluster["spec"], "instance": 3}}
    assert not jsonschema.Draft7Validator(schema).is_valid(broken)


# ------------------------------------------------------------------------------------------------
# the services
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("svc", SERVICES)
def test_service_deployment_probes_and_ports(svc: str) -> None:
    objects = render("production")
    deployment = one(objects, "Deployment", svc)
    (container,) = pod_spec(deployment)["containers"]
    assert container["command"] == [f"pulse-{svc}"]
    assert container["args"] == ["serve"]
    assert container["ports"] == [{"name": "http", "containerPort": PORTS[svc], "protocol": "TCP"}]
    assert env_of(container)["PULSE_PORT"]["value"] == str(PORTS[svc])
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod_spec(deployment)["securityContext"]["runAsNonRoot"] is True
    assert "replicas" not in deployment["spec"], "the autoscaler owns replicas"

    service = one(objects, "Service", svc)
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": svc}
    assert service["spec"]["ports"][0]["port"] == PORTS[svc]
    pdb = one(objects, "PodDisruptionBudget", svc)
    assert pdb["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": svc}
    assert pdb["spec"]["maxUnavailable"] == 1


@pytest.mark.parametrize("svc", SERVICES)
def test_memory_from_the_bench_with_headroom(svc: str) -> None:
    (container,) = pod_spec(one(render("production"), "Deployment", svc))["containers"]
    peak = PEAK_RSS_MB[svc] * 2**20
    requests, limits = container["resources"]["requests"], container["resources"]["limits"]
    assert _bytes(requests["memory"]) >= peak, "the scheduler must reserve the measured peak"
    assert _bytes(limits["memory"]) >= 1.3 * peak, "too little headroom over the measured peak"
    assert _bytes(limits["memory"]) <= 3 * peak, "limit far above anything measured"
    assert limits["cpu"] == "1"


@pytest.mark.parametrize("svc", SERVICES)
def test_service_gets_every_setting_compose_gives_it(svc: str) -> None:
    compose_env = compose_services()[svc]["environment"]
    (container,) = pod_spec(one(render("production"), "Deployment", svc))["containers"]
    env = env_of(container)
    missing = {key for key in compose_env if key not in env and key != "PULSE_HOST"}
    assert not missing, f"{svc} lacks compose's {sorted(missing)}"
    assert env["PULSE_HOST"]["value"] == "0.0.0.0"  # noqa: S104 - inside the pod
    assert env["PULSE_ENV"]["value"] == "production"
    amqp = env[f"PULSE_{svc.upper()}_AMQP_URL"]["value"]
    assert amqp == f"amqp://pulse_{svc}:$(PULSE_{svc.upper()}_AMQP_PASSWORD)@pulse-rabbitmq:5672/"
    # The $(VAR) it expands must be defined before it (Kubernetes expands in order).
    names = list(env)
    assert names.index(f"PULSE_{svc.upper()}_AMQP_PASSWORD") < names.index(
        f"PULSE_{svc.upper()}_AMQP_URL"
    )
    assert env["PULSE_DATABASE_URL"]["value"] == "postgresql://pulse-db-rw:5432/pulse"
    # Each service sees only its own Secret (and the shared service token).
    secrets = {name for name, _, _ in _secret_refs(container)}
    assert secrets == {"pulse-common", f"pulse-{svc}"}
    # Tracing is one optional ConfigMap key away, and off without it (docs/operations.md).
    tracing = env["OTEL_EXPORTER_OTLP_ENDPOINT"]["valueFrom"]["configMapKeyRef"]
    assert tracing["name"].startswith("pulse-config")  # kustomize adds the content hash
    assert (tracing["key"], tracing["optional"]) == ("OTEL_EXPORTER_OTLP_ENDPOINT", True)


def _secret_refs(obj: Manifest) -> list[tuple[str, str, bool]]:
    """(secret, key, optional) of every secretKeyRef anywhere in `obj`."""
    found: list[tuple[str, str, bool]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("secretKeyRef")
            if isinstance(ref, dict):
                found.append((ref["name"], ref["key"], bool(ref.get("optional"))))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(obj)
    return found


def test_dev_overlay_provides_every_secret_the_manifests_read() -> None:
    objects = render("dev")
    generated = {name: set(s.get("data", {})) for name, s in of_kind(objects, "Secret").items()}
    available = {**generated, **OPERATOR_SECRETS}
    refs = [ref for obj in objects for ref in _secret_refs(obj)]
    assert refs
    for secret, key, optional in refs:
        if optional:
            continue
        assert key in available.get(secret, set()), f"nothing provides {secret}.{key}"
    for name in ("pulse-rabbitmq-default-user", "pulse-db-backup"):
        assert name not in generated


def test_production_overlay_commits_no_secret() -> None:
    assert not of_kind(render("production"), "Secret")
    cluster = one(render("production"), "Cluster", "pulse-db")
    backup = cluster["spec"]["backup"]["barmanObjectStore"]["s3Credentials"]
    assert backup["accessKeyId"]["name"] == "pulse-db-backup"


def test_migration_job_runs_each_service_own_migrate_in_order() -> None:
    job = one(render("production"), "Job", "pulse-migrate")
    steps = containers(job)
    assert [c["name"] for c in steps] == [
        "gateway",
        "ingest",
        "aggregator",
        "alerter",
        "reporter",
        "share",
    ]
    deployments = of_kind(render("production"), "Deployment")
    for container in steps:
        svc = container["name"]
        assert container["command"] == [f"pulse-{svc}"]
        assert container["args"] == ["migrate"]
        (served,) = pod_spec(deployments[svc])["containers"]
        assert container["image"] == served["image"], "migrate with the image being rolled out"
        env = env_of(container)
        admin = env["PULSE_DATABASE_URL"]["value"]
        assert admin == "postgresql://postgres:$(PGSUPERUSER_PASSWORD)@pulse-db-rw:5432/pulse"
        assert env["PGSUPERUSER_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == (
            "pulse-db-superuser"
        )
        assert f"PULSE_{svc.upper()}_DATABASE_PASSWORD" in env
    assert "PULSE_JWT_KEYS" in env_of(steps[0]), "the gateway's settings refuse to load without"
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["metadata"]["labels"]["app.kubernetes.io/component"] == "migrate"
    # Nobody else holds the superuser password.
    for name, deployment in deployments.items():
        assert "pulse-db-superuser" not in str(deployment), name


def test_ingress_publishes_only_the_public_routes() -> None:
    ingress = one(render("production"), "Ingress", "pulse")
    routes = {
        (rule["host"], path["path"]): path["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert set(routes.values()) == {"gateway", "ingest", "share"}
    assert [p for (_, p), svc in routes.items() if svc == "ingest"] == ["/api/ingest"]
    assert sorted(p for (_, p), svc in routes.items() if svc == "share") == ["/api/share", "/share"]
    assert [p for (_, p), svc in routes.items() if svc == "gateway"] == ["/"]
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-buffering"] == "off", "SSE"


# ------------------------------------------------------------------------------------------------
# data services
# ------------------------------------------------------------------------------------------------


def test_postgres_is_a_replicated_cloudnativepg_cluster_with_backups() -> None:
    objects = render("production")
    cluster = one(objects, "Cluster", "pulse-db")
    assert cluster["spec"]["instances"] == 3
    assert cluster["spec"]["bootstrap"]["initdb"]["database"] == "pulse"
    assert cluster["spec"]["enableSuperuserAccess"] is True, "the migration Job needs it"
    store = cluster["spec"]["backup"]["barmanObjectStore"]
    assert store["destinationPath"].startswith("s3://")
    assert cluster["spec"]["backup"]["retentionPolicy"]
    (scheduled,) = of_kind(objects, "ScheduledBackup").values()
    assert scheduled["spec"]["cluster"]["name"] == "pulse-db"
    assert scheduled["spec"]["method"] == "barmanObjectStore"


def test_rabbitmq_has_three_nodes_and_imports_definitions_like_compose() -> None:
    objects = render("production")
    rabbit = one(objects, "RabbitmqCluster", "pulse-rabbitmq")
    assert rabbit["spec"]["replicas"] == 3
    assert rabbit["spec"]["image"] == compose_services()["rabbitmq"]["image"].replace("-alpine", "")
    config = rabbit["spec"]["rabbitmq"]["additionalConfig"]
    definitions_path = re.search(r"^load_definitions = (\S+)$", config, re.MULTILINE)
    assert definitions_path is not None

    template = rabbit["spec"]["override"]["statefulSet"]["spec"]["template"]["spec"]
    (init,) = template["initContainers"]
    env = {e["name"]: e for e in init["env"]}
    # The script is compose's, byte for byte, and every password it asks for is provided.
    script = (K8S / "base" / "rabbitmq" / "render-definitions.py").read_text()
    compose_script = compose_services()["rabbitmq-init"]["command"][2].replace("$$", "$")
    assert script == compose_script, "copy compose's rabbitmq-init script again"
    asked = set(re.findall(r'password\("([A-Z0-9_]+)"', script))
    asked |= {f"PULSE_{svc.upper()}_AMQP_PASSWORD" for svc in SERVICES}
    assert asked <= set(env), sorted(asked - set(env))
    assert env["RABBITMQ_ADMIN_USER"]["valueFrom"]["secretKeyRef"]["name"] == (
        "pulse-rabbitmq-default-user"
    )
    # What it writes is what the broker loads, from the volumes that carry it.
    volumes = {v["name"]: v for v in template["volumes"]}
    mounts = {m["name"]: m["mountPath"] for m in init["volumeMounts"]}
    (broker,) = template["containers"]
    broker_mounts = {m["name"]: m["mountPath"] for m in broker["volumeMounts"]}
    out = env["PULSE_DEFINITIONS_OUT"]["value"]
    shared = next(name for name, path in mounts.items() if out.startswith(path + "/"))
    assert "emptyDir" in volumes[shared]
    assert definitions_path.group(1) == broker_mounts[shared] + out.removeprefix(mounts[shared])
    configmaps = of_kind(objects, "ConfigMap")
    topology = volumes["pulse-topology"]["configMap"]["name"]
    assert topology in configmaps, "the hashed ConfigMap name must be rewritten in the override"
    generated = (ROOT / "deploy" / "rabbitmq" / "definitions.json").read_text()
    assert configmaps[topology]["data"]["definitions.json"] == generated, "run `make schemas`"
    assert init["command"][1] in {
        f"{mounts['pulse-definitions-script']}/{key}"
        for key in configmaps[volumes["pulse-definitions-script"]["configMap"]["name"]]["data"]
    }


# ------------------------------------------------------------------------------------------------
# autoscaling
# ------------------------------------------------------------------------------------------------


def test_one_autoscaler_per_deployment() -> None:
    objects = render("production")
    scaled = {
        o["spec"]["scaleTargetRef"]["name"] for o in of_kind(objects, "ScaledObject").values()
    }
    hpas = {
        o["spec"]["scaleTargetRef"]["name"]
        for o in of_kind(objects, "HorizontalPodAutoscaler").values()
    }
    assert scaled == {"ingest", "aggregator", "alerter", "share", "reporter"}
    assert hpas == {"gateway"}
    assert not scaled & hpas, "KEDA owns an HPA of its own: two would fight over replicas"


def test_keda_scales_on_the_queues_each_service_consumes() -> None:
    from pulse_runtime.topology import QUEUES

    objects = render("production")
    expected = {
        "ingest": {"ingest.items", "ingest.fetch.high", "ingest.fetch.low"},
        "aggregator": {"aggregator.posts"},
        "alerter": {"alerter.kpi", "alerter.posts"},
        "share": {"share.kpi"},
        "reporter": {"reporter.jobs"},
    }
    for name, scaled in of_kind(objects, "ScaledObject").items():
        triggers = scaled["spec"]["triggers"]
        queues = {t["metadata"]["queueName"] for t in triggers if t["type"] == "rabbitmq"}
        assert queues == expected[name]
        assert queues <= set(QUEUES), "a trigger on a queue the topology does not declare"
        for trigger in triggers:
            if trigger["type"] == "rabbitmq":
                assert trigger["metadata"]["mode"] == "QueueLength"
                auth = trigger["authenticationRef"]["name"]
                assert auth in of_kind(objects, "TriggerAuthentication")
        assert scaled["spec"]["minReplicaCount"] >= 2, "one replica is no availability"
        assert scaled["spec"]["maxReplicaCount"] > scaled["spec"]["minReplicaCount"]
    share = one(objects, "ScaledObject", "share")
    assert any(t["type"] == "cpu" for t in share["spec"]["triggers"]), "share scales on CPU too"
    gateway = one(objects, "HorizontalPodAutoscaler", "gateway")
    (metric,) = gateway["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert gateway["spec"]["minReplicas"] >= 2


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_keda_reaches_rabbitmq_of_its_own_namespace(overlay: str) -> None:
    """KEDA's operator runs in its own namespace: a short Service name would not resolve."""
    objects = render(overlay)
    namespace = one(objects, "RabbitmqCluster", "pulse-rabbitmq")["metadata"]["namespace"]
    hosts = {
        t["metadata"]["host"]
        for scaled in of_kind(objects, "ScaledObject").values()
        for t in scaled["spec"]["triggers"]
        if t["type"] == "rabbitmq"
    }
    assert hosts == {f"http://pulse-rabbitmq.{namespace}.svc:15672"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_first_deployment_steps_bring_what_the_data_services_and_migrations_read(
    overlay: str,
) -> None:
    """docs/operations.md applies `component in (secrets,database,broker)` first, then the
    migration Job: whatever those read must be in that first selection (or made outside it:
    by an operator, or by hand in production)."""
    objects = render(overlay)
    first = {
        (o["kind"], o["metadata"]["name"])
        for o in objects
        if o["metadata"].get("labels", {}).get("app.kubernetes.io/component")
        in {"secrets", "database", "broker"}
    }
    assert ("RabbitmqCluster", "pulse-rabbitmq") in first
    assert ("Cluster", "pulse-db") in first
    for kind, name in (("RabbitmqCluster", "pulse-rabbitmq"), ("Job", "pulse-migrate")):
        obj = one(objects, kind, name)
        for secret, _, _ in _secret_refs(obj):
            if secret in OPERATOR_SECRETS or overlay == "production":
                continue
            assert ("Secret", secret) in first, f"{kind} {name} reads {secret}"
    rabbit = one(objects, "RabbitmqCluster", "pulse-rabbitmq")
    volumes = rabbit["spec"]["override"]["statefulSet"]["spec"]["template"]["spec"]["volumes"]
    for volume in volumes:
        if "configMap" in volume:
            assert ("ConfigMap", volume["configMap"]["name"]) in first
