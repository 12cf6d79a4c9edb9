"""Settings from the environment and a ``.env`` file.

Everything the service reads from outside goes through :func:`get_settings`, so that a typo in a
variable fails at start with one line that names the variable instead of deep inside a request.
``DATABASE_URL`` defaults to a SQLite file so that a fresh clone runs without any server.
"""

from __future__ import annotations

from functools import lru_cache

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
        description="SQLAlchemy URL; postgresql://user:pw@host:5432/db in production.",
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

    @field_validator("database_url")
    @classmethod
    def _parse_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL ({exc})") from None
        if url.get_backend_name() not in {"sqlite", "postgresql"}:
            raise ValueError("only sqlite:// and postgresql:// URLs are supported")
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
