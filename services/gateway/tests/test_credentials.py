"""Credentials end when they should, and the sign-in limits hold, through the gateway as a real
process: JWTs tied to their session, streams that re-check, an atomic login limit, forwarded
addresses believed only from configured proxies, limited sign-in links."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from uuid import uuid4

import asyncpg
import httpx
import pytest

from tests.support.agency import PASSWORD, create_org
from tests.support.services import ROOT, ServiceProcess

pytestmark = pytest.mark.integration
LOGS = ROOT / "test-artifacts" / "logs"


@pytest.fixture(scope="module")
def mail_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mail")


@pytest.fixture(scope="module")
def gateway(service_env: dict[str, str], mail_dir: Path) -> Iterator[ServiceProcess]:
    """Behind a proxy on loopback: each test names its own client address in X-Forwarded-For,
    so the per-address limits of one test never meet another's."""
    proc = ServiceProcess(
        "gateway",
        {
            **service_env,
            "PULSE_GATEWAY_MAIL_DIR": str(mail_dir),
            "PULSE_TRUSTED_PROXIES": "127.0.0.1",
            "PULSE_GATEWAY_STREAM_RECHECK_S": "1",
            # The real per-address limits (the run's service_env lifts them for other modules).
            "PULSE_GATEWAY_LOGIN_FAILURES_PER_ADDRESS": "20",
            "PULSE_GATEWAY_EMAIL_LINKS_PER_ADDRESS": "10",
        },
        LOGS,
    )
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def direct_gateway(service_env: dict[str, str]) -> Iterator[ServiceProcess]:
    """The default: no trusted proxies at all."""
    proc = ServiceProcess("gateway", dict(service_env), LOGS)
    proc.start()
    yield proc
    proc.stop()


def new_address() -> str:
    return f"198.51.{uuid4().int % 250}.{uuid4().int % 250 + 1}"


class Agency:
    def __init__(
        self, gateway: ServiceProcess, service_env: dict[str, str], name: str = "Northwind Talent"
    ) -> None:
        self.owner_email = f"owner-{uuid4().hex[:8]}@northwind.agency"
        self.ids = create_org(service_env, name, self.owner_email)
        self.url = gateway.url
        self.address = new_address()

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.url, timeout=20, headers={"X-Forwarded-For": self.address}
        )

    async def sign_in(self, client: httpx.AsyncClient, email: str | None = None) -> dict[str, str]:
        r = await client.post(
            "/api/auth/login", json={"email": email or self.owner_email, "password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        body: dict[str, str] = r.json()
        return body

    async def bearer(self, email: str | None = None) -> httpx.AsyncClient:
        client = self.client()
        signed = await self.sign_in(client, email)
        client.cookies.clear()  # the JWT alone
        client.headers["Authorization"] = f"Bearer {signed['access_token']}"
        return client

    async def person(self, owner: httpx.AsyncClient, role: str = "analyst") -> tuple[str, str]:
        email = f"{role}-{uuid4().hex[:8]}@northwind.agency"
        r = await owner.post(
            "/api/users", json={"email": email, "role": role, "password": PASSWORD}
        )
        assert r.status_code == 201, r.text
        return email, r.json()["id"]


@pytest.fixture
async def agency(gateway: ServiceProcess, service_env: dict[str, str]) -> Agency:
    return await asyncio.to_thread(Agency, gateway, service_env)


@pytest.fixture
async def owner(agency: Agency) -> AsyncIterator[httpx.AsyncClient]:
    client = await agency.bearer()
    yield client
    await client.aclose()


# --- 1. logout, a password change and disabling end JWTs and cookies at once ---------------


async def test_signing_out_ends_the_bearer_jwt_at_once(agency: Agency) -> None:
    client = await agency.bearer()
    assert (await client.get("/api/me")).status_code == 200  # looked up, and cached
    assert (await client.post("/api/auth/logout")).status_code == 204
    after = await client.get("/api/me")
    assert after.status_code == 401, "the same JWT still works after signing out"
    await client.aclose()


async def test_signing_out_in_the_browser_ends_the_jwt_of_that_sign_in(agency: Agency) -> None:
    async with agency.client() as browser:
        signed = await agency.sign_in(browser)
        jwt = {"Authorization": f"Bearer {signed['access_token']}"}
        async with agency.client() as api:
            assert (await api.get("/api/me", headers=jwt)).status_code == 200
            out = await browser.post(
                "/api/auth/logout", headers={"X-CSRF-Token": signed["csrf_token"]}
            )
            assert out.status_code == 204
            assert (await api.get("/api/me", headers=jwt)).status_code == 401


async def test_a_password_change_ends_the_old_jwt_and_the_old_cookie(
    agency: Agency, owner: httpx.AsyncClient
) -> None:
    email, user_id = await agency.person(owner)
    async with agency.client() as browser:
        signed = await agency.sign_in(browser, email)
        jwt = {"Authorization": f"Bearer {signed['access_token']}"}
        async with agency.client() as api:
            assert (await api.get("/api/me", headers=jwt)).status_code == 200
            assert (await browser.get("/api/me")).status_code == 200
            changed = await owner.patch(
                f"/api/users/{user_id}", json={"password": "a brand new passphrase"}
            )
            assert changed.status_code == 200, changed.text
            assert (await api.get("/api/me", headers=jwt)).status_code == 401
            assert (await browser.get("/api/me")).status_code == 401
    # The new password signs in; the owner who changed it is still signed in.
    async with agency.client() as fresh:
        r = await fresh.post(
            "/api/auth/login", json={"email": email, "password": "a brand new passphrase"}
        )
        assert r.status_code == 200
    assert (await owner.get("/api/me")).status_code == 200


async def test_disabling_a_person_ends_their_jwt_at_once(
    agency: Agency, owner: httpx.AsyncClient
) -> None:
    email, user_id = await agency.person(owner, "manager")
    person = await agency.bearer(email)
    assert (await person.get("/api/clients")).status_code == 200
    assert (await owner.delete(f"/api/users/{user_id}")).status_code == 204
    assert (await person.get("/api/clients")).status_code == 401
    await person.aclose()


async def test_a_role_change_applies_to_the_next_request(
    agency: Agency, owner: httpx.AsyncClient
) -> None:
    email, user_id = await agency.person(owner, "manager")
    person = await agency.bearer(email)
    assert (await person.post("/api/clients", json={"name": "Acme"})).status_code == 201
    demoted = await owner.patch(f"/api/users/{user_id}", json={"role": "analyst"})
    assert demoted.status_code == 200
    assert (await person.post("/api/clients", json={"name": "Globex"})).status_code == 403
    await person.aclose()


# --- 2. an open stream ends when its credential does ----------------------------------------


async def _stream_ends(
    client: httpx.AsyncClient,
    revoke: Callable[[], Awaitable[None]],
    headers: dict[str, str] | None = None,
) -> list[str]:
    """Open /api/stream, run `revoke`, and return the frames read until the server closed it
    (fails when it is still open 10 s later)."""
    frames: list[str] = []
    async with client.stream("GET", "/api/stream", headers=headers) as response:
        assert response.status_code == 200
        lines = response.aiter_lines()
        assert (await anext(lines)).startswith(": connected")
        await revoke()

        async def drain() -> None:
            async for line in lines:
                frames.append(line)

        try:
            await asyncio.wait_for(drain(), timeout=10)
        except TimeoutError:
            pytest.fail("the stream kept going after its credential ended")
    return frames


async def test_a_stream_opened_with_a_session_cookie_closes_after_sign_out(
    agency: Agency,
) -> None:
    async with agency.client() as browser, agency.client() as other_tab:
        signed = await agency.sign_in(browser)
        other_tab.cookies.update(browser.cookies)

        async def sign_out() -> None:
            r = await other_tab.post(
                "/api/auth/logout", headers={"X-CSRF-Token": signed["csrf_token"]}
            )
            assert r.status_code == 204

        frames = await _stream_ends(browser, sign_out)
        assert "event: closed" in frames


async def test_a_stream_opened_with_a_read_token_closes_when_it_is_revoked(
    agency: Agency, owner: httpx.AsyncClient
) -> None:
    created = (await owner.post("/api/tokens", json={"name": "wall", "scopes": ["read"]})).json()
    async with agency.client() as wall:

        async def revoke() -> None:
            assert (await owner.delete(f"/api/tokens/{created['id']}")).status_code == 204

        frames = await _stream_ends(
            wall, revoke, headers={"Authorization": f"Bearer {created['token']}"}
        )
        assert "event: closed" in frames


async def test_a_stream_opened_with_a_jwt_closes_when_the_person_is_disabled(
    agency: Agency, owner: httpx.AsyncClient
) -> None:
    email, user_id = await agency.person(owner)
    person = await agency.bearer(email)

    async def disable() -> None:
        assert (await owner.delete(f"/api/users/{user_id}")).status_code == 204

    await _stream_ends(person, disable)
    await person.aclose()


# --- 5. the login limit holds under parallel guesses ------------------------------------------


async def test_parallel_wrong_passwords_get_at_most_five_real_checks(agency: Agency) -> None:
    async with agency.client() as client:

        async def guess(i: int) -> int:
            r = await client.post(
                "/api/auth/login", json={"email": agency.owner_email, "password": f"guess {i}"}
            )
            return r.status_code

        statuses = await asyncio.gather(*(guess(i) for i in range(30)))
    # A 401 is a real password check; the limit refuses the rest before checking anything.
    assert statuses.count(401) == 5, statuses
    assert statuses.count(429) == 25, statuses


# --- 6. X-Forwarded-For only from configured proxies ------------------------------------------


async def _wrong_sign_in(client: httpx.AsyncClient, address: str) -> int:
    """A failed sign-in for an email nobody has, from `address` as X-Forwarded-For says."""
    r = await client.post(
        "/api/auth/login",
        json={"email": f"ghost-{uuid4().hex[:6]}@x.example", "password": "nope"},
        headers={"X-Forwarded-For": address},
    )
    return r.status_code


async def test_forwarded_addresses_count_only_from_a_trusted_proxy(
    agency: Agency, direct_gateway: ServiceProcess, admin_db: asyncpg.Connection
) -> None:
    claimed = new_address()
    async with httpx.AsyncClient(base_url=direct_gateway.url, timeout=20) as client:
        assert await _wrong_sign_in(client, claimed) == 401
    counted = await admin_db.fetchval(
        "SELECT count(*) FROM catalog.login_failures WHERE key = $1", f"address:{claimed}"
    )
    assert counted == 0, "a client picked the address its failures count against"

    # Through the configured proxy, the forwarded address is the client's.
    behind = new_address()
    async with httpx.AsyncClient(base_url=agency.url, timeout=20) as client:
        for _ in range(20):
            await _wrong_sign_in(client, behind)
        assert await _wrong_sign_in(client, behind) == 429
        assert await _wrong_sign_in(client, new_address()) == 401


# --- 7. sign-in links: limited per email and per client, the same 202 either way -------------


async def _new_mails(mail_dir: Path, before: set[Path], expected: int) -> set[Path]:
    """The mails written since `before`: they are sent after the answer, so wait until
    `expected` are there, then a moment more for any that should not be."""
    for _ in range(50):
        if len(set(mail_dir.glob("*.eml")) - before) >= expected:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)
    return set(mail_dir.glob("*.eml")) - before


async def test_sign_in_links_are_limited_per_email_and_answer_the_same(
    agency: Agency, mail_dir: Path
) -> None:
    before = set(mail_dir.glob("*.eml"))
    async with agency.client() as client:
        known = [
            await client.post("/api/auth/email-link", json={"email": agency.owner_email})
            for _ in range(6)
        ]
        unknown = await client.post(
            "/api/auth/email-link", json={"email": f"ghost-{uuid4().hex[:6]}@northwind.agency"}
        )
    assert {r.status_code for r in known} == {202}
    assert unknown.status_code == 202
    assert {r.text for r in known} == {unknown.text}
    mails = await _new_mails(mail_dir, before, expected=3)
    assert len(mails) == 3, "six requests for one address sent more than three mails"


async def test_sign_in_links_are_limited_per_client_address(agency: Agency) -> None:
    async with agency.client() as client:
        answers = [
            await client.post(
                "/api/auth/email-link", json={"email": f"p{i}-{uuid4().hex[:6]}@x.example"}
            )
            for i in range(11)
        ]
    assert [r.status_code for r in answers[:10]] == [202] * 10
    assert answers[10].status_code == 429


@pytest.fixture(scope="module")
def stalled_mail_server() -> Iterator[tuple[int, threading.Event]]:
    """An SMTP port that accepts connections and never says a word: a mail server stuck."""
    listener = socket.create_server(("127.0.0.1", 0))
    contacted = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = listener.accept()
                held.append(conn)
                contacted.set()

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1], contacted
    listener.close()
    for conn in held:
        conn.close()


async def test_a_sign_in_link_is_answered_before_any_mail_is_sent(
    service_env: dict[str, str], stalled_mail_server: tuple[int, threading.Event]
) -> None:
    """Waiting for the mail server before answering made an address with an account answer
    later than one without: whoever asks could tell which addresses have accounts. With the
    mail server stuck (the mailer gives up after 10 s), both answer at once."""
    port, contacted = stalled_mail_server
    proc = ServiceProcess(
        "gateway", {**service_env, "PULSE_GATEWAY_SMTP_URL": f"smtp://127.0.0.1:{port}"}, LOGS
    )
    await asyncio.to_thread(proc.start)
    try:
        agency = await asyncio.to_thread(Agency, proc, service_env)
        async with httpx.AsyncClient(base_url=proc.url, timeout=5) as client:
            known = await client.post("/api/auth/email-link", json={"email": agency.owner_email})
            unknown = await client.post(
                "/api/auth/email-link", json={"email": f"ghost-{uuid4().hex[:6]}@x.example"}
            )
        assert (known.status_code, unknown.status_code) == (202, 202)
        assert known.text == unknown.text
        # The link is still sent, after the answer: the stuck server is being talked to.
        assert await asyncio.to_thread(contacted.wait, 10), "no mail was attempted"
    finally:
        await asyncio.to_thread(proc.stop)


# --- 12. adding an address another organization has reveals nothing --------------------------


async def test_adding_an_address_another_organization_has_reveals_nothing(
    agency: Agency,
    owner: httpx.AsyncClient,
    gateway: ServiceProcess,
    service_env: dict[str, str],
    mail_dir: Path,
) -> None:
    elsewhere = await asyncio.to_thread(Agency, gateway, service_env, "Southwind Media")
    ours = "a passphrase of our own"
    taken = await owner.post(
        "/api/users", json={"email": elsewhere.owner_email, "role": "analyst", "password": ours}
    )
    fresh = await owner.post(
        "/api/users",
        json={"email": f"new-{uuid4().hex[:8]}@x.example", "role": "analyst", "password": ours},
    )
    assert taken.status_code == fresh.status_code == 201, taken.text
    assert taken.json().keys() == fresh.json().keys()
    assert taken.json()["email"] == elsewhere.owner_email

    # Each account signs in to its own organization, with its own password.
    async with agency.client() as client:
        theirs = await client.post(
            "/api/auth/login", json={"email": elsewhere.owner_email, "password": PASSWORD}
        )
        mine = await client.post(
            "/api/auth/login", json={"email": elsewhere.owner_email, "password": ours}
        )
    assert theirs.json()["user"]["org_id"] == elsewhere.ids["org_id"]
    assert mine.json()["user"]["org_id"] == agency.ids["org_id"]

    # Adding the same address twice to one organization says only that.
    again = await owner.post("/api/users", json={"email": elsewhere.owner_email, "role": "manager"})
    assert again.status_code == 409
    assert "member of your organization" in again.json()["error"]["message"]

    # A sign-in link request mails one link per organization, each naming it.
    before = set(mail_dir.glob("*.eml"))
    async with agency.client() as client:
        r = await client.post("/api/auth/email-link", json={"email": elsewhere.owner_email})
    assert r.status_code == 202
    subjects = sorted(
        next(line for line in path.read_text().splitlines() if line.startswith("Subject:"))
        for path in await _new_mails(mail_dir, before, expected=2)
    )
    assert len(subjects) == 2
    assert "Northwind Talent" in subjects[0]
    assert "Southwind Media" in subjects[1]
