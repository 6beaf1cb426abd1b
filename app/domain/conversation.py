"""Who speaks on a ticket: which timeline lines are a public agent reply and which are the customer speaking. The SLA
clocks (first and next reply) and the reply-time reports read the same rule, so they cannot disagree."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

REPLY_ACTIONS = frozenset({"request_info", "resolve"})
"""Actions whose text is written to the customer (the question asked, the solution): taken by staff, they are a
public agent reply to the SLA clock. Remarks on other actions annotate a status change and are not replies."""
CUSTOMER_MESSAGES = frozenset({"customer_reply", "urge"})
"""Actions that are the customer speaking (an answer, a 催单), which owe them a reply."""
SPEAKER = "speaker"
"""The key of a comment line's payload that says who wrote it (a `Speaker`)."""


class Speaker(StrEnum):
    AGENT = "agent"  # staff: a public comment by them is an answer to the customer
    CUSTOMER = "customer"  # the customer, or an integration relaying them (a chatbot)


def voice_of(kind: str, action: str | None, public: bool, payload: Mapping[str, Any] | None) -> Speaker | None:
    """Who spoke to whom in one timeline line: an agent's public reply, the customer's message, or neither (an
    internal note, a status change that says nothing to the customer). Request-info and resolve are taken by staff
    only (the workflow's case handlers); a comment names its speaker in its payload."""
    if kind == "action":
        if action in REPLY_ACTIONS:
            return Speaker.AGENT
        if action in CUSTOMER_MESSAGES:
            return Speaker.CUSTOMER
        return None
    if kind == "comment" and public and payload:
        speaker = payload.get(SPEAKER)
        return Speaker(speaker) if speaker in set(Speaker) else None
    return None
