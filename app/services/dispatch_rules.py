"""派单规则: the ordered dispatch rules, kept by key; managers and admins change them, staff read them. A rule is
checked whole against what exists (groups, skills some agent holds) and what its fields may hold."""

from __future__ import annotations

from dataclasses import replace

from app.domain.clock import Clock
from app.domain.contracts import SlaLevel
from app.domain.customers import CustomerLevel
from app.domain.dispatch import DispatchRule, DispatchRuleRecord, Strategy
from app.domain.errors import FieldError, InvalidInput, NotFound
from app.domain.ids import new_id
from app.domain.pagination import Page, PageRequest
from app.domain.preconditions import Precondition
from app.domain.tickets import Channel, Priority, TicketType
from app.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.services.dispatch import Dispatcher
from app.services.revisions import Saved, save_revision

MAX_RULES = 500
"""Rules kept at most: every decision reads them all (from an in-process copy)."""
CLOSED_VALUES: dict[str, frozenset[str]] = {
    "type": frozenset(TicketType),
    "priority": frozenset(Priority),
    "channel": frozenset(Channel),
    "customer_level": frozenset(CustomerLevel),
    "contract_sla_level": frozenset(SlaLevel),
    "high_risk": frozenset({"true", "false"}),
}
"""The fields whose values are a closed set: a condition naming another value could never hold."""


def _found(key: str, record: DispatchRuleRecord | None) -> DispatchRuleRecord:
    if record is None:
        raise NotFound(f"No dispatch rule '{key}'", code="dispatch_rule_not_found")
    return record


class DispatchRuleService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, dispatcher: Dispatcher) -> None:
        self._uow = uow
        self._clock = clock
        self._dispatcher = dispatcher

    async def upsert(self, rule: DispatchRule, precondition: Precondition) -> Saved[DispatchRuleRecord]:
        """Create or replace a rule by key (an identical one keeps its version)."""
        async with self._uow.write() as uow:
            existing = await uow.dispatch_rules.get(rule.key, for_update=True)
            precondition.check(existing.version if existing else None)
            await _check(uow, rule, creating=existing is None)
            now = self._clock.now()
            saved = await save_revision(
                uow.dispatch_rules, existing, rule, now, lambda: DispatchRuleRecord(new_id(), rule, 1, now, now)
            )
            await uow.commit()
        if saved.changed:
            self._dispatcher.forget()
        return saved

    async def get(self, key: str) -> DispatchRuleRecord:
        async with self._uow.read() as uow:
            return _found(key, await uow.dispatch_rules.get(key))

    async def list(self, page: PageRequest) -> Page[DispatchRuleRecord]:
        """In the order they are tried."""
        async with self._uow.read() as uow:
            return await uow.dispatch_rules.list(page)

    async def delete(self, key: str, precondition: Precondition) -> None:
        """If-Match is required: a deletion cannot be undone."""
        async with self._uow.write() as uow:
            existing = _found(key, await uow.dispatch_rules.get(key, for_update=True))
            replace(precondition, required=True).check(existing.version)
            await uow.dispatch_rules.delete(key)
            await uow.commit()
        self._dispatcher.forget()


async def _check(uow: UnitOfWork, rule: DispatchRule, *, creating: bool) -> None:
    """Every reason the rule cannot be kept, each at its field: unknown groups or skills, values a field never holds,
    a condition on one field twice, optional skills wanted by a strategy that does not read them."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, condition in enumerate(rule.conditions):
        if condition.field in seen:
            errors.append(FieldError(f"/conditions/{i}/field", f"'{condition.field}' is conditioned on already"))
        seen.add(condition.field)
        allowed = CLOSED_VALUES.get(condition.field)
        for value in sorted(condition.values - allowed if allowed is not None else set()):
            errors.append(
                FieldError(f"/conditions/{i}/values", f"'{value}' is not a {condition.field}: one of {sorted(allowed)}")
            )
    groups = {rule.group_key} | ({rule.overflow_group} if rule.overflow_group else set())
    known = await uow.groups.existing_keys(groups)
    if rule.group_key not in known:
        errors.append(FieldError("/group", f"unknown group '{rule.group_key}'"))
    if rule.overflow_group is not None and rule.overflow_group not in known:
        errors.append(FieldError("/overflow_group", f"unknown group '{rule.overflow_group}'"))
    if rule.overflow_group == rule.group_key:
        errors.append(FieldError("/overflow_group", "is the rule's own group"))
    held = await uow.dispatch_rules.held_skills(set(rule.required_skills | rule.optional_skills))
    for name in ("required_skills", "optional_skills"):
        for skill in sorted(getattr(rule, name) - held):
            errors.append(FieldError(f"/{name}", f"unknown skill '{skill}': no agent holds it"))
    if rule.min_optional and rule.strategy is not Strategy.SKILL_MATCH:
        errors.append(FieldError("/min_optional", "only the skill_match strategy wants optional skills"))
    if rule.min_optional > len(rule.optional_skills):
        errors.append(FieldError("/min_optional", f"more than the {len(rule.optional_skills)} optional skills named"))
    if rule.relax_after is not None and not rule.min_optional:
        errors.append(FieldError("/relax_after_minutes", "relaxes nothing: min_optional is 0"))
    if creating and len(await uow.dispatch_rules.ordered()) >= MAX_RULES:
        errors.append(FieldError("/", f"there are {MAX_RULES} rules already, the most kept"))
    if errors:
        raise InvalidInput(
            f"The dispatch rule '{rule.key}' cannot be kept", code="invalid_dispatch_rule", errors=errors
        )
