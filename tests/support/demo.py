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
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import httpx
from playwright.async_api import Page

from .services import ROOT, ServiceProcess, fake_provider_process

DEMO_EMAIL = "demo@northwind.agency"
DEMO_PASSWORD = "pulse-demo-2026"
LOGS = ROOT / "test-artifacts" / "logs"


@dataclass
class DemoSystem:
    procs: dict[str, ServiceProcess]
    provider_url: str
    provider: httpx.Client  # the fake provider's /_control
    seeded: dict[str, object] = field(default_factory=dict)
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
        ingest_env = {
            **service_env,
            "PULSE_INGEST_SCRAPECREATORS_BASE_URL": provider_url,
            "PULSE_INGEST_SCRAPECREATORS_API_KEY": "fake-test-key",
        }
        for name, env in (
            ("ingest", ingest_env),
            ("aggregator", service_env),
            ("alerter", service_env),
            ("share", service_env),
        ):
            procs[name] = ServiceProcess(name, env, LOGS)
            procs[name].start()
        gateway_env = {
            **service_env,
            "PULSE_GATEWAY_INGEST_URL": procs["ingest"].url,
            "PULSE_GATEWAY_AGGREGATOR_URL": procs["aggregator"].url,
            "PULSE_GATEWAY_ALERTER_URL": procs["alerter"].url,
            "PULSE_GATEWAY_SHARE_URL": procs["share"].url,
            "PULSE_GATEWAY_SHARE_PUBLIC_URL": procs["share"].url,
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
        )


async def sign_in(page: Page, demo: DemoSystem, *, next_path: str = "/campaigns") -> None:
    """Sign the page in through the login form, the way a person does."""
    await page.goto(f"{demo.gateway_url}/login?next={next_path}")
    await page.fill("#f-email", demo.email)
    await page.fill("#f-password", demo.password)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{demo.gateway_url}{next_path}*")
