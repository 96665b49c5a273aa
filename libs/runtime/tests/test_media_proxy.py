"""Media proxy SSRF guards, limits and cache, driven through httpx.MockTransport and a fake DNS."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from pulse_runtime.media_proxy import (
    MediaProxy,
    MediaProxyError,
    ProxiedImage,
    check_url,
    is_public_address,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
PUBLIC_V4 = "93.184.216.34"
UNSPECIFIED_V4 = "0.0.0.0"  # noqa: S104 - an address under test, nothing binds to it
PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946"
SUFFIXES = ("tiktokcdn.com", "cdninstagram.com", "fbcdn.net")
MB = 1024 * 1024

Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]


@dataclass
class FakeDns:
    """Resolver double: every name is public unless told otherwise; records each lookup."""

    records: dict[str, list[str]] = field(default_factory=dict)
    default: list[str] = field(default_factory=lambda: [PUBLIC_V4])
    lookups: list[tuple[str, int]] = field(default_factory=list)

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append((host, port))
        return self.records.get(host, self.default)


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Upstream:
    """MockTransport whose responses are chosen per logical host (the Host header)."""

    routes: dict[str, Callable[[httpx.Request], httpx.Response]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get(request.headers["host"] + request.url.path)
        if route is None:
            route = self.routes.get(request.headers["host"], lambda _r: image_response())
        return route(request)


def image_response(
    body: bytes = PNG, content_type: str = "image/png", headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(
        200, content=body, headers={"Content-Type": content_type, **(headers or {})}
    )


def redirect(location: str, status: int = 302) -> Callable[[httpx.Request], httpx.Response]:
    return lambda _r: httpx.Response(status, headers={"Location": location})


@dataclass
class Rig:
    upstream: Upstream
    dns: FakeDns
    clock: FakeClock
    client: httpx.AsyncClient

    def proxy(self, **kwargs: Any) -> MediaProxy:
        return MediaProxy(
            http=self.client,
            resolver=self.dns,
            clock=self.clock,
            **kwargs,
        )


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    upstream = Upstream()
    client = httpx.AsyncClient(transport=httpx.MockTransport(upstream.handle))
    yield Rig(upstream, FakeDns(), FakeClock(), client)
    await client.aclose()


async def refused(proxy: MediaProxy, url: str) -> MediaProxyError:
    with pytest.raises(MediaProxyError) as info:
        await proxy.fetch(url)
    return info.value


# --- URL checks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://fbcdn.net/a.jpg", "fbcdn.net"),
        ("https://scontent-ams2-1.xx.fbcdn.net/v/t51/a.jpg?x=1", "scontent-ams2-1.xx.fbcdn.net"),
        ("https://P16-Sign.TikTokCDN.com/obj.webp", "p16-sign.tiktokcdn.com"),
        ("https://fbcdn.net./a.jpg", "fbcdn.net"),
        ("https://fbcdn.net:443/a.jpg", "fbcdn.net"),
        ("https://img.youtube.com/vi/Kq7vX2mLp9A/maxresdefault.jpg", "img.youtube.com"),
    ],
)
def test_allowed_host_and_subdomains(url: str, host: str) -> None:
    assert check_url(url, SUFFIXES) == host


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://evilfbcdn.net/a.jpg", "host_not_allowed"),
        ("https://fbcdn.net.evil.com/a.jpg", "host_not_allowed"),
        ("https://fbcdn-net.com/a.jpg", "host_not_allowed"),
        # YouTube's thumbnail host by its exact name only, never the rest of youtube.com.
        ("https://www.youtube.com/watch?v=x", "host_not_allowed"),
        ("https://youtube.com/a.jpg", "host_not_allowed"),
        ("https://evil.img.youtube.com/a.jpg", "host_not_allowed"),
        ("https://img.youtube.com.evil.com/a.jpg", "host_not_allowed"),
        ("https://net/a.jpg", "host_not_allowed"),
        ("https://fbcdn.net@evil.com/a.jpg", "credentials_not_allowed"),
        ("https://evil.com\\@fbcdn.net/a.jpg", "credentials_not_allowed"),
        ("https://user:pw@fbcdn.net/a.jpg", "credentials_not_allowed"),
        ("https://127.0.0.1/a.jpg", "host_not_allowed"),
        ("https://[::1]/a.jpg", "host_not_allowed"),
        ("https://fbсdn.net/a.jpg", "host_not_allowed"),  # Cyrillic "с"
        ("http://fbcdn.net/a.jpg", "scheme_not_allowed"),
        ("ftp://fbcdn.net/a.jpg", "scheme_not_allowed"),
        ("file:///etc/passwd", "scheme_not_allowed"),
        ("//fbcdn.net/a.jpg", "scheme_not_allowed"),
        ("https://fbcdn.net:8443/a.jpg", "port_not_allowed"),
        ("https:///a.jpg", "invalid_url"),
        ("https://fbcdn.net/" + "a" * 5000, "invalid_url"),
    ],
)
def test_refused_urls(url: str, code: str) -> None:
    with pytest.raises(MediaProxyError) as info:
        check_url(url, SUFFIXES)
    assert (info.value.status, info.value.code) == (400, code)
    assert str(info.value) == info.value.message


async def test_configured_suffixes_extend_the_allow_list(rig: Rig) -> None:
    with pytest.raises(MediaProxyError):
        check_url("https://img.example-cdn.net/a.png", SUFFIXES)
    proxy = rig.proxy(extra_suffixes=[".Example-CDN.net."])
    assert {"ytimg.com", "ggpht.com", "example-cdn.net"} <= set(proxy.suffixes)
    image = await proxy.fetch("https://img.example-cdn.net/a.png")
    assert image.body == PNG


def test_single_label_suffix_is_rejected(rig: Rig) -> None:
    with pytest.raises(ValueError, match="dot"):
        rig.proxy(extra_suffixes=["com"])


# --- address checks -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "ip",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "127.0.0.1",
        "127.8.8.8",
        "169.254.169.254",
        "224.0.0.1",
        "239.255.255.250",
        UNSPECIFIED_V4,
        "0.1.2.3",
        "100.64.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "::",
        "::1",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "fd12:3456::1",
        "fec0::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "::127.0.0.1",
        "64:ff9b::7f00:1",
        "2002:7f00:1::1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        "2001:db8::1",
        "not-an-ip",
        "",
    ],
)
def test_non_public_addresses(ip: str) -> None:
    assert not is_public_address(ip)


@pytest.mark.parametrize(
    "ip", [PUBLIC_V4, "8.8.8.8", PUBLIC_V6, "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses(ip: str) -> None:
    assert is_public_address(ip)


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "10.0.0.7",
        "169.254.169.254",
        "224.0.0.1",
        UNSPECIFIED_V4,
        "::",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
    ],
)
async def test_allowed_host_resolving_inside_is_refused(rig: Rig, ip: str) -> None:
    rig.dns.records["p16.tiktokcdn.com"] = [ip]
    error = await refused(rig.proxy(), "https://p16.tiktokcdn.com/a.png")
    assert (error.status, error.code) == (400, "address_not_allowed")
    assert rig.upstream.requests == []


async def test_any_internal_record_taints_the_answer(rig: Rig) -> None:
    rig.dns.records["p16.tiktokcdn.com"] = [PUBLIC_V4, "10.0.0.1"]
    error = await refused(rig.proxy(), "https://p16.tiktokcdn.com/a.png")
    assert error.code == "address_not_allowed"
    assert rig.upstream.requests == []


async def test_resolution_failure_is_upstream_error(rig: Rig) -> None:
    async def failing(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    proxy = MediaProxy(http=rig.client, resolver=failing)
    error = await refused(proxy, "https://p16.tiktokcdn.com/a.png")
    assert (error.status, error.code) == (502, "resolve_failed")
    rig.dns.records["p16.tiktokcdn.com"] = []
    error = await refused(rig.proxy(), "https://p16.tiktokcdn.com/a.png")
    assert (error.status, error.code) == (502, "resolve_failed")


# --- connection pinning -------------------------------------------------------------------


async def test_request_goes_to_validated_ip_with_original_host_and_sni(rig: Rig) -> None:
    rig.dns.records["p16-sign.tiktokcdn.com"] = [PUBLIC_V4]
    image = await rig.proxy().fetch("https://p16-sign.tiktokcdn.com/obj/x.png?sig=abc#frag")
    assert image.body == PNG
    assert rig.dns.lookups == [("p16-sign.tiktokcdn.com", 443)]
    (request,) = rig.upstream.requests
    assert request.url.host == PUBLIC_V4
    assert request.url.scheme == "https"
    assert request.url.raw_path == b"/obj/x.png?sig=abc"
    assert request.headers["host"] == "p16-sign.tiktokcdn.com"
    assert request.extensions["sni_hostname"] == "p16-sign.tiktokcdn.com"
    assert request.extensions["timeout"]["connect"] == 5.0


async def test_a_youtube_thumbnail_on_img_youtube_com_is_fetched(rig: Rig) -> None:
    rig.dns.records["img.youtube.com"] = [PUBLIC_V4]
    image = await rig.proxy().fetch("https://img.youtube.com/vi/Kq7vX2mLp9A/maxresdefault.jpg")
    assert image.body == PNG
    (request,) = rig.upstream.requests
    assert request.headers["host"] == "img.youtube.com"


async def test_ipv6_validated_address_is_bracketed(rig: Rig) -> None:
    rig.dns.records["i.ytimg.com"] = [PUBLIC_V6]
    await rig.proxy().fetch("https://i.ytimg.com/vi/x/hqdefault.jpg")
    (request,) = rig.upstream.requests
    assert request.url.host == PUBLIC_V6
    assert str(request.url).startswith(f"https://[{PUBLIC_V6}]/vi/")
    assert request.headers["host"] == "i.ytimg.com"


async def test_falls_back_to_next_validated_address_on_connect_error(rig: Rig) -> None:
    rig.dns.records["i.ytimg.com"] = [PUBLIC_V6, PUBLIC_V4]

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.host == PUBLIC_V6:
            raise httpx.ConnectError("network unreachable", request=request)
        return image_response()

    rig.upstream.routes["i.ytimg.com"] = route
    image = await rig.proxy().fetch("https://i.ytimg.com/vi/x/hqdefault.jpg")
    assert image.body == PNG
    assert [r.url.host for r in rig.upstream.requests] == [PUBLIC_V6, PUBLIC_V4]


async def test_connect_failure_everywhere_is_502(rig: Rig) -> None:
    def route(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    rig.upstream.routes["i.ytimg.com"] = route
    error = await refused(rig.proxy(), "https://i.ytimg.com/a.jpg")
    assert (error.status, error.code) == (502, "upstream_unreachable")


# --- redirects ----------------------------------------------------------------------------


async def test_redirect_within_allow_list_is_followed_and_revalidated(rig: Rig) -> None:
    rig.dns.records["b.cdninstagram.com"] = ["203.0.114.9"]
    rig.upstream.routes["a.fbcdn.net"] = redirect("https://b.cdninstagram.com/final.jpg", 301)
    rig.upstream.routes["b.cdninstagram.com/final.jpg"] = redirect("/real.jpg", 307)
    image = await rig.proxy().fetch("https://a.fbcdn.net/start.jpg")
    assert image.body == PNG
    hosts = [(r.headers["host"], r.url.host, r.url.path) for r in rig.upstream.requests]
    assert hosts == [
        ("a.fbcdn.net", PUBLIC_V4, "/start.jpg"),
        ("b.cdninstagram.com", "203.0.114.9", "/final.jpg"),
        ("b.cdninstagram.com", "203.0.114.9", "/real.jpg"),
    ]
    assert [host for host, _ in rig.dns.lookups] == [
        "a.fbcdn.net",
        "b.cdninstagram.com",
        "b.cdninstagram.com",
    ]


@pytest.mark.parametrize(
    ("location", "code"),
    [
        ("https://evil.com/x.png", "host_not_allowed"),
        ("https://evilfbcdn.net/x.png", "host_not_allowed"),
        ("http://b.fbcdn.net/x.png", "scheme_not_allowed"),
        ("https://169.254.169.254/latest/meta-data/", "host_not_allowed"),
        ("https://b.fbcdn.net:8080/x.png", "port_not_allowed"),
    ],
)
async def test_redirect_to_disallowed_url_is_refused(rig: Rig, location: str, code: str) -> None:
    rig.upstream.routes["a.fbcdn.net"] = redirect(location)
    error = await refused(rig.proxy(), "https://a.fbcdn.net/a.png")
    assert (error.status, error.code) == (400, code)
    assert len(rig.upstream.requests) == 1


async def test_redirect_to_host_resolving_to_loopback_is_refused(rig: Rig) -> None:
    rig.dns.records["rebind.fbcdn.net"] = ["127.0.0.1"]
    rig.upstream.routes["a.fbcdn.net"] = redirect("https://rebind.fbcdn.net/x.png")
    error = await refused(rig.proxy(), "https://a.fbcdn.net/a.png")
    assert (error.status, error.code) == (400, "address_not_allowed")
    assert [r.headers["host"] for r in rig.upstream.requests] == ["a.fbcdn.net"]


async def test_three_redirects_allowed_four_refused(rig: Rig) -> None:
    for i in range(4):
        rig.upstream.routes[f"a.fbcdn.net/{i}"] = redirect(f"/{i + 1}")
    image = await rig.proxy().fetch("https://a.fbcdn.net/1")
    assert image.body == PNG
    assert len(rig.upstream.requests) == 4

    rig.upstream.requests.clear()
    error = await refused(rig.proxy(), "https://a.fbcdn.net/0")
    assert (error.status, error.code) == (502, "too_many_redirects")
    assert len(rig.upstream.requests) == 4  # the 4th redirect is never followed


async def test_redirect_without_location_is_upstream_error(rig: Rig) -> None:
    rig.upstream.routes["a.fbcdn.net"] = lambda _r: httpx.Response(302)
    error = await refused(rig.proxy(), "https://a.fbcdn.net/a.png")
    assert (error.status, error.code) == (502, "bad_redirect")


async def test_upstream_error_status_is_502(rig: Rig) -> None:
    rig.upstream.routes["a.fbcdn.net"] = lambda _r: httpx.Response(404, text="nope")
    error = await refused(rig.proxy(), "https://a.fbcdn.net/a.png")
    assert (error.status, error.code) == (502, "upstream_status")


# --- size ---------------------------------------------------------------------------------


async def test_exactly_max_bytes_is_accepted(rig: Rig) -> None:
    rig.upstream.routes["a.fbcdn.net"] = lambda _r: image_response(b"x" * 5 * MB)
    image = await rig.proxy().fetch("https://a.fbcdn.net/a.png")
    assert len(image.body) == 5 * MB


async def test_truthful_content_length_over_limit_is_refused(rig: Rig) -> None:
    rig.upstream.routes["a.fbcdn.net"] = lambda _r: image_response(b"x" * (5 * MB + 1))
    error = await refused(rig.proxy(), "https://a.fbcdn.net/a.png")
    assert (error.status, error.code) == (413, "too_large")


def endless_body(pulled: list[int]) -> Callable[[httpx.Request], httpx.Response]:
    async def chunks() -> AsyncIterator[bytes]:
        while True:
            pulled[0] += 1
            yield b"x" * 65536

    return lambda _r: httpx.Response(200, content=chunks(), headers={"Content-Type": "image/png"})


async def test_missing_content_length_is_capped_while_streaming(rig: Rig) -> None:
    pulled = [0]
    rig.upstream.routes["a.fbcdn.net"] = endless_body(pulled)
    error = await refused(rig.proxy(), "https://a.fbcdn.net/a.png")
    assert (error.status, error.code) == (413, "too_large")
    # 5 MB is 80 chunks of 64 KiB; reading stopped on the first chunk past it.
    assert pulled[0] == 81


async def test_lying_content_length_is_capped_while_streaming(rig: Rig) -> None:
    body = b"x" * (6 * MB)
    rig.upstream.routes["a.fbcdn.net"] = lambda _r: image_response(
        body, headers={"Content-Length": "10"}
    )
    error = await refused(rig.proxy(), "https://a.fbcdn.net/a.png")
    assert (error.status, error.code) == (413, "too_large")


async def test_configurable_max_bytes(rig: Rig) -> None:
    error = await refused(rig.proxy(max_bytes=10), "https://a.fbcdn.net/a.png")
    assert error.status == 413


# --- content type / encoding --------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html",
        "text/html; charset=utf-8",
        "image/svg+xml",
        "IMAGE/SVG+XML; charset=utf-8",
        "application/octet-stream",
        "",
        "image/",
        "image/png,text/html",
    ],
)
async def test_non_images_and_svg_are_refused(rig: Rig, content_type: str) -> None:
    rig.upstream.routes["a.fbcdn.net"] = lambda _r: image_response(content_type=content_type)
    error = await refused(rig.proxy(), "https://a.fbcdn.net/a.png")
    assert (error.status, error.code) == (415, "not_an_image")


async def test_missing_content_type_is_refused(rig: Rig) -> None:
    rig.upstream.routes["a.fbcdn.net"] = lambda _r: httpx.Response(200, content=PNG)
    error = await refused(rig.proxy(), "https://a.fbcdn.net/a.png")
    assert error.status == 415


@pytest.mark.parametrize("content_type", ["image/jpeg", "image/webp", "Image/PNG; q=1"])
async def test_raster_images_are_served_with_safe_headers(rig: Rig, content_type: str) -> None:
    rig.upstream.routes["a.fbcdn.net"] = lambda _r: image_response(content_type=content_type)
    image = await rig.proxy().fetch("https://a.fbcdn.net/a.png")
    assert image.content_type == content_type.split(";")[0].lower()
    assert image.headers["Content-Type"] == image.content_type
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert image.headers["ETag"].startswith('"')
    assert image.headers["Cache-Control"] == "private, max-age=3600"


async def test_compressed_responses_are_refused(rig: Rig) -> None:
    async def gzipped() -> AsyncIterator[bytes]:
        yield gzip.compress(b"\0" * MB)

    rig.upstream.routes["a.fbcdn.net"] = lambda _r: httpx.Response(
        200, content=gzipped(), headers={"Content-Type": "image/png", "Content-Encoding": "gzip"}
    )
    error = await refused(rig.proxy(), "https://a.fbcdn.net/a.png")
    assert (error.status, error.code) == (502, "unsupported_encoding")
    assert rig.upstream.requests[0].headers["accept-encoding"] == "identity"


# --- credentials --------------------------------------------------------------------------


async def test_no_cookies_or_auth_are_sent_or_accepted() -> None:
    upstream = Upstream()
    upstream.routes["a.fbcdn.net"] = lambda _r: image_response(
        headers={"Set-Cookie": "tracker=1; Path=/"}
    )
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(upstream.handle),
        headers={"Authorization": "Bearer gateway-secret", "X-Api-Key": "k"},
        cookies={"pulse_session": "s3cret"},
        auth=("svc", "pw"),
    ) as client:
        proxy = MediaProxy(http=client, resolver=FakeDns())
        await proxy.fetch("https://a.fbcdn.net/1.png")
        await proxy.fetch("https://a.fbcdn.net/2.png")
        # The upstream cookie was not stored (the caller's own cookie is left alone).
        assert [cookie.name for cookie in client.cookies.jar] == ["pulse_session"]
    assert len(upstream.requests) == 2
    for request in upstream.requests:
        sent = {name.lower() for name in request.headers}
        assert "cookie" not in sent
        assert "authorization" not in sent
        assert "x-api-key" not in sent
        assert "s3cret" not in str(request.headers.raw)


# --- timeout ------------------------------------------------------------------------------


async def test_slow_upstream_times_out_with_504(rig: Rig) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(10)
        return image_response()

    async with httpx.AsyncClient(transport=httpx.MockTransport(slow)) as client:
        proxy = MediaProxy(http=client, resolver=rig.dns, timeout_s=0.05)
        error = await refused(proxy, "https://a.fbcdn.net/a.png")
    assert (error.status, error.code) == (504, "timeout")


async def test_slow_body_counts_against_the_total_timeout(rig: Rig) -> None:
    async def drip() -> AsyncIterator[bytes]:
        for _ in range(100):
            await asyncio.sleep(0.01)
            yield b"x"

    rig.upstream.routes["a.fbcdn.net"] = lambda _r: httpx.Response(
        200, content=drip(), headers={"Content-Type": "image/png"}
    )
    error = await refused(rig.proxy(timeout_s=0.1), "https://a.fbcdn.net/a.png")
    assert error.status == 504


async def test_slow_dns_times_out(rig: Rig) -> None:
    async def hanging(host: str, port: int) -> list[str]:
        await asyncio.sleep(10)
        return [PUBLIC_V4]

    proxy = MediaProxy(http=rig.client, resolver=hanging, timeout_s=0.05)
    error = await refused(proxy, "https://a.fbcdn.net/a.png")
    assert error.status == 504


# --- cache --------------------------------------------------------------------------------


async def test_second_fetch_is_served_from_cache(rig: Rig) -> None:
    proxy = rig.proxy()
    first = await proxy.fetch("https://a.fbcdn.net/a.png")
    second = await proxy.fetch("https://a.fbcdn.net/a.png#ignored-fragment")
    assert second is first
    assert len(rig.upstream.requests) == 1
    assert len(rig.dns.lookups) == 1


async def test_cache_entry_expires_after_ttl(rig: Rig) -> None:
    proxy = rig.proxy(cache_ttl_s=60)
    await proxy.fetch("https://a.fbcdn.net/a.png")
    rig.clock.now += 59.9
    await proxy.fetch("https://a.fbcdn.net/a.png")
    assert len(rig.upstream.requests) == 1
    rig.clock.now += 0.1
    await proxy.fetch("https://a.fbcdn.net/a.png")
    assert len(rig.upstream.requests) == 2


async def test_cache_evicts_least_recently_used_by_size(rig: Rig) -> None:
    body = b"x" * 40_000
    rig.upstream.routes["a.fbcdn.net"] = lambda _r: image_response(body)
    proxy = rig.proxy(cache_bytes=100_000)  # room for two ~41 kB entries, not three

    def fetched() -> Iterator[str]:
        return (r.url.path for r in rig.upstream.requests)

    await proxy.fetch("https://a.fbcdn.net/1.png")
    await proxy.fetch("https://a.fbcdn.net/2.png")
    await proxy.fetch("https://a.fbcdn.net/1.png")  # hit; 1 becomes most recent
    await proxy.fetch("https://a.fbcdn.net/3.png")  # evicts 2
    assert list(fetched()) == ["/1.png", "/2.png", "/3.png"]
    await proxy.fetch("https://a.fbcdn.net/1.png")
    await proxy.fetch("https://a.fbcdn.net/3.png")
    assert list(fetched()) == ["/1.png", "/2.png", "/3.png"]
    await proxy.fetch("https://a.fbcdn.net/2.png")
    assert list(fetched()) == ["/1.png", "/2.png", "/3.png", "/2.png"]


async def test_image_larger_than_cache_is_served_but_not_cached(rig: Rig) -> None:
    proxy = rig.proxy(cache_bytes=500)
    for _ in range(2):
        image = await proxy.fetch("https://a.fbcdn.net/a.png")
        assert isinstance(image, ProxiedImage)
    assert len(rig.upstream.requests) == 2


async def test_failures_are_not_cached(rig: Rig) -> None:
    rig.upstream.routes["a.fbcdn.net"] = lambda _r: httpx.Response(503)
    proxy = rig.proxy()
    await refused(proxy, "https://a.fbcdn.net/a.png")
    rig.upstream.routes["a.fbcdn.net"] = lambda _r: image_response()
    assert (await proxy.fetch("https://a.fbcdn.net/a.png")).body == PNG
    assert len(rig.upstream.requests) == 2
