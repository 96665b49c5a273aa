"""What one dashboard screen costs the gateway: sequential fetches against `make dev`.

    make dev
    python -m bench.page_cost [--fetches 600] [--paths /campaigns/CID,/campaigns/CID/fragments/tags]

Signs in as the demo login through the form (as a browser does), picks the demo's first
campaign for `CID`, warms each path up with 20 fetches, then fetches it `--fetches` times one
after another and prints the client's p50 and mean and the gateway's CPU per fetch, read from
/proc for the pid `make dev` wrote. One client, so it measures cost, not contention.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import time
from pathlib import Path

import httpx

from pulse_gateway.demo import DEMO_EMAIL, DEMO_PASSWORD

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATHS = (
    "/campaigns/CID",
    "/campaigns/CID/fragments/numbers",
    "/campaigns/CID/fragments/tags",
    "/campaigns/CID/fragments/alerts",
)
WARM_UP = 20


def process_cpu_s(pid: int) -> float:
    """User + system CPU of `pid` so far, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(url: str, pid: int, paths: list[str], fetches: int) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as browser:
        signed = await browser.post(
            "/login", data={"email": DEMO_EMAIL, "password": DEMO_PASSWORD, "next": "/campaigns"}
        )
        if signed.status_code != 303:
            raise SystemExit(f"sign-in failed ({signed.status_code}): is `make dev` running?")
        found = re.search(r"/campaigns/([0-9a-f-]{36})", (await browser.get("/campaigns")).text)
        if found is None:
            raise SystemExit("the demo agency has no campaign")
        for path in (p.replace("CID", found.group(1)) for p in paths):
            headers = {"HX-Request": "true"} if "/fragments/" in path else {}
            for _ in range(WARM_UP):
                (await browser.get(path, headers=headers)).raise_for_status()
            cpu_before = process_cpu_s(pid)
            took = []
            for _ in range(fetches):
                started = time.perf_counter()
                (await browser.get(path, headers=headers)).raise_for_status()
                took.append(time.perf_counter() - started)
            cpu_ms = (process_cpu_s(pid) - cpu_before) / fetches * 1000
            took.sort()
            print(
                f"{path}: p50 {took[fetches // 2] * 1000:.2f} ms,"
                f" mean {sum(took) / fetches * 1000:.2f} ms, gateway CPU {cpu_ms:.3f} ms a fetch"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--pid-file", type=Path, default=ROOT / "var" / "run" / "gateway.pid")
    parser.add_argument("--fetches", type=int, default=600)
    parser.add_argument("--paths", default=",".join(DEFAULT_PATHS), help="CID: a demo campaign")
    args = parser.parse_args()
    pid = int(args.pid_file.read_text())
    asyncio.run(measure(args.url, pid, args.paths.split(","), args.fetches))


if __name__ == "__main__":
    main()
