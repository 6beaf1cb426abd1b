"""Webhook use cases: endpoints (the secret shown once, rotatable), their deliveries, retries and replays; and the
two passes the dispatcher runs: fan the outbox out into deliveries, and deliver what is due."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from app.domain.clock import Clock
from app.domain.errors import FieldError, InvalidInput, NotFound
from app.domain.ids import new_id
from app.domain.invariants import present
from app.domain.pagination import Page, PageRequest
from app.domain.preconditions import Precondition
from app.domain.principal import Principal, Role
from app.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.domain.webhooks import (
    SECRET_OVERLAP,
    Delivery,
    DeliveryStatus,
    RetrySchedule,
    WebhookEndpoint,
    unknown_patterns,
)
from app.integrations.url_guard import AllowList, address_problem, url_problem
from app.integrations.webhook_sender import WebhookSender
from app.services.event_types import event_types

MAX_REPLAY = timedelta(days=31)


@dataclass(frozen=True, slots=True)
class WebhookPolicy:
    schedule: RetrySchedule
    lease: timedelta
    batch: int
    allowed: AllowList


@dataclass(frozen=True, slots=True)
class EndpointDraft:
    url: str
    event_types: tuple[str, ...]
    description: str | None = None
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class NewSecret:
    """An endpoint with the secret that signs its deliveries, shown this once."""

    endpoint: WebhookEndpoint
    secret: str


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def endpoint_not_found(endpoint_id: UUID) -> NotFound:
    return NotFound(f"No webhook endpoint '{endpoint_id}'", code="webhook_endpoint_not_found")


class WebhookService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, policy: WebhookPolicy, sender: WebhookSender) -> None:
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._sender = sender

    async def create(self, principal: Principal, draft: EndpointDraft) -> NewSecret:
        await self._check(draft.url, draft.event_types)
        now = self._clock.now()
        endpoint = WebhookEndpoint(
            id=new_id(),
            url=draft.url,
            event_types=draft.event_types,
            enabled=draft.enabled,
            secret=new_secret(),
            created_by=principal.subject,
            created_at=now,
            updated_at=now,
            description=draft.description,
        )
        async with self._uow.write() as uow:
            await uow.webhooks.add_endpoint(endpoint)
            await uow.commit()
        return NewSecret(endpoint, endpoint.secret)

    async def list(self, principal: Principal, page: PageRequest) -> Page[WebhookEndpoint]:
        """Admins see every endpoint; an integration sees the ones it registered."""
        async with self._uow.read() as uow:
            return await uow.webhooks.endpoints(_owner(principal), page)

    async def get(self, principal: Principal, endpoint_id: UUID) -> WebhookEndpoint:
        async with self._uow.read() as uow:
            return await _visible(uow, principal, endpoint_id)

    async def update(
        self,
        principal: Principal,
        endpoint_id: UUID,
        changes: dict[str, object],
        precondition: Precondition,
    ) -> WebhookEndpoint:
        """Change the URL, event types, description or enabled flag; enabling again clears why it was disabled."""
        async with self._uow.write() as uow:
            current = await _visible(uow, principal, endpoint_id, for_update=True)
            precondition.check(current.version)
            after = replace(current, **changes)  # type: ignore[arg-type]
            if after.url != current.url or after.event_types != current.event_types:
                await self._check(after.url, after.event_types)
            if after.enabled and not current.enabled:
                after = replace(after, disabled_reason=None)
            if after == current:
                return current
            after = replace(after, version=current.version + 1, updated_at=self._clock.now())
            await uow.webhooks.update_endpoint(after)
            await uow.commit()
        return after

    async def rotate_secret(self, principal: Principal, endpoint_id: UUID, precondition: Precondition) -> NewSecret:
        """A new secret, shown once; the old one keeps signing beside it for SECRET_OVERLAP."""
        now = self._clock.now()
        async with self._uow.write() as uow:
            current = await _visible(uow, principal, endpoint_id, for_update=True)
            precondition.check(current.version)
            after = replace(
                current,
                secret=new_secret(),
                previous_secret=current.secret,
                previous_secret_until=now + SECRET_OVERLAP,
                version=current.version + 1,
                updated_at=now,
            )
            await uow.webhooks.update_endpoint(after)
            await uow.commit()
        return NewSecret(after, after.secret)

    async def deliveries(
        self, principal: Principal, endpoint_id: UUID, status: DeliveryStatus | None, page: PageRequest
    ) -> Page[Delivery]:
        async with self._uow.read() as uow:
            await _visible(uow, principal, endpoint_id)
            return await uow.webhooks.deliveries(endpoint_id, status, page)

    async def retry(self, principal: Principal, delivery_id: UUID) -> Delivery:
        """Send one delivery again now, whatever its state (a dead letter, or a success to be replayed)."""
        async with self._uow.write() as uow:
            delivery = await uow.webhooks.get_delivery(delivery_id, for_update=True)
            if delivery is None:
                raise _delivery_not_found(delivery_id)
            try:
                await _visible(uow, principal, delivery.endpoint_id)
            except NotFound as exc:
                raise _delivery_not_found(delivery_id) from exc
            await uow.webhooks.requeue(delivery_id, self._clock.now())
            requeued = present(await uow.webhooks.get_delivery(delivery_id), "the requeued delivery")
            await uow.commit()
        return requeued

    async def replay(self, principal: Principal, endpoint_id: UUID, start: datetime, end: datetime) -> int:
        if not timedelta(0) < end - start <= MAX_REPLAY:
            raise InvalidInput(
                "The replay range is invalid",
                code="validation_failed",
                errors=[FieldError("/from", f"the range must be positive and at most {MAX_REPLAY.days} days")],
            )
        async with self._uow.write() as uow:
            endpoint = await _visible(uow, principal, endpoint_id)
            queued = await uow.webhooks.replay(endpoint, start, end, self._clock.now())
            await uow.commit()
        return queued

    async def fan_out(self) -> int:
        """One pass over new outbox events, in batches, each its own transaction; returns events taken."""
        taken = 0
        while True:
            async with self._uow.write() as uow:
                endpoints = await uow.webhooks.enabled_endpoints()
                batch = await uow.webhooks.fan_out(endpoints, self._clock.now(), self._policy.batch)
                await uow.commit()
            taken += batch
            if batch < self._policy.batch:
                return taken

    async def deliver(self) -> int:
        """Claim due deliveries, send them (outside any transaction), record what each got; repeated while full
        batches come. Returns how many tries were made."""
        tried = 0
        while True:
            now = self._clock.now()
            async with self._uow.write() as uow:
                messages = await uow.webhooks.claim(now, now + self._policy.lease, self._policy.batch)
                await uow.commit()
            if not messages:
                return tried
            outcomes = await self._sender.send(messages)
            async with self._uow.write() as uow:
                await uow.webhooks.record(outcomes, self._policy.schedule, self._clock.now())
                await uow.commit()
            tried += len(messages)
            if len(messages) < self._policy.batch:
                return tried

    async def dispatch(self) -> int:
        """Both passes: what the periodic job runs."""
        return await self.fan_out() + await self.deliver()

    async def close(self) -> None:
        await self._sender.close()

    async def _check(self, url: str, patterns: tuple[str, ...]) -> None:
        errors = []
        problem = url_problem(url) or await address_problem(url, self._policy.allowed)
        if problem:
            errors.append(FieldError("/url", problem))
        unknown = unknown_patterns(patterns, event_types())
        if unknown:
            errors.append(FieldError("/event_types", f"no such event types: {', '.join(unknown)}"))
        if errors:
            raise InvalidInput("The webhook endpoint cannot be used as sent", code="invalid_endpoint", errors=errors)


def _owner(principal: Principal) -> str | None:
    return None if Role.ADMIN in principal.roles else principal.subject


async def _visible(
    uow: UnitOfWork, principal: Principal, endpoint_id: UUID, *, for_update: bool = False
) -> WebhookEndpoint:
    endpoint = await uow.webhooks.get_endpoint(endpoint_id, for_update=for_update)
    owner = _owner(principal)
    if endpoint is None or (owner is not None and endpoint.created_by != owner):
        raise endpoint_not_found(endpoint_id)
    return endpoint


def _delivery_not_found(delivery_id: UUID) -> NotFound:
    return NotFound(f"No webhook delivery '{delivery_id}'", code="webhook_delivery_not_found")
