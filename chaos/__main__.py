"""`python -m chaos [--short]`: load Pulse over HTTP and AMQP while killing every service with
kill -9 and faulting RabbitMQ and PostgreSQL; print and write the accounting (sent,
acknowledged, stored, lost, doubled, time back to fresh numbers); exit 1 unless nothing was
lost or doubled, every number equals the oracle's, no alert was raised twice and no message
was dead-lettered.

The full plan restarts the RabbitMQ and PostgreSQL servers themselves (every user of them
notices); `--server-scope connections` faults only the run's own vhost and database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.infra import ROOT

from .plan import FULL, SHORT
from .run import run

DEFAULT_CLUSTER = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/"
RESULTS = ROOT / "chaos" / "results"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument("--short", action="store_true", help="the CI version: a few faults")
    parser.add_argument("--kills", type=int, help="kill -9 per service (full: 20)")
    parser.add_argument("--broker-faults", type=int, help="RabbitMQ faults (full: 2)")
    parser.add_argument("--database-faults", type=int, help="PostgreSQL faults (full: 2)")
    parser.add_argument("--server-scope", choices=["restart", "connections"])
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--pg-url", default=DEFAULT_CLUSTER, help="cluster administrator URL")
    parser.add_argument("--amqp-url", default=DEFAULT_AMQP, help="broker URL (vhost /)")
    parser.add_argument("--use-database", help="an existing database to run in (not dropped)")
    parser.add_argument("--use-amqp", help="an existing vhost URL to run in (not deleted)")
    parser.add_argument("--json", type=Path, help="report path (default chaos/results/…)")
    return parser


def summary(report: dict[str, Any]) -> str:
    s, f = report["samples"], report["faults"]
    lines = [
        f"samples sent {s['samples_sent']:,} ({s['distinct_samples_sent']:,} distinct), "
        f"acknowledged {s['acknowledged']:,}, stored {s['stored']:,}, "
        f"lost {s['lost']}, doubled {s['doubled']}",
        f"faults {f['count']}: time back to fresh numbers p50 {f['fresh_s']['p50']} s, "
        f"max {f['fresh_s']['max']} s",
    ]
    for kind, spread in f["by_kind"].items():
        back, fresh = spread["back_s"], spread["fresh_s"]
        lines.append(
            f"  {kind:24} ×{back['n']:3}  back p50 {back['p50']} / max {back['max']} s"
            f"  fresh p50 {fresh['p50']} / max {fresh['max']} s"
        )
    n, alerts = report["numbers"], report["alerts"]
    lines.append(
        f"numbers: {n['campaigns']} campaigns against the oracle, mismatched "
        f"{len(n['mismatched'])}; alerts raised {alerts['raised']}, twice "
        f"{len(alerts['raised_twice'])}; dead letters {report['dead_letters']['dead_letters']}"
    )
    lines.append("OK" if report["ok"] else "FAILED: " + "; ".join(report["problems"]))
    return "\n".join(lines)


async def _main(args: argparse.Namespace) -> int:
    plan = SHORT if args.short else FULL
    changes: dict[str, Any] = {
        "kills_per_service": args.kills,
        "broker_faults": args.broker_faults,
        "database_faults": args.database_faults,
        "server_scope": args.server_scope,
    }
    plan = replace(plan, **{k: v for k, v in changes.items() if v is not None})
    started = datetime.now(UTC)
    log_dir = RESULTS / "logs" / started.strftime("%Y%m%dT%H%M%S")
    report = await run(
        plan,
        cluster_url=args.pg_url,
        amqp_url=args.amqp_url,
        log_dir=log_dir,
        seed=args.seed,
        use_database=args.use_database,
        use_amqp=args.use_amqp,
    )
    report = {"started_at": started.isoformat(), "logs": str(log_dir), **report}
    path = args.json or RESULTS / f"{plan.name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str))
    print(summary(report))
    print(f"chaos: report in {path}")
    return 0 if report["ok"] else 1


def main() -> None:
    sys.exit(asyncio.run(_main(_parser().parse_args())))


if __name__ == "__main__":
    main()
