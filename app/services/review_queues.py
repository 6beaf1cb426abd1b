"""Review queue use cases: configuring the queues (admins, and managers for their business lines), a queue's claim pool
(待领取) and the caller's own claimed reviews. Routing an order into a queue happens as it enters review
(`AfterSalesService.create`); claiming, transferring and deciding are after-sales workflow actions."""

from __future__ import annotations

from dataclasses import replace

from app.domain.clock import Clock
from app.domain.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from app.domain.ids import new_id
from app.domain.pagination import Page, PageRequest
from app.domain.preconditions import Precondition
from app.domain.principal import Principal
from app.domain.review_queues import MAX_QUEUES, ReviewQueue, ReviewQueueData, check_queue, may_configure
from app.domain.tickets import PoolStats
from app.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.services.after_sales import AfterSalesService, AfterSalesView
from app.services.revisions import Saved, save_revision


def review_queue_not_found(key: str) -> NotFound:
    return NotFound(f"No review queue '{key}'", code="review_queue_not_found")


class ReviewQueueService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, after_sales: AfterSalesService) -> None:
        self._uow = uow
        self._clock = clock
        self._after_sales = after_sales

    async def upsert(
        self, principal: Principal, key: str, data: ReviewQueueData, precondition: Precondition
    ) -> Saved[ReviewQueue]:
        """Create or replace a queue. A scoped manager must cover the business lines of the queue as sent and, when
        replacing it, as it was: nobody takes over another line's queue by rewriting its lines."""
        async with self._uow.write() as uow:
            repo = uow.review_queues
            existing = await repo.get(key, for_update=True)
            _check_scope(principal, data, key)
            if existing is not None:
                _check_scope(principal, existing.data, key)
            precondition.check(existing.version if existing else None)
            await _check_data(uow, data)
            if existing is None and await repo.count() >= MAX_QUEUES:
                raise Conflict(
                    f"There are {MAX_QUEUES} review queues already, the most allowed; delete or reuse one",
                    code="too_many_review_queues",
                )
            now = self._clock.now()
            saved = await save_revision(
                repo, existing, data, now, lambda: ReviewQueue(new_id(), key, data, 1, now, now)
            )
            await uow.commit()
        return saved

    async def get(self, key: str) -> ReviewQueue:
        async with self._uow.read() as uow:
            return await _found(uow, key)

    async def list(self, page: PageRequest) -> Page[ReviewQueue]:
        """In the order orders are matched against them."""
        async with self._uow.read() as uow:
            return await uow.review_queues.list(page)

    async def delete(self, principal: Principal, key: str, precondition: Precondition) -> None:
        """Delete a queue, naming its version (If-Match is required: a deletion cannot be undone), once no order
        waits unclaimed in it. Orders already claimed from it keep its key; their holders decide them as before."""
        async with self._uow.write() as uow:
            existing = await _found(uow, key, for_update=True)
            _check_scope(principal, existing.data, key)
            replace(precondition, required=True).check(existing.version)
            if await uow.after_sales.unclaimed_in(key):
                raise Conflict(
                    f"Orders wait unclaimed in review queue '{key}': claim, transfer or decide them first",
                    code="review_queue_in_use",
                )
            await uow.review_queues.delete(existing)
            await uow.commit()

    async def pool(self, principal: Principal, key: str, page: PageRequest) -> tuple[Page[AfterSalesView], PoolStats]:
        """待领取: the queue's unclaimed orders under review in the caller's business lines, oldest first, with their
        number and the oldest's creation (one aggregate)."""
        lines = principal.business_line_scope
        async with self._uow.read() as uow:
            await _found(uow, key)
            found = await uow.after_sales.review_pool(key, lines, page)
            stats = await uow.after_sales.review_pool_stats(key, lines)
            views = await self._after_sales.views_in(uow, found.items, principal, self._clock.now())
        return Page(views, found.next_key), stats

    async def held(self, principal: Principal, page: PageRequest) -> Page[AfterSalesView]:
        """The orders under review the caller has claimed (from any queue or the general pool), latest activity
        first."""
        async with self._uow.read() as uow:
            found = await uow.after_sales.held_reviews(principal.subject, principal.business_line_scope, page)
            views = await self._after_sales.views_in(uow, found.items, principal, self._clock.now())
        return Page(views, found.next_key)


async def _found(uow: UnitOfWork, key: str, *, for_update: bool = False) -> ReviewQueue:
    queue = await uow.review_queues.get(key, for_update=for_update)
    if queue is None:
        raise review_queue_not_found(key)
    return queue


def _check_scope(principal: Principal, data: ReviewQueueData, key: str) -> None:
    if not may_configure(principal, data.conditions.business_lines):
        lines = ", ".join(sorted(data.conditions.business_lines)) or "every business line"
        raise Forbidden(
            f"Review queue '{key}' serves {lines}: only an admin, or a manager whose business lines cover them all, "
            "configures it",
            code="forbidden",
        )


async def _check_data(uow: UnitOfWork, data: ReviewQueueData) -> None:
    """The queue's own rules, and reviewers who are registered, active agents (each one named)."""
    errors = check_queue(data)
    active = await uow.review_queues.active_agents(set(data.reviewers))
    for i, reviewer in enumerate(data.reviewers):
        if reviewer in data.reviewers[:i]:
            errors.append(FieldError(f"/reviewers/{i}", f"'{reviewer}' is named twice"))
        elif reviewer not in active:
            errors.append(FieldError(f"/reviewers/{i}", f"'{reviewer}' is not a registered, active agent"))
    if errors:
        raise InvalidInput("The review queue cannot be used as sent", code="invalid_review_queue", errors=errors)
