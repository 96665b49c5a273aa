"""The framework floor beside P3 and P5: FastAPI and uvicorn alone, run the way the services run
them, answering one route with a constant JSON body of the scenario's size. No auth, no
database, no middleware of ours: what no Pulse read can beat on this machine.

The same load generator drives it with the same clients and seconds, so its rate and p95 are a
same-run baseline. With N closed-loop clients, a p95 of T ms needs at least N / T requests a
second (Little's law): when the floor itself cannot reach that rate, the latency target is out
of reach for any service on this stack, and the ratio to the floor says how much of it a read
keeps.

`python -m bench.floor --port P --bytes B` serves it (the bench spawns it as a process);
`python -m bench.floor --compare --bytes B` loads it and a bare ASGI app in turn and prints what
FastAPI's dispatch costs a request here (pulse_runtime/direct_routes.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .loadgen import LoadSpec, run_load_process
from .stats import Latency
from .system import Process, clean_environ

PATH = "/floor"


@dataclass(frozen=True)
class Floor:
    req_per_s: float
    latency: Latency | None
    cpu_ms_per_request: float
    body_bytes: int

    def as_json(self) -> dict[str, object]:
        return {
            "req_per_s": round(self.req_per_s),
            "latency": self.latency.__dict__ if self.latency else None,
            "cpu_ms_per_request": round(self.cpu_ms_per_request, 3),
            "body_bytes": self.body_bytes,
        }


def _body(body_bytes: int) -> bytes:
    filler = max(0, body_bytes - len('{"items":""}'))
    return json.dumps({"items": "x" * filler}).encode()


def bare_app(body_bytes: int) -> ASGIApp:
    """The same answer from a bare ASGI app: uvicorn's own cost, without FastAPI's dispatch."""
    body = _body(body_bytes)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def floor_app(body_bytes: int) -> FastAPI:
    body = _body(body_bytes)
    app = FastAPI()

    @app.get(PATH)
    async def floor() -> Response:
        return Response(body, media_type="application/json")

    return app


async def measure_floor(
    log_dir: Path,
    *,
    clients: int,
    seconds: float,
    warmup_seconds: float,
    body_bytes: int,
    bare: bool = False,
) -> Floor:
    """Start the floor app, load it like the scenario loads its service, stop it."""
    proc = Process("floor", [], clean_environ(), log_dir)
    proc.argv = [sys.executable, "-m", "bench.floor", "--port", str(proc.port)]
    proc.argv += ["--bytes", str(body_bytes)] + (["--bare"] if bare else [])
    proc.spawn()
    try:
        await proc.wait_answering(PATH, timeout=30)
        before = proc.cpu_seconds() or 0.0
        load = await run_load_process(
            LoadSpec(
                port=proc.port,
                paths={"floor": [PATH]},
                clients=clients,
                seconds=seconds,
                warmup_seconds=warmup_seconds,
            )
        )
        spent = (proc.cpu_seconds() or 0.0) - before
    finally:
        proc.stop()
    good = load.statuses.get("floor", {}).get(200, 0)
    return Floor(
        req_per_s=good / load.measured_seconds,
        latency=Latency.of(load.latencies.get("floor", [])),
        cpu_ms_per_request=1000 * spent / max(1, load.completed),
        body_bytes=body_bytes,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int)
    parser.add_argument("--bytes", type=int, default=2000)
    parser.add_argument("--bare", action="store_true", help="a bare ASGI app, no FastAPI")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="load FastAPI's floor and the bare one in turn (32 clients, 15 s), print both",
    )
    args = parser.parse_args()
    if args.compare:
        asyncio.run(_compare(args.bytes))
        return
    if args.port is None:
        parser.error("--port is needed to serve")
    # As libs/runtime's service_main runs every service (uvloop and httptools when installed).
    uvicorn.run(
        bare_app(args.bytes) if args.bare else floor_app(args.bytes),
        host="127.0.0.1",
        port=args.port,
        log_config=None,
        access_log=False,
        lifespan="off",
    )


async def _compare(body_bytes: int) -> None:
    """What FastAPI's dispatch costs a request on this machine: its floor against a bare app."""
    with tempfile.TemporaryDirectory() as logs:
        for name, bare in (("fastapi + uvicorn", False), ("bare ASGI + uvicorn", True)):
            floor = await measure_floor(
                Path(logs),
                clients=32,
                seconds=15,
                warmup_seconds=2,
                body_bytes=body_bytes,
                bare=bare,
            )
            p95 = floor.latency.p95 if floor.latency else None
            print(
                f"{name}: {floor.req_per_s:,.0f} req/s, p95 {p95} ms,"
                f" {floor.cpu_ms_per_request:.3f} ms of CPU per request"
            )


if __name__ == "__main__":
    main()
