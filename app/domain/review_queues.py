"""Review queues (审核队列): where an after-sales order waits for a reviewer. Queues are tried in `position` order (ties
by key) when an order enters review, and the first whose conditions all hold takes it; an order no queue takes waits
in the general pool, for any reviewer. Business-line managers say which reviewers serve their lines' queues."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID

from app.domain.after_sales import AfterSalesOrder, AfterSalesType
from app.domain.errors import FieldError
from app.domain.money import is_iso_currency
from app.domain.pagination import Page, PageRequest
from app.domain.principal import Principal, Role

MAX_QUEUES = 200
"""Queues at most: every order entering review is matched against all of them, read whole."""


@dataclass(frozen=True, slots=True)
class AmountRange:
    """An amount condition: the order's currency, and `minimum` ≤ amount < `maximum` in its minor units (either bound
    may be left open)."""

    currency: str
    minimum: int | None = None
    maximum: int | None = None

    def holds(self, amount: int, currency: str) -> bool:
        return (
            currency == self.currency
            and (self.minimum is None or amount >= self.minimum)
            and (self.maximum is None or amount < self.maximum)
        )


@dataclass(frozen=True, slots=True)
class QueueConditions:
    """What a queue takes; an empty condition accepts anything. An order of no business line is taken only by a
    queue that names none."""

    business_lines: frozenset[str] = frozenset()
    types: frozenset[AfterSalesType] = frozenset()
    amount: AmountRange | None = None

    def hold(self, order: AfterSalesOrder) -> bool:
        return (
            (not self.business_lines or order.business_line in self.business_lines)
            and (not self.types or order.type in self.types)
            and (self.amount is None or self.amount.holds(order.amount, order.currency))
        )


@dataclass(frozen=True, slots=True)
class ReviewQueueData:
    name: str
    position: int
    conditions: QueueConditions = field(default_factory=QueueConditions)
    reviewers: tuple[str, ...] = ()  # user ids of the agents who claim from it


@dataclass(frozen=True, slots=True)
class ReviewQueue:
    id: UUID
    key: str
    data: ReviewQueueData
    version: int
    created_at: datetime
    updated_at: datetime


def route(queues: Sequence[ReviewQueue], order: AfterSalesOrder) -> ReviewQueue | None:
    """The first queue by (position, key) that takes `order`; None: the general pool."""
    ordered = sorted(queues, key=lambda q: (q.data.position, q.key))
    return next((queue for queue in ordered if queue.data.conditions.hold(order)), None)


def may_configure(principal: Principal, business_lines: Iterable[str]) -> bool:
    """Admins configure every queue; a manager those whose every business line is in their scope. A queue naming no
    business line takes orders of every line, so only an unscoped manager configures it."""
    scope = principal.business_line_scope
    if Role.ADMIN in principal.roles or scope is None:
        return True
    lines = frozenset(business_lines)
    return bool(lines) and lines <= scope


def check_queue(data: ReviewQueueData) -> list[FieldError]:
    """The rules a queue's own fields must meet (its reviewers are checked against the agents by the service)."""
    errors: list[FieldError] = []
    amount = data.conditions.amount
    if amount is not None:
        if not is_iso_currency(amount.currency):
            errors.append(FieldError("/conditions/amount/currency", f"'{amount.currency}' is not an ISO 4217 code"))
        if amount.minimum is not None and amount.maximum is not None and amount.minimum >= amount.maximum:
            errors.append(FieldError("/conditions/amount/max", "must be greater than min (min ≤ amount < max)"))
    return errors


class ReviewQueueRepository(Protocol):
    async def get(self, key: str, *, for_update: bool = False) -> ReviewQueue | None: ...
    async def add(self, queue: ReviewQueue, /) -> None: ...
    async def update(self, queue: ReviewQueue, /) -> None: ...
    async def delete(self, queue: ReviewQueue) -> None: ...
    async def count(self) -> int: ...
    async def list(self, page: PageRequest) -> Page[ReviewQueue]:
        """In matching order: position, then key."""
        ...

    async def ordered(self) -> list[ReviewQueue]:
        """Every queue (at most MAX_QUEUES), for routing."""
        ...

    async def hold(self, key: str) -> ReviewQueue | None:
        """The queue, share-locked to the end of the transaction so that it is neither deleted nor changed before an
        order routed to it commits; None when it is gone."""
        ...

    async def reviewers(self, keys: Collection[str]) -> dict[str, frozenset[str]]:
        """Each existing queue's reviewers who are active agents now, for a page of orders in one read."""
        ...

    async def active_agents(self, user_ids: Collection[str]) -> set[str]:
        """Those of `user_ids` that are registered, active agents."""
        ...
