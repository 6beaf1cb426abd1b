"""SLA policy use cases. Each subject's policies form one total order, positions 1..n: a policy put at a taken
position pushes that one and those after it one place later, and a deletion closes the gap. Every change is checked
as the whole list of the subject it leaves (`check_policies`: a default last, known metrics, states, calendars and
groups) and announced as `sla_policy.created`, `.updated` or `.deleted`, with `sla_policies.reordered` when other
policies' positions moved, so that the SLA clock can derive open tickets' and orders' deadlines again."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from pydantic_core import to_jsonable_python

from app.domain.clock import Clock
from app.domain.errors import Conflict, FieldError, InvalidInput, NotFound
from app.domain.events import OutboxEvent
from app.domain.ids import new_id
from app.domain.preconditions import Precondition
from app.domain.sla_policies import (
    CONDITION_FIELDS,
    METRICS,
    REASSIGN_TO_POOL,
    YES_OR_NO,
    PolicyTerms,
    SlaPolicy,
    Subject,
    SubjectStates,
    Target,
    check_policies,
)
from app.domain.tickets import Priority
from app.domain.unit_of_work import SlaPolicyRecord, UnitOfWork, UnitOfWorkFactory
from app.services.reference_events import Announced, announce
from app.services.revisions import Saved, save_revision
from app.workflows.after_sales import AFTER_SALES_WORKFLOWS
from app.workflows.engine import Workflow
from app.workflows.ticket import TICKET

AGGREGATE = "sla_policy"
CREATED = f"{AGGREGATE}.created"
UPDATED = f"{AGGREGATE}.updated"
DELETED = f"{AGGREGATE}.deleted"
REORDERED = "sla_policies.reordered"
EVENT_TYPES = frozenset({CREATED, UPDATED, DELETED, REORDERED})
MAX_POLICIES = 200
"""Policies one subject holds at most: a ticket is matched against them in order, and every change checks them all."""
_ORDER_IDS = {subject: uuid5(NAMESPACE_URL, f"urn:aftersales:sla-policies:{subject}") for subject in Subject}
"""The outbox aggregate of a subject's order, for `sla_policies.reordered`: one fixed id per subject."""


def _states(workflows: Iterable[Workflow[Any]]) -> SubjectStates:
    states = [state for workflow in workflows for state in workflow.states]
    return SubjectStates(frozenset(s.name for s in states), frozenset(s.name for s in states if s.final))


STATES = {Subject.TICKET: _states([TICKET]), Subject.AFTER_SALES: _states(AFTER_SALES_WORKFLOWS.values())}
"""Each subject's state names and final states, from its workflows (an after-sales state from any scenario's)."""
CONDITION_NAMES = tuple(dict.fromkeys(name for fields in CONDITION_FIELDS.values() for name in fields))
"""Every fact a policy of some subject may match on, in the order views show them."""


def policy_view(record: SlaPolicyRecord) -> dict[str, Any]:
    """The policy as `GET` answers it and as its events carry it: every condition and priority named, null where the
    policy accepts anything or measures nothing."""
    policy = record.data
    warning = policy.warning
    return {
        "id": record.id,
        "key": policy.key,
        "name": policy.name,
        "subject": policy.subject,
        "position": policy.position,
        "conditions": {name: _accepted(policy, name) for name in CONDITION_NAMES},
        "targets": {
            metric: {priority.value: _target(policy.targets[metric].get(priority)) for priority in Priority}
            for metric in _metric_order(policy.subject, policy.targets)
        },
        "pauses": {metric: sorted(policy.pauses[metric]) for metric in _metric_order(policy.subject, policy.pauses)},
        "warning": None if warning is None else warning.as_document(),
        "escalation": policy.escalation.as_document(),
        "version": record.version,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


ANNOUNCED: Announced[SlaPolicyRecord] = Announced(AGGREGATE, "key", policy_view, split=True)
"""`policy_view` in `<aggregate>.created` / `.updated` events, as reference data announces its upserts."""


def _accepted(policy: SlaPolicy, name: str) -> Any:
    values = policy.conditions.get(name)
    if values is None:
        return None
    if CONDITION_FIELDS[policy.subject].get(name) == YES_OR_NO:
        return next(iter(values))
    return sorted(values, key=str)


def _target(target: Target | None) -> dict[str, Any] | None:
    if target is None:
        return None
    return {"seconds": target.seconds, "business": target.business, "calendar": target.calendar}


def _metric_order(subject: Subject, metrics: Iterable[str]) -> list[str]:
    """The subject's own metrics in their usual order, then per-state limits by name."""
    known = METRICS[subject]
    return sorted(metrics, key=lambda m: (known.index(m), "") if m in known else (len(known), m))


class SlaPolicyService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, on_change: Callable[[], None] = lambda: None) -> None:
        """`on_change` runs after each committed change: the SLA clock forgets its snapshot of policies and
        calendars, so this process uses the change at once (other processes within the snapshot's refresh)."""
        self._on_change = on_change
        self._uow = uow
        self._clock = clock

    async def upsert(self, policy: SlaPolicy, precondition: Precondition) -> Saved[SlaPolicyRecord]:
        """Create or replace `policy` at its position: the policy there and those after it move one place later (a
        policy moved within its subject first leaves its own place)."""
        async with self._uow.write() as uow:
            repo = uow.sla_policies
            await repo.lock()
            existing = await repo.get(policy.key)
            precondition.check(existing.version if existing else None)
            others = [r for r in await repo.records(policy.subject) if r.key != policy.key]
            _check_room(policy, others)
            before, after = others[: policy.position - 1], others[policy.position - 1 :]
            placed = _renumbered([*(r.data for r in before), policy, *(r.data for r in after)])
            left: list[SlaPolicyRecord] = []  # the subject the policy leaves, when it changes subject
            if existing is not None and existing.data.subject != policy.subject:
                left = [r for r in await repo.records(existing.data.subject) if r.key != policy.key]
                _check_default_kept(existing, left)
            left_placed = _renumbered(r.data for r in left)
            await _check(
                uow, [*placed, *left_placed], _as_sent(policy.position - 1), "The SLA policy cannot be used as sent"
            )
            now = self._clock.now()
            saved = await save_revision(
                repo, existing, policy, now, lambda: SlaPolicyRecord(new_id(), policy, 1, now, now)
            )
            moved = [*_moved(others, placed, now), *_moved(left, left_placed, now)]
            await repo.move(moved)
            await announce(uow, ANNOUNCED, saved, now)
            if saved.changed:
                await uow.sla_rederivations.request(f"{ANNOUNCED.type_of(saved)}:{policy.key}", now)
            for subject in {r.data.subject for r in moved}:
                await _announce_order(uow, subject, now)
            await uow.commit()
        self._on_change()
        return saved

    async def get(self, key: str) -> SlaPolicyRecord:
        async with self._uow.read() as uow:
            return _found(key, await uow.sla_policies.get(key))

    async def ordered(self, subject: Subject) -> list[SlaPolicyRecord]:
        """All of the subject's policies in position order: a short list (at most MAX_POLICIES), read whole."""
        async with self._uow.read() as uow:
            return await uow.sla_policies.records(subject)

    async def reorder(self, subject: Subject, keys: Sequence[str]) -> list[SlaPolicyRecord]:
        """`keys` is the subject's whole new order, each policy exactly once; positions become 1..n. Naming every
        policy means a policy created or deleted since the caller read the list is noticed, not silently placed."""
        async with self._uow.write() as uow:
            repo = uow.sla_policies
            await repo.lock()
            records = await repo.records(subject)
            by_key = {r.key: r for r in records}
            _check_keys(subject, keys, by_key)
            ordered = [by_key[key] for key in keys]
            candidates = _renumbered(r.data for r in ordered)
            await _check(uow, candidates, _by_key_index, f"The {subject} policies cannot be put in this order")
            now = self._clock.now()
            moved = _moved(ordered, candidates, now)
            await repo.move(moved)
            if moved:
                await _announce_order(uow, subject, now)
                await uow.sla_rederivations.request(f"{REORDERED}:{subject}", now)
            await uow.commit()
        self._on_change()
        return _with_moves(ordered, moved)

    async def delete(self, key: str, precondition: Precondition) -> None:
        """Delete a policy, naming its version (If-Match is required: a deletion cannot be undone); those after it
        move up. The last policy of a subject that has others must stay a default: 409 `sla_default_required`."""
        async with self._uow.write() as uow:
            repo = uow.sla_policies
            await repo.lock()
            existing = _found(key, await repo.get(key))
            replace(precondition, required=True).check(existing.version)
            rest = [r for r in await repo.records(existing.data.subject) if r.key != key]
            _check_default_kept(existing, rest)
            candidates = _renumbered(r.data for r in rest)
            await _check(uow, candidates, _as_sent(None), f"The SLA policy '{key}' cannot be deleted")
            now = self._clock.now()
            await repo.delete(existing)
            moved = _moved(rest, candidates, now)
            await repo.move(moved)
            record = to_jsonable_python(policy_view(existing))
            payload = {"key": key, "version": existing.version, "change": "deleted", AGGREGATE: record}
            await uow.outbox.add(OutboxEvent(new_id(), DELETED, AGGREGATE, existing.id, now, payload))
            await uow.sla_rederivations.request(f"{DELETED}:{key}", now)
            if moved:
                await _announce_order(uow, existing.data.subject, now)
            await uow.commit()
        self._on_change()


def _found(key: str, record: SlaPolicyRecord | None) -> SlaPolicyRecord:
    if record is None:
        raise NotFound(f"No SLA policy '{key}'", code="sla_policy_not_found")
    return record


def _check_room(policy: SlaPolicy, others: Sequence[SlaPolicyRecord]) -> None:
    """A new policy of the subject fits under MAX_POLICIES, and its position is one the order has."""
    subject = policy.subject
    if len(others) >= MAX_POLICIES:
        raise InvalidInput(
            f"The {subject} policies are {MAX_POLICIES} already, the most a subject holds",
            code="invalid_sla_policy",
            errors=[FieldError("/subject", f"{subject} holds {MAX_POLICIES} policies: delete one first")],
        )
    last = len(others) + 1
    if policy.position > last:
        besides = f"{len(others)} other {subject} policies" if others else f"no other {subject} policy"
        raise InvalidInput(
            f"Reordering to a position that does not exist: there are {besides}",
            code="invalid_sla_policy",
            errors=[FieldError("/position", f"reordering to a position that does not exist: use 1–{last}")],
        )


def _check_default_kept(leaving: SlaPolicyRecord, rest: Sequence[SlaPolicyRecord]) -> None:
    """The policies a policy leaves (deleted, or moved to the other subject) still end with a default."""
    if not rest or rest[-1].data.is_default:
        return
    subject = leaving.data.subject
    raise Conflict(
        f"Without '{leaving.key}' the last {subject} policy would be '{rest[-1].key}', which has conditions: the last "
        f"one must be the default that covers every {subject.replace('_', '-')} no other policy matches. Move a "
        "policy without conditions to the end first",
        code="sla_default_required",
    )


def _check_keys(subject: Subject, keys: Sequence[str], by_key: dict[str, SlaPolicyRecord]) -> None:
    errors: list[FieldError] = []
    first: dict[str, int] = {}
    for index, key in enumerate(keys):
        if key not in by_key:
            errors.append(FieldError(f"/keys/{index}", f"no {subject} policy {key!r}"))
        elif key in first:
            errors.append(FieldError(f"/keys/{index}", f"{key!r} is /keys/{first[key]} too: name each policy once"))
        first.setdefault(key, index)
    missing = [key for key in by_key if key not in first]
    if missing:
        errors.append(FieldError("/keys", f"leaves out {', '.join(missing)}: name every {subject} policy exactly once"))
    if errors:
        raise InvalidInput(
            f"The {subject} policies cannot be put in this order", code="invalid_sla_policy", errors=errors
        )


def _renumbered(policies: Iterable[SlaPolicy]) -> list[SlaPolicy]:
    return [replace(policy, position=index) for index, policy in enumerate(policies, start=1)]


def _moved(records: Sequence[SlaPolicyRecord], placed: Sequence[SlaPolicy], now: datetime) -> list[SlaPolicyRecord]:
    """The records whose position the new order changes, at their next version."""
    position = {policy.key: policy.position for policy in placed}
    return [
        replace(r, data=replace(r.data, position=position[r.key]), version=r.version + 1, updated_at=now)
        for r in records
        if r.data.position != position[r.key]
    ]


def _with_moves(records: Sequence[SlaPolicyRecord], moved: Sequence[SlaPolicyRecord]) -> list[SlaPolicyRecord]:
    revised = {r.key: r for r in moved}
    return [revised.get(r.key, r) for r in records]


Locate = Callable[[int, SlaPolicy, str, str], FieldError]
"""Where an error of `check_policies` goes in the request: (index in the checked list, the policy, pointer in that
policy, detail) → the error the caller sees."""


def _as_sent(own: int | None) -> Locate:
    """The written policy's errors point into the body; another policy's are named in the detail (it was stored
    valid, so this change made it wrong, e.g. by leaving it last with conditions)."""

    def locate(index: int, policy: SlaPolicy, at: str, detail: str) -> FieldError:
        if index == own:
            return FieldError(at, detail)
        return FieldError("", f"with this change, the {policy.subject} policy '{policy.key}' {at or '/'}: {detail}")

    return locate


def _by_key_index(index: int, policy: SlaPolicy, at: str, detail: str) -> FieldError:
    """A reorder's errors point at the key that put the policy there."""
    return FieldError(f"/keys/{index}", f"'{policy.key}' {at or '/'}: {detail}")


async def _check(uow: UnitOfWork, policies: Sequence[SlaPolicy], locate: Locate, title: str) -> None:
    """check_policies over the whole resulting list, its calendars and groups looked up as they exist now."""
    try:
        check_policies(policies, await _terms(uow, policies))
    except InvalidInput as refused:
        errors = []
        for error in refused.errors:
            index, _, at = error.pointer.removeprefix("/").partition("/")
            errors.append(locate(int(index), policies[int(index)], f"/{at}" if at else "", error.detail))
        raise InvalidInput(title, code="invalid_sla_policy", errors=errors) from refused


async def _terms(uow: UnitOfWork, policies: Sequence[SlaPolicy]) -> PolicyTerms:
    calendars = {t.calendar for p in policies for by in p.targets.values() for t in by.values() if t.calendar}
    groups = {v for p in policies for v in p.conditions.get("group_key", ()) if isinstance(v, str)}
    groups |= {
        p.escalation.reassign_to
        for p in policies
        if isinstance(p.escalation.reassign_to, str) and p.escalation.reassign_to != REASSIGN_TO_POOL
    }
    return PolicyTerms(
        STATES,
        calendars=await uow.sla_policies.known_calendars(calendars),
        groups=await uow.groups.existing_keys(groups) if groups else set(),
    )


async def _announce_order(uow: UnitOfWork, subject: Subject, now: datetime) -> None:
    """The subject's whole order as it now stands, read back inside the transaction that changed it."""
    order = [
        {"key": r.key, "position": r.data.position, "version": r.version}
        for r in await uow.sla_policies.records(subject)
    ]
    payload = {"subject": subject.value, "order": order}
    await uow.outbox.add(OutboxEvent(new_id(), REORDERED, "sla_policies", _ORDER_IDS[subject], now, payload))
