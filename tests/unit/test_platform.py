"""Platform rules without a database: preconditions, principals, cursors, rate limits, settings, logs."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from pydantic import ValidationError

from app.domain.errors import BadRequest, InvalidInput, PreconditionFailed, PreconditionRequired, RateLimited
from app.domain.preconditions import Precondition, entity_tags
from app.domain.principal import Principal, Role
from app.settings import DEVELOPMENT_JWT_SECRET, Settings
from app.web.logging import REDACTED, redact_secrets
from app.web.pagination import decode_cursor, encode_cursor
from app.web.rate_limit import RateLimiter


def test_if_match_accepts_the_current_version_or_star():
    Precondition(if_match=frozenset({3})).check(3)
    Precondition(if_match="*").check(1)
    Precondition().check(None)


@pytest.mark.parametrize(
    ("precondition", "current", "error"),
    [
        (Precondition(if_match=frozenset({2})), 3, PreconditionFailed),
        (Precondition(if_match="*"), None, PreconditionFailed),
        (Precondition(create_only=True), 1, PreconditionFailed),
        (Precondition(required=True), 1, PreconditionRequired),
    ],
)
def test_broken_preconditions_are_refused(precondition, current, error):
    with pytest.raises(error):
        precondition.check(current)


def test_creating_needs_no_if_match_even_when_required():
    Precondition(required=True).check(None)


def test_etag_header_parsing_is_strong():
    assert entity_tags('"3", "4"', "If-Match") == frozenset({3, 4})
    assert entity_tags('W/"3"', "If-Match") == frozenset()
    assert entity_tags("*", "If-Match") == "*"
    with pytest.raises(BadRequest):
        entity_tags("garbage", "If-Match")


def test_customer_principal_needs_a_customer_number_and_no_other_role():
    with pytest.raises(ValueError):
        Principal("u", frozenset({Role.CUSTOMER}))
    with pytest.raises(ValueError):
        Principal("u", frozenset({Role.CUSTOMER, Role.AGENT}), customer_no="C-1")
    customer = Principal("u", frozenset({Role.CUSTOMER}), customer_no="C-1")
    assert customer.can_see_customer("C-1") and not customer.can_see_customer("C-2")
    assert Principal("a", frozenset({Role.AGENT})).can_see_customer("C-2")


def test_cursors_round_trip_every_key_type():
    key = (uuid4(), datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), 7, "x")
    assert decode_cursor(encode_cursor(key)) == key


@pytest.mark.parametrize("cursor", ["", "!!!", "bm90IGpzb24", "WyJ4Il0", "W1sieiIsIjEiXV0"])
def test_malformed_cursors_are_invalid_input(cursor):
    with pytest.raises(InvalidInput):
        decode_cursor(cursor)


def test_rate_limiter_refuses_above_the_budget_per_caller():
    limiter = RateLimiter(per_minute=3)
    for _ in range(3):
        limiter.check("a")
    with pytest.raises(RateLimited) as refused:
        limiter.check("a")
    limiter.check("b")
    assert refused.value.retry_after_seconds >= 1


def test_unlimited_rate_never_refuses():
    limiter = RateLimiter(per_minute=0)
    for _ in range(1000):
        limiter.check("a")


def test_production_refuses_the_development_secret_and_sqlite(monkeypatch):
    monkeypatch.delenv("AFTERSALES_JWT_SECRET", raising=False)
    postgres = "postgresql+asyncpg://app@db/aftersales"
    with pytest.raises(ValidationError, match="AFTERSALES_JWT_SECRET"):
        Settings(env="production", database_url=postgres)
    with pytest.raises(ValidationError, match="PostgreSQL"):
        Settings(env="production", jwt_secret="s" * 40, database_url="sqlite+aiosqlite:///./a.db")
    with pytest.raises(ValidationError, match="AFTERSALES_JWT_SECRET"):
        Settings(env="production", database_url=postgres, jwt_secret="short")
    assert Settings(env="production", database_url=postgres, jwt_secret="s" * 40).env == "production"
    assert Settings().jwt_secret.get_secret_value() == DEVELOPMENT_JWT_SECRET


def test_settings_come_from_prefixed_environment_variables(monkeypatch):
    monkeypatch.setenv("AFTERSALES_MAX_BODY_BYTES", "4096")
    monkeypatch.setenv("AFTERSALES_LOG_LEVEL", "WARNING")
    settings = Settings()
    assert (settings.max_body_bytes, settings.log_level) == (4096, "WARNING")


def test_the_secret_never_appears_in_the_settings_repr():
    assert DEVELOPMENT_JWT_SECRET not in repr(Settings())


def test_readme_documents_every_setting():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(AFTERSALES_[A-Z0-9_]+)`", readme))
    assert {f"AFTERSALES_{name.upper()}" for name in Settings.model_fields} <= documented


def test_log_redaction_hides_tokens_keys_and_secret_fields():
    event = {
        "event": "call with Bearer eyJhbGciOi.abc.def and ak_0123456789abcdef_secretpart",
        "headers": {"Authorization": "Bearer xyz", "X-API-Key": "ak_x_y", "accept": "json"},
        "password": "hunter2",
    }
    redacted = redact_secrets(None, "info", event)
    text = str(redacted)
    assert "eyJhbGciOi" not in text and "secretpart" not in text and "hunter2" not in text and "xyz" not in text
    assert redacted["headers"]["accept"] == "json" and redacted["password"] == REDACTED


def test_request_bodies_take_no_boolean_for_a_number_and_keep_booleans_where_they_belong():
    from pydantic import ValidationError

    from app.schemas.after_sales import AutoReviewIn

    body = {
        "enabled": True,
        "types": [],
        "only_before_shipping": False,
        "customer_levels": [],
        "max_recent_after_sales": None,
        "lightning_refund_levels": [],
    }
    with pytest.raises(ValidationError, match="a boolean is not allowed here"):
        AutoReviewIn.model_validate({**body, "max_amount": False})
    kept = AutoReviewIn.model_validate({**body, "max_amount": 5000})
    assert (kept.enabled, kept.max_amount) == (True, 5000)
