"""Verified bearer tokens are remembered until their own expiry, never past it, and refusals are not remembered."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.errors import Unauthenticated
from app.domain.principal import Role
from app.services.tokens import TokenCodec, TokenPolicy

POLICY = TokenPolicy(secret="a-test-secret-of-at-least-32-bytes!", issuer="aftersales", audience="aftersales-api")


def test_a_remembered_token_is_refused_once_its_exp_passes():
    strict = TokenCodec(TokenPolicy(POLICY.secret, POLICY.issuer, POLICY.audience, leeway_seconds=0))
    issued = datetime.now(UTC)
    token = strict.issue(subject="agent-1", roles=[Role.AGENT], now=issued, ttl=timedelta(seconds=1))

    assert strict.verify(token).subject == "agent-1"
    assert strict.verify(token).subject == "agent-1"  # remembered

    # PyJWT reads the wall clock, so the wait is real: one second, to the token's exp.
    time.sleep(max(0.0, int(issued.timestamp()) + 1 - time.time()) + 0.05)
    with pytest.raises(Unauthenticated) as refused:
        strict.verify(token)
    assert refused.value.code == "token_expired"


def test_a_refused_token_is_checked_in_full_every_time():
    now = datetime.now(UTC)
    codec = TokenCodec(POLICY)
    forged = TokenCodec(TokenPolicy("another-secret-of-at-least-32-bytes", "aftersales", "aftersales-api")).issue(
        subject="agent-1", roles=[Role.AGENT], now=now, ttl=timedelta(minutes=5)
    )
    for _ in range(2):
        with pytest.raises(Unauthenticated) as refused:
            codec.verify(forged)
        assert refused.value.code == "invalid_token"


def test_tokens_differing_in_one_character_are_different_entries():
    now = datetime.now(UTC)
    codec = TokenCodec(POLICY)
    token = codec.issue(subject="agent-1", roles=[Role.AGENT], now=now, ttl=timedelta(minutes=5))
    codec.verify(token)
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(Unauthenticated):
        codec.verify(tampered)
