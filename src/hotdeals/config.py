"""Settings from the environment and a ``.env`` file.

Everything the service reads from outside goes through :func:`get_settings`, so that a typo in a
variable fails at start with one line that names the variable instead of deep inside a request.
``DATABASE_URL`` defaults to a SQLite file so that a fresh clone runs without any server.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import limits
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from hotdeals.errors import ConfigurationError

DEFAULT_DATABASE_URL = "sqlite:///hotdeals.db"


class Settings(BaseSettings):
    """Every setting of the service; the names are the environment variables, case-insensitive."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL; postgresql://user:pw@host:5432/db in production. Several "
        "hosts: ?host=h1:5432&host=h2:5432&target_session_attrs=read-write (the one taking "
        "writes). Through PgBouncer in transaction mode, add &pgbouncer=true.",
    )
    hotdeals_admin_token: SecretStr | None = Field(
        default=None,
        description="Bearer token for the management API and the dashboard; generated if unset.",
    )
    hotdeals_secret_key: SecretStr | None = Field(
        default=None,
        description="Key that signs cookies and tokens; random per process if unset (`hotdeals "
        "serve` generates one for all its workers). Set it when several replicas serve.",
    )
    hotdeals_click_token_ttl_s: int = Field(
        default=86_400,
        ge=60,
        le=90 * 86_400,
        description="How long a rank's click tokens stay valid (seconds; default 24 h).",
    )
    hotdeals_purchase_token_ttl_s: int = Field(
        default=7 * 86_400,
        ge=60,
        le=90 * 86_400,
        description="How long a rank's click token may report a purchase: a checkout can come "
        "days after the click (seconds; default 7 days).",
    )
    hotdeals_cors_origins: str = Field(
        default="",
        description="Comma-separated origins allowed to call the API from a browser.",
    )
    hotdeals_storefront_project: int | None = Field(
        default=None, description="Project shown on the storefront when no ?project= is given."
    )
    hotdeals_pool_size: int = Field(default=10, ge=1, le=200, description="Connections per worker.")
    hotdeals_snapshot_ttl_ms: int = Field(
        default=50,
        ge=0,
        le=60_000,
        description="How long a worker ranks from a cached project snapshot before re-reading it.",
    )
    hotdeals_stats_draws: int = Field(
        default=20_000, ge=1_000, le=1_000_000, description="Monte Carlo draws for P(best)."
    )
    hotdeals_seed: int | None = Field(
        default=None,
        ge=0,
        description="Seed of the ranking's random generator, for reproducible tests and "
        "benchmarks; unset (fresh entropy) in production.",
    )

    # Bounded waits (hotdeals.db.engine, hotdeals.services.learning): docs/scaling.md.
    hotdeals_connect_timeout_s: int = Field(
        default=5, ge=1, le=300, description="Connecting, or waiting for a pooled connection."
    )
    hotdeals_statement_timeout_ms: int = Field(
        default=5_000, ge=0, le=3_600_000, description="Longest SQL statement; 0: none."
    )
    hotdeals_lock_timeout_ms: int = Field(
        default=2_000, ge=0, le=3_600_000, description="Longest wait for a lock; 0: none."
    )
    hotdeals_request_deadline_ms: int = Field(
        default=3_000, ge=10, le=600_000, description="Rank and click answer 503 after this."
    )

    # The door (`hotdeals serve`; hotdeals.http.door, uvicorn's settings): docs/scaling.md.
    hotdeals_max_header_bytes: int = Field(
        default=16_384, ge=1_024, le=1_048_576, description="Request line + headers, bytes (431)."
    )
    hotdeals_max_headers: int = Field(
        default=100, ge=10, le=1_000, description="Header fields per request (431)."
    )
    # Retention by the servers themselves (hotdeals.http.upkeep), as `hotdeals db-retain` does.
    hotdeals_retain_days: int | None = Field(
        default=None,
        ge=1,
        le=36_500,
        description="Servers archive and drop the log's partitions older than this (hourly).",
    )
    hotdeals_retain_export_dir: str | None = Field(
        default=None, description="Where retention first writes each partition's rows (.csv.gz)."
    )
    hotdeals_keepalive_timeout_s: int = Field(
        default=5, ge=1, le=300, description="Idle keep-alive connections close after this."
    )
    hotdeals_header_timeout_s: float = Field(
        default=10.0, gt=0, le=300, description="Time to send a request's head (then closed)."
    )
    hotdeals_body_timeout_s: float = Field(
        default=10.0, gt=0, le=300, description="Time to send a request's body (408)."
    )
    hotdeals_max_connections: int = Field(
        default=1_000, ge=1, le=100_000, description="Connections per worker; more answer 503."
    )
    hotdeals_shutdown_timeout_s: int = Field(
        default=10, ge=1, le=600, description="SIGTERM: in-flight requests get this long."
    )
    hotdeals_log_format: Literal["text", "json"] = Field(
        default="text", description="Log lines as text or as one JSON object each."
    )
    hotdeals_metrics_public: bool = Field(
        default=False, description="Serve /metrics without the admin token."
    )

    # Rate limits ("N/second|minute|hour", the `limits` notation), per client address (IP) or
    # per customer; see hotdeals.http.rate_limit. Behind a proxy, serve with --proxy-headers.
    hotdeals_rate_limit_storage: str = Field(
        default="memory://",
        description="memory:// (per process) or redis://host:6379/0 (shared by every replica).",
    )
    hotdeals_rate_limit_key_prefix: str = Field(
        default="hotdeals", min_length=1, max_length=100, description="Prefix of the Redis keys."
    )
    hotdeals_rate_limit_rank_per_ip: str = Field(default="50/second")
    hotdeals_rate_limit_rank_per_customer: str = Field(default="60/minute")
    hotdeals_rate_limit_click_per_ip: str = Field(default="50/second")
    hotdeals_rate_limit_click_per_customer: str = Field(default="60/minute")
    hotdeals_rate_limit_signin_per_ip: str = Field(default="10/minute")
    hotdeals_rate_limit_guest_per_ip: str = Field(default="10/minute")
    hotdeals_rate_limit_visitor_per_ip: str = Field(default="60/minute")
    hotdeals_rate_limit_admin_failures_per_ip: str = Field(default="10/minute")

    @field_validator(
        "hotdeals_rate_limit_rank_per_ip",
        "hotdeals_rate_limit_rank_per_customer",
        "hotdeals_rate_limit_click_per_ip",
        "hotdeals_rate_limit_click_per_customer",
        "hotdeals_rate_limit_signin_per_ip",
        "hotdeals_rate_limit_guest_per_ip",
        "hotdeals_rate_limit_visitor_per_ip",
        "hotdeals_rate_limit_admin_failures_per_ip",
    )
    @classmethod
    def _parse_rate(cls, value: str) -> str:
        try:
            limits.parse(value)
        except ValueError:
            raise ValueError(f"not a rate like '50/second' or '10/minute': {value!r}") from None
        return value

    @field_validator("hotdeals_rate_limit_storage")
    @classmethod
    def _parse_storage(cls, value: str) -> str:
        if not value.startswith(("memory://", "redis://", "rediss://")):
            raise ValueError("only memory:// and redis:// (or rediss://) are supported")
        return value

    @field_validator("database_url")
    @classmethod
    def _parse_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL ({exc})") from None
        if url.get_backend_name() not in {"sqlite", "postgresql"}:
            raise ValueError("only sqlite:// and postgresql:// URLs are supported")
        # Read by hotdeals.db.engine (PgBouncer in transaction mode); a typo would silently
        # keep the prepared statements PgBouncer cannot route, so only these two are accepted.
        if url.query.get("pgbouncer", "false") not in {"true", "false"}:
            raise ValueError("pgbouncer= must be true or false")
        return value

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.hotdeals_cors_origins.split(",") if o.strip()]


def load_settings() -> Settings:
    """Read the settings afresh, turning a validation error into one line naming the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise ConfigurationError(f"{name}: {first['msg']}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
