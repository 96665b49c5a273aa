"""The alerter's CPU per kpi.updated with its held documents and without them, alternating.

    python -m bench.held_cost [--pg-url postgresql://postgres@127.0.0.1/postgres] [--rounds 20]

The 200-post campaign's documents of bench.consumer_cost go through the alerter's subscriber
and evaluation pass (note, then evaluate), in rounds of 10 documents that alternate between a
`repository.HeldNumbers` (the evaluation reads the document the subscriber decoded) and none
(it loads and decodes the stored one), so a machine whose speed drifts moves both alike. Per
document: the Python CPU of the process and of its PostgreSQL backend (a pool of one).
"""

from __future__ import annotations

import asyncio
import time

from pulse_alerter import evaluation, handlers
from pulse_alerter.messages import NARROW
from pulse_alerter.repository import HeldNumbers
from pulse_contracts import utcnow
from pulse_runtime.db import create_pool
from pulse_runtime.messaging import parse_envelope
from pulse_runtime.settings import with_user

from .api import cost_script_parser, scratch_database
from .consumer_cost import KIND, backend_pid, bodies_of
from .system import pid_cpu_seconds

DATABASE = "pulse_bench_held_cost"
ROUND = 10


async def measure(pg_url: str, rounds: int) -> dict[str, tuple[float, float]]:
    """Per way ("held", "loaded"): Python and PostgreSQL CPU ms per document."""
    bodies = iter(bodies_of(2 * rounds * ROUND))
    spent = {way: [0.0, 0.0] for way in ("held", "loaded")}
    async with scratch_database(pg_url, DATABASE) as url:
        pool = await create_pool(with_user(url, "pulse_alerter"), max_size=1)
        try:
            pid = await backend_pid(pool)

            async def deliver(body: bytes, held: HeldNumbers | None) -> None:
                envelope = parse_envelope(body, KIND, NARROW)
                await handlers.note_kpi_updated(pool, envelope, held)
                await evaluation.evaluate_marked(pool, now=utcnow, held=held)

            await deliver(next(bodies), None)  # warms the code and the connection up
            for r in range(rounds):
                for way in ("held", "loaded") if r % 2 else ("loaded", "held"):
                    held = HeldNumbers() if way == "held" else None
                    for _ in range(ROUND):
                        body = next(bodies)
                        python, postgres = time.process_time(), pid_cpu_seconds(pid) or 0.0
                        await deliver(body, held)
                        spent[way][0] += time.process_time() - python
                        spent[way][1] += (pid_cpu_seconds(pid) or 0.0) - postgres
        finally:
            await pool.close()
    n = rounds * ROUND  # documents each way
    return {way: (1000 * py / n, 1000 * pg / n) for way, (py, pg) in spent.items()}


def main() -> None:
    parser = cost_script_parser(__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    for way, (python, postgres) in asyncio.run(measure(args.pg_url, args.rounds)).items():
        print(f"alerter, {way:6}  python {python:6.2f} ms, postgres {postgres:5.2f} ms a document")


if __name__ == "__main__":
    main()
