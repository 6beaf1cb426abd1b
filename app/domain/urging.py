"""催单: a customer asking us to hurry, counted and rate-limited; every N-th urge raises the escalation level."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.errors import RateLimited

MAX_ESCALATION_LEVEL = 3


@dataclass(frozen=True, slots=True)
class UrgePolicy:
    min_interval: timedelta = timedelta(minutes=10)
    escalate_after: int = 3


@dataclass(frozen=True, slots=True)
class Urged:
    count: int
    at: datetime
    escalation_level: int


def urge(count: int, last_at: datetime | None, level: int, now: datetime, policy: UrgePolicy) -> Urged:
    """The counters after one more urge, or RateLimited when the last one was too recent."""
    if last_at is not None and now - last_at < policy.min_interval:
        wait = policy.min_interval - (now - last_at)
        raise RateLimited(
            "You have just urged this; we are on it", retry_after_seconds=max(1, math.ceil(wait.total_seconds()))
        )
    count += 1
    escalate = count % policy.escalate_after == 0 and level < MAX_ESCALATION_LEVEL
    return Urged(count, now, level + (1 if escalate else 0))
