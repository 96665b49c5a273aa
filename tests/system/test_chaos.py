"""`make chaos-short` in CI: sustained ingest over HTTP and AMQP (duplicates, late samples,
out-of-order batches) while ingest, aggregator and alerter are each killed -9 and restarted,
and the run's RabbitMQ connections and PostgreSQL sessions are cut once each, in this test
run's own database and vhost. Every acknowledged sample must be stored exactly once, every
campaign's numbers must equal the oracle's, no alert may be raised twice, nothing may be
dead-lettered. Timings are figures for docs/reliability.md, never asserted here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.servers import Servers
from tests.support.services import run_harness

pytestmark = pytest.mark.system


def test_nothing_acknowledged_is_lost_or_doubled_under_kill_9_and_connection_faults(
    servers: Servers, tmp_path: Path
) -> None:
    report_path = tmp_path / "chaos.json"
    done = run_harness("chaos", ["--short"], servers, report_path, timeout=420)
    assert report_path.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(report_path.read_text())
    samples = report["samples"]
    assert samples["acknowledged"] > 1000, "the load must be real"
    assert samples["acknowledged_sends"] > samples["acknowledged"], "duplicates were sent"
    assert (samples["lost"], samples["doubled"]) == (0, 0), samples
    assert samples["stored_never_sent"] == 0
    assert report["numbers"]["mismatched"] == {}, report["numbers"]
    assert report["alerts"]["raised"] > 0, "the campaigns are due for under_kpi alerts"
    assert report["alerts"]["raised_twice"] == []
    assert report["dead_letters"]["dead_letters"] == 0, report["dead_letters"]
    kinds = [f["kind"] for f in report["faults"]["each"]]
    for fault in ("kill ingest", "kill aggregator", "kill alerter"):
        assert fault in kinds
    assert {"broker connections", "database connections"} <= set(kinds)
    assert report["faults"]["fresh_s"]["missing"] == 0, report["faults"]
    assert report["ok"], report["problems"]
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
