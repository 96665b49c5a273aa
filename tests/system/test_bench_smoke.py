"""`make bench-smoke` in CI: the benchmark's whole code path at tiny sizes, against this test
run's database and vhost. It asserts that every scenario completed and that no sample went
missing on the way — never a timing: figures belong in the bench, not in tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.servers import Servers
from tests.support.services import run_harness

pytestmark = pytest.mark.system

EXPECTED = {
    *("P1", "P2-bus", "P2-sse", "P2-page", "P3", "P3-2r", "P4", "P5", "P5-2r", "P6", "P7"),
    "P8",
    *("P9-api", "P9-csv"),
}


def test_every_bench_scenario_completes_without_missing_samples(
    servers: Servers, tmp_path: Path
) -> None:
    report = tmp_path / "smoke.json"
    done = run_harness("bench", ["--smoke"], servers, report, timeout=300)
    assert report.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    document = json.loads(report.read_text())
    results = {r["id"]: r for r in document["results"]}
    assert set(results) == EXPECTED
    for scenario_id, result in results.items():
        assert result["status"] == "ok", f"{scenario_id}: {result['error']}"
        assert result["missing"] == 0, f"{scenario_id} missing: {result['counts']}"
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # P2's latencies are read against who used the cores while its probes ran, and the
    # machine record says whether PostgreSQL vacuums on its own (off on the CI machines).
    freshness = results["P2-bus"]["details"]
    services = {"ingest", "aggregator", "alerter", "share", "gateway", "postgres", "rabbitmq"}
    assert services | {"machine"} <= set(freshness["cpu_cores"])
    assert freshness["cpu_cores"]["machine"] > 0
    assert services | {"total"} <= set(freshness["cpu_ms_per_kpi_updated"])
    assert freshness["cpu_ms_per_kpi_updated"]["aggregator"] > 0
    assert document["machine"]["postgresql_autovacuum"] in {"on", "off"}
