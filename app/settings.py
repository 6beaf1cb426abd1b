"""One Settings object: every knob is an `AFTERSALES_*` environment variable with a safe development default."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.domain.tickets import TicketType

DEVELOPMENT_JWT_SECRET = "dev-only-secret-change-me-0123456789abcdef"  # noqa: S105 - refused in production


class Settings(BaseSettings):
    """Configuration read from the environment (prefix `AFTERSALES_`)."""

    model_config = SettingsConfigDict(env_prefix="AFTERSALES_", extra="ignore", frozen=True)

    env: Literal["development", "test", "production"] = Field(
        "development", description="Deployment environment; `production` refuses unsafe defaults."
    )
    database_url: str = Field(
        "sqlite+aiosqlite:///./aftersales.db",
        description="SQLAlchemy async URL: SQLite (embedded default) or postgresql+asyncpg://…",
    )
    database_pool_size: int = Field(10, ge=1, le=200, description="Connections per process (PostgreSQL).")
    database_echo: bool = Field(False, description="Log every SQL statement (development only).")
    host: str = Field("127.0.0.1", description="Address `aftersales serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `aftersales serve` listens on.")
    workers: int = Field(1, ge=1, le=64, description="Uvicorn worker processes for `aftersales serve`.")
    run_workers_in_process: bool = Field(
        True, description="`aftersales serve` also runs the background jobs (false: run `aftersales worker`)."
    )
    worker_poll_seconds: float = Field(
        5.0, gt=0, le=3600, description="How often a background job looks for work (task reminders, webhooks)."
    )
    jwt_secret: SecretStr = Field(
        SecretStr(DEVELOPMENT_JWT_SECRET), description="HS256 secret for bearer tokens (≥ 32 bytes)."
    )
    jwt_issuer: str = Field("aftersales", description="`iss` claim issued and required.")
    jwt_audience: str = Field("aftersales-api", description="`aud` claim issued and required.")
    jwt_leeway_seconds: int = Field(30, ge=0, le=300, description="Clock skew tolerated on `exp`/`nbf`.")
    token_ttl_seconds: int = Field(3600 * 8, ge=60, description="Lifetime of tokens made by `aftersales token`.")
    max_body_bytes: int = Field(1_048_576, ge=1024, description="Request bodies above this answer 413.")
    require_if_match: bool = Field(
        False, description="When true, changing an existing resource without If-Match answers 428."
    )
    rate_limit_per_minute: int = Field(
        0, ge=0, description="Requests per minute per caller and process (0 = unlimited); above it 429."
    )
    ticket_reopen_window_days: int = Field(
        7, ge=0, le=365, description="Days after completion or closure in which a ticket may be reopened."
    )
    urge_min_interval_seconds: int = Field(
        600, ge=0, le=86_400, description="A customer may urge (催单) the same ticket at most once per interval."
    )
    urge_escalate_after: int = Field(3, ge=1, le=100, description="Every N-th urge raises the escalation level.")
    return_window_days: int = Field(7, ge=0, le=365, description="退货退款: days after signing (7天无理由).")
    exchange_window_days: int = Field(15, ge=0, le=365, description="换货: days after signing.")
    replenish_window_days: int = Field(15, ge=0, le=365, description="补货: days after signing.")
    partial_refund_window_days: int = Field(15, ge=0, le=365, description="部分退款: days after signing.")
    compensation_window_days: int = Field(30, ge=0, le=365, description="赔付: days after signing.")
    compensation_max_percent: int = Field(
        30, ge=0, le=100, description="Compensation per order, at most this share of the amount paid."
    )
    manager_review_above: int = Field(
        100_000, ge=0, description="After-sales amounts above this (minor units) need a manager's review."
    )
    task_reminder_lead_minutes: int = Field(
        120, ge=1, le=60 * 24 * 14, description="Tasks due within this many minutes get one 'due soon' reminder."
    )
    task_auto_resolve_types: str = Field(
        "complaint,repair,installation,after_sales_request",
        description="Ticket types (comma-separated) that resolve themselves when their last task is approved.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    log_json: bool = Field(True, description="JSON log lines (false: human-readable console lines).")
    docs_url: str = Field("/docs", description="Where interactive API docs are served.")

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.env != "production":
            return self
        secret = self.jwt_secret.get_secret_value()
        if secret == DEVELOPMENT_JWT_SECRET or len(secret) < 32:
            raise ValueError("production needs AFTERSALES_JWT_SECRET: a secret of at least 32 bytes")
        if self.database_url.startswith("sqlite"):
            raise ValueError("production needs PostgreSQL in AFTERSALES_DATABASE_URL, not SQLite")
        return self

    @field_validator("task_auto_resolve_types")
    @classmethod
    def _known_ticket_types(cls, value: str) -> str:
        known = {t.value for t in TicketType}
        unknown = [t for t in _csv(value) if t not in known]
        if unknown:
            raise ValueError(f"unknown ticket types: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        return value

    @property
    def auto_resolve_ticket_types(self) -> frozenset[TicketType]:
        return frozenset(TicketType(t) for t in _csv(self.task_auto_resolve_types))

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _csv(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once from the environment."""
    return Settings()
