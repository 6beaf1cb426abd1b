"""One Settings object: every knob is an `AFTERSALES_*` environment variable with a safe development default."""

from __future__ import annotations

import shlex
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.domain.inbound import InboundSource
from app.domain.tickets import TicketType
from app.integrations.inbound import signing_key

DEVELOPMENT_JWT_SECRET = "dev-only-secret-change-me-0123456789abcdef"  # noqa: S105 - refused in production
MIN_INBOUND_SECRET_BYTES = 24
MIN_LINK_SECRET_BYTES = 32
MIB, GIB = 1 << 20, 1 << 30


class Settings(BaseSettings):
    """Configuration read from the environment (prefix `AFTERSALES_`)."""

    # hide_input_in_errors: a refused setting must not print the secrets it was given.
    model_config = SettingsConfigDict(env_prefix="AFTERSALES_", extra="ignore", frozen=True, hide_input_in_errors=True)

    env: Literal["development", "test", "production"] = Field(
        "development", description="Deployment environment; `production` refuses unsafe defaults."
    )
    database_url: str = Field(
        "sqlite+aiosqlite:///./aftersales.db",
        description="SQLAlchemy async URL: SQLite (embedded default) or postgresql+asyncpg://…",
    )
    database_pool_size: int = Field(
        20,
        ge=1,
        le=200,
        description="Connections per process (PostgreSQL), opened as needed and then kept: a pool that closes "
        "and reopens overflow connections under load spends its CPU on connecting.",
    )
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
    header_timeout_seconds: float = Field(
        10, gt=0, le=300, description="A connection that has not sent a whole request head within this is closed."
    )
    body_timeout_seconds: float = Field(
        30, gt=0, le=3600, description="A request body not received in full within this answers 408."
    )
    keep_alive_seconds: int = Field(5, ge=1, le=300, description="An idle keep-alive connection is closed after this.")
    max_connections: int = Field(
        1000, ge=1, le=100_000, description="Connections per process; requests beyond them answer 503 at once."
    )
    require_if_match: bool = Field(
        False, description="When true, changing an existing resource without If-Match answers 428."
    )
    rate_limit_per_minute: int = Field(
        0, ge=0, description="Requests per minute per caller and process (0 = unlimited); above it 429."
    )
    survey_rate_limit_per_token: int = Field(
        30, ge=0, le=100_000, description="Requests per minute to one survey link (0 = unlimited); above it 429."
    )
    survey_rate_limit_per_address: int = Field(
        120,
        ge=0,
        le=100_000,
        description="Requests per minute to survey links from one client address (0 = unlimited); above it 429.",
    )
    ticket_reopen_window_days: int = Field(
        7, ge=0, le=365, description="Days after completion or closure in which a ticket may be reopened."
    )
    report_max_days: int = Field(
        400, ge=1, le=3660, description="Longest range, in days, a report or a rollup re-derive may cover."
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
    webhook_allowed_hosts: str = Field(
        "",
        description="Hosts, addresses or CIDR ranges (comma-separated) webhooks may reach although not public.",
    )
    webhook_retry_schedule: str = Field(
        "0,5,300,1800,7200,18000,36000,50400,72000,86400",
        description="Seconds before each webhook try (comma-separated); after the last the delivery is dead.",
    )
    webhook_lease_seconds: int = Field(
        60, ge=5, le=3600, description="A claimed delivery is re-tried by another worker after this long."
    )
    webhook_timeout_seconds: float = Field(10, gt=0, le=60, description="Time one webhook try may take.")
    webhook_batch_size: int = Field(200, ge=1, le=5000, description="Deliveries a worker claims at once.")
    webhook_concurrency: int = Field(64, ge=1, le=1000, description="Webhook requests a worker has in flight.")
    idempotency_ttl_hours: int = Field(
        24, ge=24, le=24 * 30, description="Hours an Idempotency-Key and its answer are kept (at least 24)."
    )
    attachment_image_max_bytes: int = Field(
        20 * MIB, ge=1, le=10 * GIB, description="Largest uploaded image (jpg, png, gif, webp, heic), in bytes."
    )
    attachment_video_max_bytes: int = Field(
        200 * MIB, ge=1, le=10 * GIB, description="Largest uploaded video (mp4, mov), in bytes."
    )
    attachment_document_max_bytes: int = Field(
        20 * MIB, ge=1, le=10 * GIB, description="Largest uploaded document (pdf), in bytes."
    )
    attachment_upload_timeout_seconds: float = Field(
        900,
        gt=0,
        le=24 * 3600,
        description="An upload's body not received in full within this answers 408 (other bodies: body_timeout).",
    )
    attachment_link_ttl_seconds: int = Field(
        300, ge=10, le=7 * 86_400, description="How long a signed attachment download link works."
    )
    attachment_link_secret: SecretStr | None = Field(
        None,
        description="HMAC secret of attachment download links (≥ 32 bytes); empty: derived from the JWT secret.",
    )
    attachment_scanner: Literal["none", "clamd", "command"] = Field(
        "none",
        description="Virus scanner for new uploads: clamd (ClamAV daemon), a command, or none (files are served "
        "unscanned: development only).",
    )
    attachment_clamd_address: str = Field(
        "tcp://127.0.0.1:3310", description="clamd's socket: tcp://host:port or unix:///path/to/clamd.ctl."
    )
    attachment_scan_command: str = Field(
        "",
        description="Scanner command (shell words; the file comes on standard input): exit 0 clean, 1 infected, "
        "anything else an error to retry, e.g. `clamdscan --no-summary -`.",
    )
    attachment_scan_timeout_seconds: float = Field(120, gt=0, le=3600, description="Time one scan may take.")
    attachments_per_record: int = Field(
        20, ge=1, le=1000, description="Files one ticket, task or after-sales order may have attached over its life."
    )
    attachment_unattached_hours: int = Field(
        24, ge=1, le=24 * 365, description="Uploads never attached to a record are deleted after this many hours."
    )
    attachment_retention_days: int | None = Field(
        None,
        ge=1,
        le=365 * 100,
        description="Attached files are deleted this many days after every record they are on finished, unless "
        "under legal hold; empty: kept for good.",
    )
    inbound_secrets: dict[str, SecretStr] = Field(
        default_factory=dict,
        description=(
            "Signing secret (`whsec_<base64>`) per inbound source, a JSON object with keys among payment_centre, wms, "
            "erp, crm; a source without one answers 404."
        ),
    )
    storage_backend: Literal["local", "s3"] = Field(
        "local",
        description="Where attachment bytes live: a local directory (embedded default) or S3-compatible storage.",
    )
    storage_dir: Path = Field(
        Path("./attachments"), description="Directory of the local attachment store (created on first write)."
    )
    s3_endpoint_url: str | None = Field(
        None, description="S3-compatible endpoint, e.g. http://minio:9000 (empty: AWS S3 of `s3_region`)."
    )
    s3_bucket: str | None = Field(None, description="Bucket of the S3 attachment store (required for the s3 backend).")
    s3_region: str = Field("us-east-1", description="Region the S3 requests are signed for.")
    s3_access_key_id: str | None = Field(
        None, description="S3 access key (empty: the environment's, profile's or instance role's credentials)."
    )
    s3_secret_access_key: SecretStr | None = Field(None, description="S3 secret key, given with the access key.")
    s3_path_style: bool = Field(
        False, description="Path-style addressing (endpoint/bucket/key), as most self-hosted S3 servers need."
    )
    s3_prefix: str = Field("", description="Key prefix for every object of the store, e.g. aftersales/.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    log_json: bool = Field(True, description="JSON log lines (false: human-readable console lines).")
    opentelemetry: bool = Field(
        False,
        description="FastAPI's native OpenTelemetry spans, metrics and logs, sent to the globally configured "
        "providers. Off, no request asks whether a provider is configured (3% of a small request's CPU, measured).",
    )
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

    @model_validator(mode="after")
    def _usable_storage(self) -> Settings:
        if self.storage_backend == "s3" and not self.s3_bucket:
            raise ValueError("AFTERSALES_STORAGE_BACKEND=s3 needs AFTERSALES_S3_BUCKET")
        if (self.s3_access_key_id is None) != (self.s3_secret_access_key is None):
            raise ValueError("AFTERSALES_S3_ACCESS_KEY_ID and AFTERSALES_S3_SECRET_ACCESS_KEY go together")
        return self

    @field_validator("s3_endpoint_url", "s3_bucket", "s3_access_key_id", "s3_secret_access_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("s3_prefix")
    @classmethod
    def _prefix_is_a_folder(cls, value: str) -> str:
        """`aftersales` and `aftersales/` both mean the folder; a leading slash would be part of every key."""
        if value.startswith("/"):
            raise ValueError("a key prefix does not start with /")
        return value.rstrip("/") + "/" if value else ""

    @field_validator("attachment_link_secret", mode="before")
    @classmethod
    def _empty_link_secret_is_derived(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _usable_scanner(self) -> Settings:
        if self.attachment_scanner == "command" and not shlex.split(self.attachment_scan_command):
            raise ValueError("AFTERSALES_ATTACHMENT_SCANNER=command needs AFTERSALES_ATTACHMENT_SCAN_COMMAND")
        if self.attachment_scanner == "clamd" and not self.attachment_clamd_address.startswith(("tcp://", "unix://")):
            raise ValueError("AFTERSALES_ATTACHMENT_CLAMD_ADDRESS is tcp://host:port or unix:///path")
        secret = self.attachment_link_secret
        if secret is not None and len(secret.get_secret_value().encode()) < MIN_LINK_SECRET_BYTES:
            raise ValueError(f"AFTERSALES_ATTACHMENT_LINK_SECRET needs at least {MIN_LINK_SECRET_BYTES} bytes")
        return self

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        delays = _csv(value)
        if not delays or not all(d.isdigit() for d in delays):
            raise ValueError("a comma-separated list of whole seconds, e.g. 0,5,300")
        return value

    @property
    def webhook_delays(self) -> tuple[int, ...]:
        return tuple(int(d) for d in _csv(self.webhook_retry_schedule))

    @model_validator(mode="after")
    def _usable_inbound_secrets(self) -> Settings:
        """Every configured source is known and its secret decodes (in production to at least 24 bytes); errors name
        the source, never the secret."""
        known = {source.value for source in InboundSource}
        for source, secret in self.inbound_secrets.items():
            if source not in known:
                raise ValueError(
                    f"AFTERSALES_INBOUND_SECRETS: unknown source {source!r} (known: {', '.join(sorted(known))})"
                )
            try:
                key = signing_key(secret.get_secret_value())
            except ValueError as exc:
                raise ValueError(f"AFTERSALES_INBOUND_SECRETS[{source!r}]: {exc}") from None
            if self.env == "production" and len(key) < MIN_INBOUND_SECRET_BYTES:
                raise ValueError(
                    f"production needs AFTERSALES_INBOUND_SECRETS[{source!r}] of at least "
                    f"{MIN_INBOUND_SECRET_BYTES} bytes once decoded"
                )
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
