"""The gateway's settings: the shared service keys plus signing keys, peers and mail."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Self

from pydantic import Field, SecretStr, model_validator

from pulse_runtime.settings import ServiceSettings

DEV_JWT_KEYS = "dev:" + "d" * 40


class GatewaySettings(ServiceSettings):
    service: ClassVar[str] = "gateway"
    default_port: ClassVar[int] = 8000
    schema_name: ClassVar[str | None] = "catalog"

    jwt_keys: SecretStr = SecretStr(DEV_JWT_KEYS)
    public_url: str = "http://127.0.0.1:8000"
    share_public_url: str = "http://127.0.0.1:8002"
    aggregator_url: str = "http://127.0.0.1:8003"
    alerter_url: str = "http://127.0.0.1:8004"
    ingest_url: str = "http://127.0.0.1:8001"
    share_url: str = "http://127.0.0.1:8002"
    reporter_url: str = "http://127.0.0.1:8005"  # report files (jobs go over RabbitMQ)
    peer_timeout_s: float = 3.0
    # Numbers documents each replica holds in memory (read_model.py), at most this many and
    # this many MB of JSON (about a third of their parsed size); the rest are one primary-key
    # read away in catalog.campaign_numbers.
    numbers_cache_size: int = 4096
    numbers_cache_mb: int = 32
    # SMTP server for sign-in links; without one, mail is written as .eml files to mail_dir.
    smtp_url: str | None = None
    mail_from: str = "Pulse <pulse@localhost>"
    mail_dir: Path = Path("var/mail")
    # Extra CDN host suffixes the media proxy may fetch from, comma-separated (security.md).
    media_extra_suffixes: str = ""
    session_days: int = 14
    # How long this process trusts a looked-up session (sessions.py says why so brief): a
    # revoked session keeps working on another replica for at most this long.
    session_cache_ttl_s: float = Field(default=5.0, ge=0, le=10)
    # How often an open event stream asks again whether its credential still reads numbers.
    stream_recheck_s: float = Field(default=15.0, gt=0, le=30)
    # Sign-in links mailed per email address and per client address in the login window.
    email_links_per_account: int = 3
    email_links_per_address: int = 10
    # API requests per minute for each person or API token (seed 001: 100), unless their
    # organization sets its own (Settings → API limit); counted in Redis (rate_limits.py). An
    # organization's own value reaches every replica within api_limit_cache_ttl_s.
    api_requests_per_minute: int = Field(default=100, ge=1)
    api_limit_cache_ttl_s: float = Field(default=5.0, ge=0, le=60)
    login_failures_per_account: int = 5
    login_failures_per_address: int = 20
    login_window_minutes: int = 15
    # How often expired sessions, sign-in links and old failed sign-ins are deleted.
    housekeeping_interval_s: float = Field(default=900.0, gt=0)

    @model_validator(mode="after")
    def _refuse_dev_keys(self) -> Self:
        if self.env == "production" and self.jwt_keys.get_secret_value() == DEV_JWT_KEYS:
            raise ValueError("PULSE_JWT_KEYS must be set outside development")
        return self

    @property
    def secure_cookies(self) -> bool:
        return self.env == "production"
