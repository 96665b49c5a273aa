"""The whole system with the demo agency, the way `make dev` runs it: for dashboard tests.

Every service runs as a process against this run's servers, ingest pulls from the fake
ScrapeCreators server, and `pulse seed-demo` seeds the demo agency through the public APIs
(about 20 s), so use it once per module:

    from tests.support.demo import DemoSystem, running_demo

    @pytest.fixture(scope="module")
    def demo(service_env): with running_demo(service_env) as found: yield found
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, Page, Route

from .browser import WatchedPage, watched_page
from .services import ROOT, ServiceProcess, fake_provider_process

DEMO_EMAIL = "demo@northwind.agency"
DEMO_PASSWORD = "pulse-demo-2026"
LOGS = ROOT / "test-artifacts" / "logs"
SCREENSHOTS = ROOT / "docs" / "screenshots"
# A 1×1 PNG standing in for platform CDN images, which test machines cannot reach.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e221bc330000000049454e44ae426082"
)


@dataclass
class DemoSystem:
    procs: dict[str, ServiceProcess]
    provider_url: str
    provider: httpx.Client  # the fake provider's /_control
    seeded: dict[str, object] = field(default_factory=dict)
    mail_dir: Path = LOGS / "mail"  # where the reporter "sends" (PULSE_REPORTER_MAIL_DIR)
    email: str = DEMO_EMAIL
    password: str = DEMO_PASSWORD

    @property
    def gateway_url(self) -> str:
        return self.procs["gateway"].url

    @property
    def ingest_url(self) -> str:
        return self.procs["ingest"].url

    @contextmanager
    def api(self) -> Iterator[httpx.Client]:
        """The gateway's staff API, signed in as the demo owner (bearer token)."""
        with httpx.Client(base_url=self.gateway_url, timeout=15) as client:
            login = client.post(
                "/api/auth/login", json={"email": self.email, "password": self.password}
            )
            login.raise_for_status()
            client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
            yield client


def _stop_all(procs: dict[str, ServiceProcess]) -> None:
    for proc in reversed(list(procs.values())):
        proc.stop()


@contextmanager
def running_demo(service_env: dict[str, str]) -> Iterator[DemoSystem]:
    with ExitStack() as stack:
        provider_url, control = stack.enter_context(fake_provider_process(LOGS))
        procs: dict[str, ServiceProcess] = {}
        stack.callback(_stop_all, procs)
        # The reporter and share each need the other's address: both get their ports first.
        LOGS.mkdir(parents=True, exist_ok=True)
        mail_dir = Path(tempfile.mkdtemp(prefix="demo-mail-", dir=LOGS.parent))
        share = ServiceProcess("share", {}, LOGS)
        procs["reporter"] = ServiceProcess(
            "reporter",
            {
                **service_env,
                "PULSE_REPORTER_SHARE_URL": share.url,
                "PULSE_REPORTER_MAIL_DIR": str(mail_dir),
            },
            LOGS,
        )
        procs["reporter"].start()
        reporter_url = procs["reporter"].url
        share.env = {
            **service_env,
            "PULSE_SHARE_REPORTER_URL": reporter_url,
            # The links share hands out itself (a scheduled report's) point at this process.
            "PULSE_SHARE_PUBLIC_URL": share.url,
        }
        ingest_env = {
            **service_env,
            "PULSE_INGEST_SCRAPECREATORS_BASE_URL": provider_url,
            "PULSE_INGEST_SCRAPECREATORS_API_KEY": "fake-test-key",
        }
        for name, env in (
            ("ingest", ingest_env),
            ("aggregator", service_env),
            ("alerter", service_env),
        ):
            procs[name] = ServiceProcess(name, env, LOGS)
            procs[name].start()
        procs["share"] = share
        share.start()
        gateway_env = {
            **service_env,
            "PULSE_GATEWAY_INGEST_URL": procs["ingest"].url,
            "PULSE_GATEWAY_AGGREGATOR_URL": procs["aggregator"].url,
            "PULSE_GATEWAY_ALERTER_URL": procs["alerter"].url,
            "PULSE_GATEWAY_SHARE_URL": procs["share"].url,
            "PULSE_GATEWAY_SHARE_PUBLIC_URL": procs["share"].url,
            "PULSE_GATEWAY_REPORTER_URL": reporter_url,
        }
        procs["gateway"] = ServiceProcess("gateway", gateway_env, LOGS)
        procs["gateway"].start()
        seeded = subprocess.run(
            [
                sys.executable,
                "-m",
                "pulse_gateway.cli",
                "seed-demo",
                "--gateway-url",
                procs["gateway"].url,
                "--ingest-url",
                procs["ingest"].url,
                "--fake-provider-url",
                provider_url,
            ],
            env={**gateway_env, "PULSE_GATEWAY_PUBLIC_URL": procs["gateway"].url},
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
            cwd=ROOT,
        )
        assert seeded.returncode == 0, seeded.stderr[-3000:]
        yield DemoSystem(
            procs=procs,
            provider_url=provider_url,
            provider=control,
            seeded=json.loads(seeded.stdout),
            mail_dir=mail_dir,
        )


async def sign_in(page: Page, demo: DemoSystem, *, next_path: str = "/campaigns") -> None:
    """Sign the page in through the login form, the way a person does."""
    await page.goto(f"{demo.gateway_url}/login?next={next_path}")
    await page.fill("#f-email", demo.email)
    await page.fill("#f-password", demo.password)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{demo.gateway_url}{next_path}*")


def computed_campaigns(demo: DemoSystem) -> dict[str, dict[str, Any]]:
    """The demo's campaigns by name, once their numbers are computed."""
    with demo.api() as api:
        deadline = time.monotonic() + 30
        while True:
            items = api.get("/api/campaigns").json()["items"]
            computed = [c for c in items if c["kpis"] and c["status"] != "draft"]
            if len(computed) == 3 and all(c["kpis"]["actual_views"] for c in computed):
                return {c["name"]: c for c in items}
            assert time.monotonic() < deadline, "the demo's numbers were never computed"
            time.sleep(0.5)


async def stand_in_image(route: Route) -> None:
    await route.fulfill(status=200, content_type="image/png", body=PIXEL)


@asynccontextmanager
async def staff_page(browser: Browser, demo: DemoSystem) -> AsyncIterator[WatchedPage]:
    """A signed-in staff page whose proxied thumbnails are answered with PIXEL."""
    async with watched_page(browser, base_url=demo.gateway_url) as watched:
        # Jinja's urlencode keeps "/" in the proxied URL, which a "*" glob would not cross.
        await watched.page.route(re.compile(r"/api/media-proxy\?"), stand_in_image)
        await sign_in(watched.page, demo)
        yield watched


async def capture(page: Page, screen: str) -> None:
    """A screenshot for README, once the page has settled."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.wait_for_load_state("networkidle")
    await page.screenshot(path=SCREENSHOTS / f"{screen}.png")
