"""SSRF-hardened proxy for platform-CDN images (design/security.md, "Media proxy"): the
gateway's /api/media-proxy and each share link's own media route use it."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import re
import socket
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from http.cookiejar import Cookie, DefaultCookiePolicy
from urllib.request import Request as UrllibRequest

import httpx

__all__ = [
    "DEFAULT_SUFFIXES",
    "EXACT_HOSTS",
    "MediaProxy",
    "MediaProxyError",
    "ProxiedImage",
    "Resolver",
    "check_url",
    "is_public_address",
]

Resolver = Callable[[str, int], Awaitable[list[str]]]
Clock = Callable[[], float]

DEFAULT_SUFFIXES: tuple[str, ...] = (
    "tiktokcdn.com",
    "tiktokcdn-us.com",
    "cdninstagram.com",
    "fbcdn.net",
    "ytimg.com",
    "ggpht.com",
)
# Hosts allowed by exact name only, where a suffix would admit far more than images:
# img.youtube.com is YouTube's own thumbnail host (ScrapeCreators returns its URLs), while
# the rest of youtube.com serves pages, redirects and user content.
EXACT_HOSTS: frozenset[str] = frozenset({"img.youtube.com"})
MAX_REDIRECTS = 3
MAX_URL_LENGTH = 4096
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# A token-shaped image subtype; anything else (including parameters smuggled without `;`) is
# refused rather than guessed at.
_IMAGE_TYPE = re.compile(r"image/[a-z0-9][a-z0-9.+-]*")
# Charged per cache entry on top of the body so that a flood of tiny (or empty) images still
# fills the byte budget and cannot grow the dict without bound.
_ENTRY_OVERHEAD = 1024
# IPv4 addresses embedded in IPv6 forms that a host will actually route to that IPv4 address
# (IPv4-mapped is handled via `ipv4_mapped`); their inner address is what must be public.
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")


class MediaProxyError(Exception):
    """A refused or failed proxy fetch; `status` is the HTTP status the route should answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _refused(code: str, message: str) -> MediaProxyError:
    return MediaProxyError(400, code, message)


def _upstream(code: str, message: str) -> MediaProxyError:
    return MediaProxyError(502, code, message)


@dataclass(frozen=True)
class ProxiedImage:
    body: bytes
    content_type: str
    etag: str
    max_age: int

    @property
    def headers(self) -> dict[str, str]:
        """Headers for the route; nosniff + sandbox CSP so the bytes are only ever an image."""
        return {
            "Content-Type": self.content_type,
            "ETag": self.etag,
            "Cache-Control": f"private, max-age={self.max_age}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        }


def _normalize_suffix(suffix: str) -> str:
    return suffix.strip().strip(".").lower()


def _host_allowed(host: str, suffixes: Sequence[str]) -> bool:
    # Exact host or a dot-separated subdomain: a bare `endswith` would admit `evilfbcdn.net`,
    # and matching on the whole name (not a prefix) refuses `fbcdn.net.evil.com`.
    if host in EXACT_HOSTS:
        return True
    for raw in suffixes:
        suffix = _normalize_suffix(raw)
        if suffix and (host == suffix or host.endswith("." + suffix)):
            return True
    return False


def _check(url: httpx.URL, suffixes: Sequence[str]) -> str:
    if url.scheme != "https":
        raise _refused("scheme_not_allowed", "only https URLs may be proxied")
    if url.userinfo:
        # Credentials in the URL would be turned into an Authorization header by httpx.
        raise _refused("credentials_not_allowed", "URLs with credentials may not be proxied")
    if url.port is not None and url.port != 443:
        # Platform CDNs serve on 443; other ports only widen what the proxy can be aimed at.
        raise _refused("port_not_allowed", "only the default https port may be proxied")
    # raw_host is the IDNA (ASCII) form, so a Unicode look-alike cannot match an ASCII suffix.
    host = url.raw_host.decode("ascii").lower().rstrip(".")
    if not host:
        raise _refused("invalid_url", "URL has no host")
    if not _host_allowed(host, suffixes):
        raise _refused("host_not_allowed", f"host {host!r} is not an allowed platform CDN")
    return host


def _parse(url: str) -> httpx.URL:
    if len(url) > MAX_URL_LENGTH:
        raise _refused("invalid_url", "URL is too long")
    try:
        return httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise _refused("invalid_url", "URL cannot be parsed") from exc


def check_url(url: str, suffixes: Sequence[str]) -> str:
    """Return the (lower-case, ASCII) host of `url`, or raise a 400 MediaProxyError."""
    return _check(_parse(url), suffixes)


def _is_public_v4(addr: ipaddress.IPv4Address) -> bool:
    # is_global already excludes RFC 1918, 0.0.0.0/8, loopback, link-local, 100.64/10 (CGNAT),
    # documentation and 240/4; multicast is "global" to ipaddress, so it is refused explicitly.
    return addr.is_global and not (
        addr.is_multicast
        or addr.is_reserved
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_unspecified
        or addr.is_private
    )


def is_public_address(ip: str) -> bool:
    """True only for a publicly routable unicast address; unparsable input is not public."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv4Address):
        return _is_public_v4(addr)
    # These IPv6 forms reach an IPv4 address (::ffff:127.0.0.1 is loopback to the kernel), so
    # the embedded address decides; ipaddress flags the wrappers themselves as reserved.
    if addr.ipv4_mapped is not None:
        return _is_public_v4(addr.ipv4_mapped)
    if addr in _NAT64_WELL_KNOWN:
        return _is_public_v4(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
    if addr.sixtofour is not None and not _is_public_v4(addr.sixtofour):
        return False
    if addr.teredo is not None:
        return False
    return addr.is_global and not (
        addr.is_multicast
        or addr.is_reserved
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_site_local
        or addr.is_unspecified
        or addr.is_private
    )


async def _system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _RefuseAllCookies(DefaultCookiePolicy):
    """Jar policy that neither stores nor returns cookies."""

    def set_ok(self, cookie: Cookie, request: UrllibRequest) -> bool:
        return False

    def return_ok(self, cookie: Cookie, request: UrllibRequest) -> bool:
        return False


@dataclass
class _Entry:
    image: ProxiedImage
    expires_at: float
    cost: int


class _ImageCache:
    """LRU keyed by URL, bounded in bytes, with a fixed TTL per entry."""

    def __init__(self, max_bytes: int, ttl_s: float, clock: Clock) -> None:
        self._max_bytes = max_bytes
        self._ttl_s = ttl_s
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._bytes = 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> ProxiedImage | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._clock() >= entry.expires_at:
            self._remove(key)
            return None
        self._entries.move_to_end(key)
        return entry.image

    def put(self, key: str, image: ProxiedImage) -> None:
        cost = len(image.body) + len(key) + _ENTRY_OVERHEAD
        if cost > self._max_bytes or self._ttl_s <= 0:
            return
        self._remove(key)
        self._entries[key] = _Entry(image, self._clock() + self._ttl_s, cost)
        self._bytes += cost
        while self._bytes > self._max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.cost

    def _remove(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry.cost


class MediaProxy:
    """Fetches allow-listed CDN images; `http` is owned by the proxy (its jar refuses cookies)."""

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        resolver: Resolver | None = None,
        extra_suffixes: Sequence[str] = (),
        max_bytes: int = 5 * 1024 * 1024,
        timeout_s: float = 5.0,
        cache_bytes: int = 64 * 1024 * 1024,
        cache_ttl_s: float = 3600,
        clock: Clock = time.monotonic,
    ) -> None:
        extras = tuple(_normalize_suffix(s) for s in extra_suffixes)
        for suffix in extras:
            # A single-label suffix ("com") would turn the allow-list into an allow-all.
            if "." not in suffix:
                raise ValueError(f"media proxy suffix {suffix!r} must contain a dot")
        self._http = http
        # Upstream Set-Cookie must not accumulate in the client (nor ever ride along later).
        http.cookies.jar.set_policy(_RefuseAllCookies())
        self._resolver: Resolver = resolver or _system_resolver
        self._suffixes: tuple[str, ...] = tuple(dict.fromkeys(DEFAULT_SUFFIXES + extras))
        self._max_bytes = max_bytes
        self._timeout_s = timeout_s
        self._cache = _ImageCache(cache_bytes, cache_ttl_s, clock)
        self._max_age = int(cache_ttl_s)

    @property
    def suffixes(self) -> tuple[str, ...]:
        return self._suffixes

    async def fetch(self, url: str) -> ProxiedImage:
        parsed = _parse(url)
        _check(parsed, self._suffixes)
        key = str(parsed.copy_with(fragment=None))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        try:
            # One budget for DNS, every hop and the body, so a slow-drip upstream cannot hold a
            # gateway worker past the limit by staying just under per-read timeouts.
            async with asyncio.timeout(self._timeout_s):
                image = await self._fetch_following(parsed)
        except TimeoutError:
            raise MediaProxyError(504, "timeout", "upstream did not answer in time") from None
        self._cache.put(key, image)
        return image

    async def _fetch_following(self, url: httpx.URL) -> ProxiedImage:
        # Redirects are followed by hand because every hop must pass the same checks as the
        # first URL: an allowed CDN redirecting to http://169.254.169.254/ is the classic SSRF.
        for _ in range(MAX_REDIRECTS + 1):
            host = _check(url, self._suffixes)
            addresses = await self._resolve(host, url.port or 443)
            response = await self._send(url, host, addresses)
            try:
                if response.status_code in _REDIRECT_STATUSES:
                    url = self._redirect_target(url, response)
                    continue
                return await self._read_image(response)
            finally:
                await response.aclose()
        raise _upstream("too_many_redirects", f"more than {MAX_REDIRECTS} redirects")

    async def _resolve(self, host: str, port: int) -> list[str]:
        try:
            addresses = await self._resolver(host, port)
        except OSError as exc:
            raise _upstream("resolve_failed", f"cannot resolve {host!r}") from exc
        if not addresses:
            raise _upstream("resolve_failed", f"cannot resolve {host!r}")
        # Every answer must be public, not just the one we pick: an attacker-run zone could mix
        # a public and an internal record and rely on the client choosing the latter.
        if not all(is_public_address(address) for address in addresses):
            raise _refused("address_not_allowed", f"host {host!r} resolves to a non-public address")
        # A scope id ("fe80::1%eth0") cannot survive to here, but strip defensively for the URL.
        return [address.split("%", 1)[0] for address in addresses]

    async def _send(self, url: httpx.URL, host: str, addresses: list[str]) -> httpx.Response:
        last_error: httpx.ConnectError | None = None
        for address in addresses:
            request = self._build_request(url, host, address)
            try:
                # stream=True so the size cap is enforced while reading, not after buffering;
                # auth=None so a client-level auth is never applied to upstream CDNs.
                return await self._http.send(
                    request, stream=True, auth=None, follow_redirects=False
                )
            except httpx.ConnectError as exc:
                # Nothing was sent yet, so trying the next validated address is safe (e.g. an
                # AAAA record on a host without IPv6 connectivity).
                last_error = exc
            except httpx.TimeoutException as exc:
                raise MediaProxyError(504, "timeout", "upstream did not answer in time") from exc
            except httpx.HTTPError as exc:
                raise _upstream("upstream_unreachable", f"cannot reach {host!r}") from exc
        raise _upstream("upstream_unreachable", f"cannot connect to {host!r}") from last_error

    def _build_request(self, url: httpx.URL, host: str, address: str) -> httpx.Request:
        # DNS rebinding: if we handed the name to httpx it would resolve it again, and a
        # short-TTL record could answer 127.0.0.1 the second time, after our check passed. So
        # the TCP connection goes to the IP we validated, while TLS SNI (and hence certificate
        # verification) and the Host header keep the original name, so the CDN still sees a
        # normal request and a certificate for the name is still required.
        # (Through an HTTP CONNECT proxy httpcore verifies against the IP instead: fails closed.)
        # The Request is built directly, not via client.build_request, so the client's default
        # headers and cookies (possibly the gateway's own credentials) are never merged in.
        headers = {
            "Host": host,
            "Accept": "image/*",
            # Compressed bodies would be inflated before our byte cap sees them (a gzip bomb);
            # images are already compressed, so ask for and accept only identity.
            "Accept-Encoding": "identity",
            "User-Agent": "Pulse-MediaProxy/1.0",
        }
        return httpx.Request(
            "GET",
            url.copy_with(host=address, fragment=None),
            headers=headers,
            extensions={
                "sni_hostname": host,
                "timeout": httpx.Timeout(self._timeout_s).as_dict(),
            },
        )

    @staticmethod
    def _redirect_target(url: httpx.URL, response: httpx.Response) -> httpx.URL:
        location = response.headers.get("location")
        if not location:
            raise _upstream("bad_redirect", "redirect without a Location")
        try:
            # Join against the logical URL (original host), never the IP we connected to.
            return url.join(location).copy_with(fragment=None)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise _upstream("bad_redirect", "redirect Location cannot be parsed") from exc

    async def _read_image(self, response: httpx.Response) -> ProxiedImage:
        if response.status_code != 200:
            raise _upstream("upstream_status", f"upstream answered {response.status_code}")
        media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        # SVG is an image/* type that can carry script, so it is refused along with non-images.
        if not _IMAGE_TYPE.fullmatch(media_type) or "svg" in media_type:
            raise MediaProxyError(
                415, "not_an_image", f"content type {media_type or 'missing'!r} is not allowed"
            )
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise _upstream("unsupported_encoding", f"content encoding {encoding!r} refused")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise self._too_large()
        # The declared length is only an early exit: it may lie or be absent (chunked), so the
        # cap is enforced on the bytes actually read, and reading stops as soon as it is passed.
        chunks: list[bytes] = []
        received = 0
        try:
            # aiter_bytes (not aiter_raw) so bodies an in-process transport already buffered are
            # readable too; with encodings refused above it only ever applies identity.
            async for chunk in response.aiter_bytes():
                received += len(chunk)
                if received > self._max_bytes:
                    raise self._too_large()
                chunks.append(chunk)
        except httpx.TimeoutException as exc:
            raise MediaProxyError(504, "timeout", "upstream did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise _upstream("upstream_read_failed", "upstream body could not be read") from exc
        body = b"".join(chunks)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        return ProxiedImage(body=body, content_type=media_type, etag=etag, max_age=self._max_age)

    def _too_large(self) -> MediaProxyError:
        return MediaProxyError(413, "too_large", f"image exceeds {self._max_bytes} bytes")
