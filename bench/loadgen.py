"""A closed-loop HTTP/1.1 load generator that costs the machine as little as possible.

On two shared cores the client competes with the services it measures, so it runs in its own
process (its CPU time is reported beside the figures) and skips everything a general client
does: each of N connections is a keep-alive socket with a hand-written GET and httptools (the
parser uvicorn itself uses) reading the answer. That is a few microseconds a request, where an
httpx request costs about a millisecond of Python.

`run_load` is the process entry point: `LoadSpec` in, `LoadResult` out (both picklable).
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import time
from collections import defaultdict
from dataclasses import dataclass, field

import httptools


@dataclass(frozen=True)
class LoadSpec:
    port: int
    paths: dict[str, list[str]]  # endpoint name → request paths, drawn at random
    clients: int
    seconds: float
    warmup_seconds: float
    headers: dict[str, str] = field(default_factory=dict)
    seed: int = 1
    # Replicas of the same service: client i uses (port, *more_ports)[i % n], as a balancer
    # spreading keep-alive connections would.
    more_ports: tuple[int, ...] = ()


@dataclass
class LoadResult:
    latencies: dict[str, list[float]]  # endpoint → seconds, measured requests only
    statuses: dict[str, dict[int, int]]  # endpoint → status → count
    errors: list[str]  # the first 100
    error_count: int
    completed: int  # every answered request, warm-up included (what the CPU figures cover)
    measured_seconds: float
    cpu_seconds: float  # user + system time of the load generator process


class _Connection(asyncio.Protocol):
    """One keep-alive connection: one request at a time (closed loop)."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.BaseTransport | None = None
        self.done: asyncio.Future[int] | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have write().
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(exc or ConnectionError("connection closed"))
        if not self.closed.done():
            self.closed.set_result(None)

    def on_message_complete(self) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_result(self.parser.get_status_code())

    def _fail(self, exc: BaseException) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_exception(exc)

    async def request(self, raw: bytes) -> int:
        assert self.transport is not None
        self.done = asyncio.get_running_loop().create_future()
        self.transport.write(raw)  # type: ignore[attr-defined]
        return await self.done


async def _client(
    index: int, spec: LoadSpec, requests: dict[str, list[bytes]], result: LoadResult, start: float
) -> None:
    loop = asyncio.get_running_loop()
    rng = random.Random(spec.seed * 1000 + index)
    names = list(requests)
    measure_from = start + spec.warmup_seconds
    stop_at = measure_from + spec.seconds
    ports = (spec.port, *spec.more_ports)
    port = ports[index % len(ports)]
    _, conn = await loop.create_connection(_Connection, "127.0.0.1", port)
    try:
        while (now := time.perf_counter()) < stop_at:
            name = rng.choice(names)
            raw = rng.choice(requests[name])
            try:
                status = await asyncio.wait_for(conn.request(raw), timeout=30)
            except (OSError, TimeoutError, httptools.HttpParserError) as exc:
                result.error_count += 1
                if len(result.errors) < 100:
                    result.errors.append(f"{name}: {exc!r}")
                if conn.transport is not None:
                    conn.transport.close()
                _, conn = await loop.create_connection(_Connection, "127.0.0.1", port)
                continue
            result.completed += 1
            if now >= measure_from:
                result.latencies[name].append(time.perf_counter() - now)
                result.statuses[name][status] = result.statuses[name].get(status, 0) + 1
    finally:
        if conn.transport is not None:
            conn.transport.close()


async def _run(spec: LoadSpec) -> LoadResult:
    head = "".join(f"{k}: {v}\r\n" for k, v in spec.headers.items())
    requests = {
        name: [
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{spec.port}\r\n{head}\r\n".encode()
            for path in paths
        ]
        for name, paths in spec.paths.items()
    }
    result = LoadResult(
        latencies=defaultdict(list),
        statuses=defaultdict(dict),
        errors=[],
        error_count=0,
        completed=0,
        measured_seconds=0.0,
        cpu_seconds=0.0,
    )
    start = time.perf_counter()
    await asyncio.gather(*(_client(i, spec, requests, result, start) for i in range(spec.clients)))
    result.measured_seconds = time.perf_counter() - start - spec.warmup_seconds
    return result


def run_load(spec: LoadSpec) -> LoadResult:
    """Entry point in the load process: uvloop when available, CPU time measured here."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        result = asyncio.run(_run(spec))
    else:
        result = uvloop.run(_run(spec))
    after = resource.getrusage(resource.RUSAGE_SELF)
    result.cpu_seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result.latencies = dict(result.latencies)
    result.statuses = {k: dict(v) for k, v in result.statuses.items()}
    return result


async def run_load_process(spec: LoadSpec) -> LoadResult:
    """`run_load` in a fresh process, so the client never shares a core's GIL with the bench."""
    import concurrent.futures
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return await asyncio.get_running_loop().run_in_executor(pool, run_load, spec)


def cores() -> int:
    return os.cpu_count() or 1
