"""One settings class per service, read from the environment with per-service overrides."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Self
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SERVICE_TOKEN = "dev-service-token"  # noqa: S105 - refused outside development


class ServiceSettings(BaseSettings):
    """Shared keys come from `PULSE_<KEY>`; `PULSE_<SERVICE>_<KEY>` overrides them per service.

    So one `.env` runs everything locally while ops can point any service at its own database
    or broker without code changes.
    """

    model_config = SettingsConfigDict(env_prefix="PULSE_", extra="ignore")

    service: ClassVar[str] = "pulse"
    default_port: ClassVar[int] = 8000
    # The schema the service owns; its name when None (design/README.md: gateway owns "catalog").
    schema_name: ClassVar[str | None] = None
    # Whether the service takes session-level advisory locks (db.create_pool says why it asks).
    session_locks: ClassVar[bool] = False

    env: Literal["development", "test", "production"] = "production"
    # The cluster URL: used to derive the service's own DSN (its role as user) and, for
    # migrations, as the administrator connection that creates the role and schema.
    database_url: str = "postgresql://postgres@127.0.0.1:5432/pulse"
    service_database_url: str | None = None  # PULSE_<SERVICE>_DATABASE_URL
    database_password: SecretStr | None = None  # password of the service role, when not trust auth
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    # Redis holds the API rate limits that every replica shares (pulse_runtime.rate_limit);
    # the prefix keeps one deployment's (or one test run's) counts apart from another's.
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_key_prefix: str = "pulse:rate:"
    # How long a request waits for Redis before it passes unchecked (rate_limit.py).
    redis_timeout_s: float = 0.25
    service_token: SecretStr = SecretStr(DEV_SERVICE_TOKEN)
    host: str = "127.0.0.1"
    port: int = 0
    log_level: str = "INFO"
    pool_min_size: int = 1
    pool_max_size: int = 10
    prefetch: int = 32
    # Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated addresses
    # or networks, e.g. the ingress). Empty: nobody's; the connecting address is the client.
    trusted_proxies: str = ""

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        """Settings from `environ` (default: the process environment), then `overrides`."""
        env = os.environ if environ is None else environ
        prefix = f"PULSE_{cls.service.upper()}_"
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            for key in (f"{prefix}{name.upper()}", f"PULSE_{name.upper()}"):
                if key in env:
                    values[name] = env[key]
                    break
        if f"{prefix}DATABASE_URL" in env:
            # The service's own DSN; the shared URL stays the cluster/administrator one.
            values["service_database_url"] = env[f"{prefix}DATABASE_URL"]
            if "PULSE_DATABASE_URL" in env:
                values["database_url"] = env["PULSE_DATABASE_URL"]
            else:
                values.pop("database_url", None)
        return cls(**{**values, **overrides})

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Self:
        if self.env == "production" and (
            self.service_token.get_secret_value() in ("", DEV_SERVICE_TOKEN)
        ):
            raise ValueError(
                "PULSE_SERVICE_TOKEN must be set to a real secret outside development "
                "(set PULSE_ENV=development for local runs)"
            )
        if self.env == "production":
            self._refuse_default_credentials()
        if self.port == 0:
            self.port = self.default_port
        self.trusted_proxy_list()  # refuses a malformed list at start-up, naming the setting
        return self

    def trusted_proxy_list(self) -> list[str]:
        """The proxies as uvicorn takes them; every entry must be an address or a network."""
        found = [part.strip() for part in self.trusted_proxies.split(",") if part.strip()]
        for entry in found:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(
                    f"PULSE_TRUSTED_PROXIES: {entry!r} is not an IP address or network "
                    "(trusting every peer would let any client pick its own address)"
                ) from exc
        return found

    def _refuse_default_credentials(self) -> None:
        """RabbitMQ's guest:guest and a PostgreSQL role without a password are what anyone on
        the network tries first; production names the setting instead of starting with them."""
        own = f"PULSE_{self.service.upper()}_"
        amqp = urlsplit(self.amqp_url)
        if (amqp.username or "guest") == "guest" and (amqp.password or "guest") == "guest":
            raise ValueError(
                f"PULSE_AMQP_URL (or {own}AMQP_URL) uses RabbitMQ's default guest:guest "
                "account; give the service its own RabbitMQ user and password outside development"
            )
        dsn = urlsplit(self.dsn)
        if not dsn.password and "password=" not in dsn.query:
            raise ValueError(
                f"the PostgreSQL connection of {self.role} has no password: set "
                f"{own}DATABASE_PASSWORD (or a password in {own}DATABASE_URL) outside development"
            )

    @property
    def db_schema(self) -> str:
        return self.schema_name or self.service

    @property
    def role(self) -> str:
        return f"pulse_{self.service}"

    @property
    def dsn(self) -> str:
        """The service's own connection: its role, so it can write only its own schema."""
        if self.service_database_url:
            return self.service_database_url
        password = self.database_password.get_secret_value() if self.database_password else None
        return with_user(self.database_url, self.role, password)


def with_user(url: str, user: str, password: str | None = None) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = quote(user, safe="")
    if password:
        netloc += ":" + quote(password, safe="")
    netloc += "@" + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def with_vhost(url: str, vhost: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(vhost, safe=""), "", ""))
