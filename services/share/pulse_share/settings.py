"""The share service's settings: its public address, the public routes' rate limits, the
reporter that renders its PDFs, and who may read its operator routes."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from pulse_runtime.settings import ServiceSettings


class ShareSettings(ServiceSettings):
    service: ClassVar[str] = "share"
    default_port: ClassVar[int] = 8002

    # Where clients reach this service: the base of the links handed out.
    public_url: str = "http://127.0.0.1:8002"
    # Token buckets (design/security.md: rate-limited per address and per link).
    rate_address_burst: int = 60
    rate_address_per_s: float = 1.0
    rate_link_burst: int = 120
    rate_link_per_s: float = 2.0
    # Password tries on one link: argon2 costs the server, and guesses must stay slow.
    rate_unlock_burst: int = 10
    rate_unlock_per_s: float = 0.1
    unlock_ttl_s: int = 3600
    # CDN suffixes the media proxy admits beyond the platform defaults (comma-separated).
    media_extra_suffixes: str = ""
    # The reporter, which renders the client PDF and hands over its file (internal HTTP).
    reporter_url: str = "http://127.0.0.1:8005"
    reporter_timeout_s: float = Field(default=30.0, gt=0)
    # Peers (addresses or networks) that may read /metrics, /openapi.json and /docs on this
    # public port; empty: nobody (pulse_runtime.operator_routes).
    metrics_networks: str = ""
