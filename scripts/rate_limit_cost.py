"""What the API rate limit costs a read: one gateway with the limit counting in Redis against one
whose Redis is unreachable (the fail-open path: no Redis I/O, a clock read), both on the run's
own database with an aggregator behind them, loaded in turns with wrk on the same campaign read
(GET /api/campaigns/{id}: catalog row plus its numbers from the read model). Reports requests
per second, latency percentiles and the gateway's CPU time per request (from /proc) for each
run, and first the limiter alone: the round trip of one count (Lua script) from this process.

    .venv/bin/python scripts/rate_limit_cost.py [--runs 4] [--seconds 8] [--connections 16]

Needs wrk (Debian package `wrk`), PostgreSQL, RabbitMQ and Redis (scripts/ensure-servers.sh).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pulse_contracts import utcnow  # noqa: E402
from pulse_runtime.rate_limit import RateLimiter, redis_client  # noqa: E402
from tests.support.agency import PASSWORD, create_org  # noqa: E402
from tests.support.servers import isolated_servers  # noqa: E402
from tests.support.services import ServiceProcess, migrate_all  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def wrk(url: str, token: str, seconds: int, connections: int) -> dict[str, float]:
    done = subprocess.run(  # noqa: S603 - our own arguments
        [shutil.which("wrk") or "/usr/bin/wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
         "--latency", "-H", f"Authorization: Bearer {token}", url],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    out = done.stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert errors is None, f"wrk saw refusals or errors: {out}"

    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {"requests": requests, "p50_ms": ms("50"), "p99_ms": ms("99")}


async def one_count(redis_url: str, prefix: str, hits: int) -> dict[str, float]:
    """Sequential counts of one caller, as one request of a gateway makes them."""
    async with redis_client(redis_url) as redis:
        limiter = RateLimiter(redis, prefix=prefix + "alone:")
        await limiter.hit("user:warm", 10**9)
        took = []
        for _ in range(hits):
            started = time.perf_counter()
            assert await limiter.hit("user:a", 10**9) is not None
            took.append((time.perf_counter() - started) * 1e6)
    took.sort()
    return {
        "p50_us": round(took[len(took) // 2], 1),
        "p99_us": round(took[int(len(took) * 0.99)], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="pulse-rate-cost-"))
    with isolated_servers() as servers:
        asyncio.run(migrate_all(servers))
        alone = asyncio.run(one_count(servers.redis_url, servers.redis_key_prefix, 5000))
        print("one count, 5000 in a row:", json.dumps(alone))
        env = {
            **os.environ,
            "PULSE_ENV": "test",
            "PULSE_DATABASE_URL": servers.database_url,
            "PULSE_AMQP_URL": servers.amqp_url,
            "PULSE_LOG_LEVEL": "ERROR",
            "PULSE_REDIS_URL": servers.redis_url,
            "PULSE_REDIS_KEY_PREFIX": servers.redis_key_prefix,
            # Counted on every request, never refused.
            "PULSE_GATEWAY_API_REQUESTS_PER_MINUTE": str(10**9),
        }
        email = f"owner-{uuid4().hex[:8]}@cost.agency"
        create_org(env, "Cost", email, test=True)
        # The campaign's numbers come from the aggregator (kpi.updated into the read model).
        aggregator = ServiceProcess("aggregator", env, logs)
        aggregator.start()
        env["PULSE_GATEWAY_AGGREGATOR_URL"] = aggregator.url
        gateways = {
            "limit on": ServiceProcess("gateway", env, logs),
            "limit off": ServiceProcess(
                "gateway", {**env, "PULSE_REDIS_URL": "redis://127.0.0.1:1/0"}, logs
            ),
        }
        try:
            for gateway in gateways.values():
                gateway.start()
            first = gateways["limit on"].url
            login = httpx.post(
                f"{first}/api/auth/login", json={"email": email, "password": PASSWORD}
            ).json()
            headers = {"Authorization": f"Bearer {login['access_token']}"}
            client = httpx.post(
                f"{first}/api/clients", json={"name": "Lumière"}, headers=headers
            ).json()
            today = utcnow().date()
            campaign = httpx.post(
                f"{first}/api/campaigns",
                json={
                    "client_id": client["id"],
                    "name": "Winter",
                    "status": "live",
                    "start_date": (today - timedelta(days=2)).isoformat(),
                    "end_date": (today + timedelta(days=20)).isoformat(),
                },
                headers=headers,
            ).json()
            for gateway in gateways.values():  # once the read model holds its numbers
                for _ in range(100):
                    read = httpx.get(
                        f"{gateway.url}/api/campaigns/{campaign['id']}", headers=headers
                    )
                    if read.status_code == 200:
                        break
                    time.sleep(0.2)
                assert read.status_code == 200, (read.status_code, read.text)
            results: dict[str, list[dict[str, float]]] = {name: [] for name in gateways}
            for gateway in gateways.values():  # warm up both
                wrk(f"{gateway.url}/api/campaigns/{campaign['id']}", login["access_token"], 2, 4)
            for _ in range(args.runs):
                for name, gateway in gateways.items():
                    assert gateway.process is not None
                    before = cpu_seconds(gateway.process.pid)
                    found = wrk(
                        f"{gateway.url}/api/campaigns/{campaign['id']}",
                        login["access_token"],
                        args.seconds,
                        args.connections,
                    )
                    spent = cpu_seconds(gateway.process.pid) - before
                    found["rps"] = found["requests"] / args.seconds
                    found["cpu_ms_per_request"] = 1000 * spent / found["requests"]
                    results[name].append(found)
                    print(name, json.dumps({k: round(v, 3) for k, v in found.items()}))
            print("median over runs:")
            for name, runs in results.items():
                summary = {
                    key: round(statistics.median(r[key] for r in runs), 3)
                    for key in ("rps", "p50_ms", "p99_ms", "cpu_ms_per_request")
                }
                print(f"  {name}: {json.dumps(summary)}")
        finally:
            for gateway in gateways.values():
                gateway.stop()
            aggregator.stop()


if __name__ == "__main__":
    main()
