"""Inbound signatures and their secrets, without a database: the service's clock decides what is stale, every bad
header is a clean 401, and a refused secret is never printed."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from standardwebhooks import Webhook

from app.domain.errors import NotFound, Unauthenticated
from app.integrations.inbound import InboundVerifier, signing_key
from app.settings import Settings

KEY = b"a-signing-key-of-thirty-two-byte"
SECRET = "whsec_" + base64.b64encode(KEY).decode()
POSTGRES = "postgresql+asyncpg://app@db/aftersales"
AT = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def _verifier(now: datetime = AT) -> InboundVerifier:
    return InboundVerifier({"erp": SECRET}, lambda: now)


def _headers(body: bytes, at: datetime = AT, msg_id: str = "msg_1") -> dict[str, str]:
    return {
        "webhook_id": msg_id,
        "timestamp": str(int(at.timestamp())),
        "signature": Webhook(SECRET).sign(msg_id, at, body.decode()),
    }


def test_a_signature_is_checked_against_the_services_clock_not_the_wall_clock():
    body = b'{"type": "x", "data": {}}'

    message = _verifier().verify("erp", body, **_headers(body))

    assert (message.source, message.webhook_id, message.timestamp, message.body) == ("erp", "msg_1", AT, body)
    with pytest.raises(Unauthenticated) as stale:
        _verifier(AT + timedelta(minutes=5, seconds=1)).verify("erp", body, **_headers(body))
    assert stale.value.code == "stale_timestamp"


@pytest.mark.parametrize(
    "signature",
    ["v1,=", "v1,a", "v1,YQ", ",", "v1,,", "v1 ,x", " ", "v1,YWJj\x00", "v1," + "A" * 10_000, "v1,ab==cd"],
)
def test_malformed_signature_headers_are_a_clean_invalid_signature(signature):
    body = b"{}"
    headers = {**_headers(body), "signature": signature}

    with pytest.raises(Unauthenticated) as refused:
        _verifier().verify("erp", body, **headers)

    assert refused.value.code == "invalid_signature"


def test_the_library_itself_raises_untyped_errors_on_the_same_headers():
    """Why the headers are parsed here: the reference verify() lets ValueError out of a malformed header."""
    with pytest.raises(ValueError):
        Webhook(SECRET).verify(
            "{}",
            {
                "webhook-id": "m",
                "webhook-timestamp": str(int(datetime.now(UTC).timestamp())),
                "webhook-signature": "v1",
            },
        )


def test_a_source_without_a_secret_is_not_found():
    with pytest.raises(NotFound) as missing:
        _verifier().verify("crm", b"{}", **_headers(b"{}"))

    assert missing.value.code == "inbound_source_not_found"


def test_secrets_decode_strictly():
    assert signing_key(SECRET) == KEY
    assert signing_key(base64.b64encode(KEY).decode().rstrip("=")) == KEY
    for bad in ("whsec_", "whsec_not base64!", "whsec_äöü", ""):
        with pytest.raises(ValueError, match="secret"):
            signing_key(bad)


def test_settings_refuse_unknown_sources_and_undecodable_secrets_without_printing_them():
    with pytest.raises(ValidationError, match="unknown source 'bank'"):
        Settings(inbound_secrets={"bank": SECRET})
    with pytest.raises(ValidationError) as refused:
        Settings(inbound_secrets={"wms": "whsec_secret-with-dashes!"})
    assert "wms" in str(refused.value) and "secret-with-dashes" not in str(refused.value)


def test_production_needs_inbound_secrets_of_24_bytes():
    short = "whsec_" + base64.b64encode(b"x" * 23).decode()
    production = {"env": "production", "database_url": POSTGRES, "jwt_secret": "s" * 40}

    with pytest.raises(ValidationError, match="at least 24 bytes") as refused:
        Settings(**production, inbound_secrets={"payment_centre": short})

    assert short.removeprefix("whsec_") not in str(refused.value)
    assert Settings(**production, inbound_secrets={"payment_centre": SECRET}).inbound_secrets["payment_centre"]
    assert Settings(inbound_secrets={"erp": short}).env == "development"


def test_inbound_secrets_come_from_a_json_environment_variable(monkeypatch):
    monkeypatch.setenv("AFTERSALES_INBOUND_SECRETS", f'{{"erp": "{SECRET}"}}')

    settings = Settings()

    assert settings.inbound_secrets["erp"].get_secret_value() == SECRET
    assert SECRET not in repr(settings)
