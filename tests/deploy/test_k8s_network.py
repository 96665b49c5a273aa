"""Each NetworkPolicy allows exactly the flows of design/README.md and api.md, no more.

The expected flows are derived from the places that define them: the peers the gateway calls
(its PULSE_GATEWAY_*_URL settings in compose.yaml), the ports compose publishes (the public
routes), PostgreSQL and RabbitMQ for every service, and the internet for the services that call
out (security.md: provider, webhooks, mail, media proxy)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.deploy.manifests import (
    OVERLAYS,
    PORTS,
    SERVICES,
    Manifest,
    compose_services,
    of_kind,
    render,
)

# Who a peer selector stands for. Anything else in a policy fails the test.
INGRESS_CONTROLLER = "ingress-controller"
PROMETHEUS = "prometheus"
DNS = "dns"
POSTGRES = "postgres"
RABBITMQ = "rabbitmq"
# Not a flow of design/README.md: the API rate limits' Redis (issue 15), reached by the two
# services whose HTTP routes are limited.
REDIS = "redis"
REDIS_CLIENTS = {"gateway", "ingest"}
INTERNET = "internet"
# security.md: ScrapeCreators (ingest), webhooks and mail (alerter), media proxy (gateway and
# share), sign-in mail (gateway). HTTPS, and SMTP submission (465 implicit TLS, 587 STARTTLS).
INTERNET_PORTS = {
    "gateway": {443, 465, 587},
    "ingest": {443},
    "share": {443},
    "alerter": {443, 465, 587},
    "aggregator": set(),
    "reporter": set(),  # renders from what the job carries; fetches nothing
}
PRIVATE_RANGES = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"}

Flow = tuple[str, int]


def _peer(peer: Manifest) -> str:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        assert block["cidr"] == "0.0.0.0/0"
        assert set(block.get("except", [])) >= PRIVATE_RANGES, "internet rule reaches the cluster"
        return INTERNET
    pods = peer.get("podSelector", {}).get("matchLabels", {})
    namespace = peer.get("namespaceSelector", {}).get("matchLabels", {})
    ns = namespace.get("kubernetes.io/metadata.name")
    if ns == "ingress-nginx" and pods == {"app.kubernetes.io/name": "ingress-nginx"}:
        return INGRESS_CONTROLLER
    if ns == "monitoring" and pods == {"app.kubernetes.io/name": "prometheus"}:
        return PROMETHEUS
    if ns == "kube-system" and pods == {"k8s-app": "kube-dns"}:
        return DNS
    assert "namespaceSelector" not in peer, f"unexpected namespace peer {peer}"
    if pods == {"cnpg.io/cluster": "pulse-db"}:
        return POSTGRES
    if pods == {"app.kubernetes.io/name": "pulse-rabbitmq"}:
        return RABBITMQ
    if pods == {"app.kubernetes.io/name": "pulse-redis"}:
        return REDIS
    (name,) = pods.values()
    assert pods == {"app.kubernetes.io/name": name}, f"unknown peer {peer}"
    assert name in PORTS, f"unknown peer {peer}"
    return str(name)


def _flows(rules: list[Manifest], direction: str) -> set[Flow]:
    flows: set[Flow] = set()
    for rule in rules:
        peers = rule.get(direction)
        ports = rule.get("ports")
        assert peers, f"a rule without `{direction}` allows every peer: {rule}"
        assert ports, f"a rule without `ports` allows every port: {rule}"
        for peer in peers:
            for port in ports:
                flows.add((_peer(peer), int(port["port"])))
    return flows


def _expected_ingress(svc: str) -> set[Flow]:
    public = {int(p.split(":")[-1]) for p in compose_services()[svc].get("ports", [])}
    flows = {(PROMETHEUS, PORTS[svc])}
    if PORTS[svc] in public:
        flows.add((INGRESS_CONTROLLER, PORTS[svc]))
    for caller in SERVICES:
        if svc in _peers(caller):
            flows.add((caller, PORTS[svc]))
    return flows


def _peers(caller: str) -> set[str]:
    """The services `caller` calls: its PULSE_<CALLER>_*_URL settings in compose.yaml."""
    env = compose_services()[caller].get("environment", {})
    prefix = f"PULSE_{caller.upper()}_"
    peers = set()
    for key, value in env.items():
        url = urlsplit(str(value))
        if key.startswith(prefix) and url.scheme == "http" and "PUBLIC" not in key:
            host = url.hostname
            assert host in PORTS, f"{key} points at {value}"
            assert url.port == PORTS[host]
            peers.add(host)
    return peers


def _gateway_peers() -> set[str]:
    peers = _peers("gateway")
    assert peers == {"aggregator", "alerter", "ingest", "share", "reporter"}
    # Share fetches the client PDF's file from the reporter; nobody else calls a peer.
    assert _peers("share") == {"reporter"}
    return peers


def _expected_egress(svc: str) -> set[Flow]:
    flows = {(DNS, 53), (POSTGRES, 5432), (RABBITMQ, 5672)}
    flows |= {(INTERNET, port) for port in INTERNET_PORTS[svc]}
    if svc in REDIS_CLIENTS:
        flows.add((REDIS, 6379))
    if svc == "gateway":
        flows |= {(peer, PORTS[peer]) for peer in _gateway_peers()}
    flows |= {(peer, PORTS[peer]) for peer in _peers(svc)}
    return flows


def _policy(overlay: str, svc: str) -> dict[str, Any]:
    policies = of_kind(render(overlay), "NetworkPolicy")
    assert svc in policies, f"{svc} has no NetworkPolicy"
    policy: dict[str, Any] = policies[svc]["spec"]
    assert policy["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": svc}}
    assert sorted(policy["policyTypes"]) == ["Egress", "Ingress"], "both directions, or any"
    return policy


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("svc", SERVICES)
def test_network_policy_allows_exactly_the_designed_flows(overlay: str, svc: str) -> None:
    policy = _policy(overlay, svc)
    assert _flows(policy["ingress"], "from") == _expected_ingress(svc)
    assert _flows(policy["egress"], "to") == _expected_egress(svc)


def test_every_internal_call_is_allowed_at_both_ends() -> None:
    for caller in SERVICES:
        for peer, port in _flows(_policy("production", caller)["egress"], "to"):
            if peer in PORTS:
                callee = _flows(_policy("production", peer)["ingress"], "from")
                assert (caller, port) in callee, f"{caller} → {peer}:{port} blocked at {peer}"


def test_dns_egress_covers_udp_and_tcp() -> None:
    for svc in SERVICES:
        for rule in _policy("production", svc)["egress"]:
            if any(_peer(p) == DNS for p in rule["to"]):
                assert {p["protocol"] for p in rule["ports"]} == {"UDP", "TCP"}


def test_migration_job_reaches_only_postgres() -> None:
    policies = of_kind(render("production"), "NetworkPolicy")
    spec = policies["pulse-migrate"]["spec"]
    assert spec["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "pulse-migrate"}}
    assert spec["ingress"] == []
    assert _flows(spec["egress"], "to") == {(DNS, 53), (POSTGRES, 5432)}


def test_flow_check_rejects_an_extra_flow() -> None:
    policy = _policy("production", "aggregator")
    share = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "share"}}}
    extra = [*policy["egress"], {"to": [share], "ports": [{"port": 8002}]}]
    assert _flows(extra, "to") != _expected_egress("aggregator")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_gateway_and_ingest_reach_redis(overlay: str) -> None:
    spec = of_kind(render(overlay), "NetworkPolicy")["pulse-redis"]["spec"]
    assert spec["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "pulse-redis"}}
    assert sorted(spec["policyTypes"]) == ["Egress", "Ingress"]
    assert _flows(spec["ingress"], "from") == {(svc, 6379) for svc in REDIS_CLIENTS}
    assert spec["egress"] == []
