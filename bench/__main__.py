"""`python -m bench [--smoke] [--only P1,P3] [--keep]`: run the benchmark, print the table,
write the JSON report; exit 1 when a scenario failed or reported missing samples.

Targets decide nothing here: an unmet target is a figure to read, not a failure. What fails the
run is a scenario that could not complete, or one that lost samples on the way.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import traceback
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import report
from .config import FULL, SMOKE
from .infra import DEFAULT_CLUSTER, ROOT, TEMPLATE, drop_database
from .scenarios import NEEDS, Context, registry
from .stats import Result
from .world import close_world, open_world

DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/"
RESULTS = ROOT / "bench" / "results"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, under a minute")
    parser.add_argument("--only", default="", help="comma-separated scenarios, e.g. P1,P3")
    parser.add_argument("--keep", action="store_true", help="keep the run's database and vhost")
    parser.add_argument("--reseed", action="store_true", help="seed the cached template again")
    parser.add_argument("--drop-template", action="store_true", help=f"drop {TEMPLATE}, exit")
    parser.add_argument("--p1-seconds", type=float, help="P1's sending time (full: 300)")
    parser.add_argument("--pg-url", default=DEFAULT_CLUSTER, help="cluster administrator URL")
    parser.add_argument("--amqp-url", default=DEFAULT_AMQP, help="broker URL (vhost /)")
    parser.add_argument(
        "--use-database", help="an existing, migrated database to run in (not dropped)"
    )
    parser.add_argument("--use-amqp", help="an existing vhost URL to run in (not deleted)")
    parser.add_argument("--json", type=Path, help="report path (default bench/results/…)")
    return parser


def _selected(only: str) -> list[str]:
    known = list(registry())
    if not only:
        return known
    wanted = {part.strip().upper() for part in only.split(",") if part.strip()}
    unknown = wanted - set(known)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}; known: {known}")
    wanted |= {NEEDS[w] for w in wanted if w in NEEDS}
    return [s for s in known if s in wanted]


async def _main(args: argparse.Namespace) -> int:
    if args.drop_template:
        await drop_database(args.pg_url, TEMPLATE)
        await drop_database(args.pg_url, f"{TEMPLATE}_building")
        print(f"bench: dropped {TEMPLATE} (and any half-built one)")
        return 0
    sizes = SMOKE if args.smoke else FULL
    if args.p1_seconds:
        sizes = replace(sizes, ingest_seconds=args.p1_seconds)
    selected = _selected(args.only)
    started_at = datetime.now(UTC)
    run_id = started_at.strftime("%Y%m%dT%H%M%S")
    log_dir = RESULTS / "logs" / run_id
    document: dict[str, Any] = {
        "mode": "smoke" if args.smoke else "full",
        "started_at": started_at.isoformat(),
        "commit": report.commit(),
        "machine": await report.machine(args.pg_url),
        "sizes": sizes.as_json(),
        "scenarios_selected": selected,
        "logs": str(log_dir.relative_to(ROOT)),
    }
    clock = time.monotonic()
    world = await open_world(
        cluster_url=args.pg_url,
        amqp_url=args.amqp_url,
        sizes=sizes,
        smoke=args.smoke,
        log_dir=log_dir,
        use_database=args.use_database,
        use_amqp=args.use_amqp,
        reseed=args.reseed,
    )
    document["seed"] = world.seed
    document["setup_seconds"] = round(time.monotonic() - clock, 1)
    ctx = Context(world=world, smoke=args.smoke)
    results: list[Result] = []
    scenarios = registry()
    try:
        for scenario_id in selected:
            print(f"bench: {scenario_id} …", flush=True)
            step = time.monotonic()
            try:
                found = await scenarios[scenario_id](ctx)
            except Exception as exc:
                found = [
                    Result(
                        id=scenario_id,
                        title="",
                        status="error",
                        error=f"{type(exc).__name__}: {exc}"[:2000],
                        details={"traceback": traceback.format_exc()[-4000:]},
                    )
                ]
            for result in found:
                result.seconds = round(time.monotonic() - step, 1)
            results.extend(found)
    finally:
        await close_world(world, keep=args.keep)
    _attach_p1_growth(results, ctx)
    document["duration_seconds"] = round(time.monotonic() - clock, 1)
    document["results"] = [r.as_json() for r in results]
    path = args.json or RESULTS / ("smoke.json" if args.smoke else "latest.json")
    report.write_json(path, document)
    # Every run's report stays beside its logs: a later partial run never hides a full one.
    report.write_json(log_dir / "report.json", document)
    print()
    print(report.table(results))
    print(f"\nbench: {document['duration_seconds']} s; report in {path}")
    failed = [r.id for r in results if r.status == "error" or r.missing]
    if failed:
        print(f"bench: FAILED (error or missing samples): {', '.join(failed)}")
        return 1
    return 0


def _attach_p1_growth(results: list[Result], ctx: Context) -> None:
    """P7's second view: what P1's rows cost, written by ingest in arrival order."""
    growth = ctx.shared.get("p1_growth")
    p7 = next((r for r in results if r.id == "P7"), None)
    if growth and p7 is not None and growth["samples"]:
        p7.details["p1_written_by_ingest_bytes_per_sample"] = round(
            growth["bytes"] / growth["samples"], 1
        )
        p7.details["p1_samples"] = growth["samples"]


def main() -> None:
    sys.exit(asyncio.run(_main(_parser().parse_args())))


if __name__ == "__main__":
    main()
