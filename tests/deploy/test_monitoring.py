"""Monitoring: the alert rules pass `promtool` (syntax, and unit tests that make each alert fire
on the series it watches), every series the rules and the Grafana dashboard query is exported by
a Pulse service or by RabbitMQ's Prometheus plugin, and every alert has its runbook."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric

from pulse_ingest.metrics import IngestMetrics
from pulse_runtime.http import Metrics
from tests.deploy.manifests import ROOT, of_kind, one, render

DASHBOARD = ROOT / "deploy" / "grafana" / "pulse.json"
OPERATIONS = ROOT / "docs" / "operations.md"
RULE_TESTS = Path(__file__).resolve().parent / "alert_tests.yaml"

# RabbitMQ's rabbitmq_prometheus plugin, /metrics/detailed with the families the ServiceMonitor
# asks for (rabbitmq/rabbitmq-server, deps/rabbitmq_prometheus/src/collectors/
# prometheus_rabbitmq_core_metrics_collector.erl at 5b09e556: queue_coarse_metrics and
# queue_consumer_count, prefix rabbitmq_detailed_).
RABBITMQ_FAMILIES = {
    "queue_coarse_metrics": {
        "rabbitmq_detailed_queue_messages_ready",
        "rabbitmq_detailed_queue_messages_unacked",
        "rabbitmq_detailed_queue_messages",
        "rabbitmq_detailed_queue_process_reductions_total",
    },
    "queue_consumer_count": {"rabbitmq_detailed_queue_consumers"},
}
# Made by Prometheus itself for every target.
PROMETHEUS_SERIES = {"up"}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and",
                "or", "unless", "offset", "inf", "nan"}  # fmt: skip


def _exposed(metric: Metric) -> set[str]:
    """The series names a family shows on /metrics (prometheus_client's naming)."""
    suffixes = {
        "counter": ["_total", "_created"],
        "histogram": ["_bucket", "_sum", "_count", "_created"],
        "summary": ["_sum", "_count", "_created"],
    }.get(metric.type, [""])
    return {metric.name + suffix for suffix in suffixes} | {s.name for s in metric.samples}


def _pulse_series() -> set[str]:
    registry = Metrics("any").registry
    IngestMetrics(registry)
    return _series_of(registry)


def _series_of(registry: CollectorRegistry) -> set[str]:
    return {name for metric in registry.collect() for name in _exposed(metric)}


def _series_in(expr: str) -> set[str]:
    """Metric names in a PromQL expression: what is left once label matchers, strings, ranges,
    grouping clauses, function calls, numbers and keywords are taken out."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\b[a-zA-Z_][a-zA-Z0-9_]*\s*\(", "(", text)
    names = set(re.findall(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b", text))
    return {n for n in names if n.lower() not in PROMQL_WORDS}


def _rule_groups() -> list[dict[str, Any]]:
    rule = one(render("production"), "PrometheusRule", "pulse")
    groups: list[dict[str, Any]] = rule["spec"]["groups"]
    return groups


def _alerts() -> Iterator[dict[str, Any]]:
    for group in _rule_groups():
        yield from group["rules"]


def _dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool missing: `make deploy-tools` installs Debian's prometheus package")
    return found


def _write_rules(directory: Path) -> Path:
    path = directory / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": _rule_groups()}, sort_keys=False))
    return path


def test_promtool_checks_the_rules(promtool: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [promtool, "check", "rules", str(_write_rules(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(list(_alerts()))} rules found" in result.stdout


def test_each_alert_fires_on_the_series_it_watches(promtool: str, tmp_path: Path) -> None:
    _write_rules(tmp_path)
    tests = yaml.safe_load(RULE_TESTS.read_text())
    assert tests["rule_files"] == ["rules.yaml"]
    fired = {
        case["alertname"]
        for test in tests["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert fired == {alert["alert"] for alert in _alerts()}, "every alert needs a firing test"
    (tmp_path / "tests.yaml").write_text(RULE_TESTS.read_text())
    result = subprocess.run(
        [promtool, "test", "rules", str(tmp_path / "tests.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_series_the_rules_and_dashboard_read_is_exported() -> None:
    exported = _pulse_series() | PROMETHEUS_SERIES
    exported |= {name for names in RABBITMQ_FAMILIES.values() for name in names}
    exprs = [alert["expr"] for alert in _alerts()] + _dashboard_exprs()
    assert len(exprs) > 20
    read = set().union(*(_series_in(expr) for expr in exprs))
    assert "pulse_freshness_seconds_bucket" in read
    missing = read - exported
    assert not missing, f"queried but exported by nothing: {sorted(missing)}"


def test_series_parser_finds_names_without_selectors() -> None:
    expr = 'max by (service) (pulse_outbox_oldest_seconds) > 60 or vector(0) and up{a="b(c)"}'
    assert _series_in(expr) == {"pulse_outbox_oldest_seconds", "up"}


def test_rabbitmq_scrape_asks_for_the_families_the_queries_need() -> None:
    monitor = one(render("production"), "ServiceMonitor", "pulse-rabbitmq")
    detailed = [e for e in monitor["spec"]["endpoints"] if e["path"] == "/metrics/detailed"]
    (endpoint,) = detailed
    assert set(endpoint["params"]["family"]) == set(RABBITMQ_FAMILIES)


def test_every_pulse_pod_is_scraped() -> None:
    objects = render("production")
    monitor = one(objects, "PodMonitor", "pulse-services")
    selector = monitor["spec"]["selector"]["matchLabels"]
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["path"] == "/metrics"
    scraped = set()
    for name, deployment in of_kind(objects, "Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        if selector.items() <= labels.items():
            (container,) = deployment["spec"]["template"]["spec"]["containers"]
            assert endpoint["port"] in {p["name"] for p in container["ports"]}
            scraped.add(name)
    assert scraped == {"gateway", "ingest", "share", "aggregator", "alerter", "reporter"}


def test_each_alert_has_a_runbook_section() -> None:
    text = OPERATIONS.read_text()
    headings = {
        re.sub(r"[^a-z0-9 -]", "", h.strip().lower()).replace(" ", "-")
        for h in re.findall(r"^#+ (.+)$", text, re.MULTILINE)
    }
    for alert in _alerts():
        runbook = alert["annotations"]["runbook"]
        path, _, anchor = runbook.partition("#")
        assert path == "docs/operations.md"
        assert anchor == alert["alert"].lower()
        assert anchor in headings, f"docs/operations.md has no section `{alert['alert']}`"
        assert alert["labels"]["severity"] in {"warning", "critical"}
