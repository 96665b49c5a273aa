"""Operators' routes kept off a public port: metrics and API documents for a named network only.

The share service faces the internet. Its Prometheus metrics (route names, counts, latencies)
and its OpenAPI document (every route, the internal ones included) are for operators, so
there they answer only to peers inside the configured networks, and 404 to everybody else,
exactly like a route that does not exist.
"""

from __future__ import annotations

import ipaddress

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import error_body

OPERATOR_PATHS = frozenset({"/metrics", "/openapi.json", "/docs", "/docs/asyncapi"})
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(spec: str, setting: str) -> tuple[Network, ...]:
    """`10.0.0.0/8,127.0.0.1`: addresses or networks, comma-separated; empty: none."""
    found: list[Network] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        try:
            found.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise ValueError(f"{setting}: {part!r} is not an IP address or network") from exc
    return tuple(found)


class OperatorRoutesOnly:
    """Answers the operator paths only to peers in `networks` (the client address as uvicorn
    gives it, after PULSE_TRUSTED_PROXIES)."""

    def __init__(self, app: ASGIApp, networks: tuple[Network, ...]) -> None:
        self.app = app
        self.networks = networks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") in OPERATOR_PATHS:
            client = scope.get("client")
            if not self._admitted(client[0] if client else None):
                response = JSONResponse(error_body("not_found", "Not Found"), status_code=404)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _admitted(self, host: str | None) -> bool:
        if host is None:
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)
