"""SLA policies (服务级别协议): which tickets and after-sales orders a policy covers, the time it promises per metric
and priority (seed 002: 48 h to a first answer, 72 h to a solution; seed 003: priorities get different targets), where
each clock stands still, when to warn, and whom a breach escalates to (超时自动上报主管).

Policies are ordered by `position` and the first whose conditions all accept the subject's facts wins; the last of
each subject has no conditions, so every ticket and every order is covered. Pure data and rules: the workflows' state
names are passed in (`PolicyTerms`), never imported.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from app.domain.after_sales import AfterSalesType
from app.domain.contracts import SlaLevel
from app.domain.customers import CustomerLevel
from app.domain.errors import FieldError, InvalidInput
from app.domain.tickets import Channel, Priority, TicketType


class Subject(StrEnum):
    TICKET = "ticket"
    AFTER_SALES = "after_sales"


# The metrics: the one place their names are written.
FIRST_REPLY = "first_reply"
"""首次响应: from creation to the first public agent reply."""
NEXT_REPLY = "next_reply"
"""From the oldest public customer message not yet answered to the next public agent reply."""
PERIODIC_UPDATE = "periodic_update"
"""Between public agent replies while the ticket is worked: a ticket left idle is chased."""
RESOLUTION = "resolution"
"""解决时限: from creation (or reopening) to resolved."""
REVIEW = "review"
"""审核时效: an after-sales order from submitted to decided (approved or rejected)."""
REFUND_COMPLETION = "refund_completion"
"""退款/赔付到账: an after-sales order from approved to the money paid back."""
IDLE_REMINDER = "idle_reminder"
"""长时间未更新提醒: a ticket without an update for this long reminds its assignee (the managers when unassigned)."""
IDLE_ESCALATION = "idle_escalation"
"""…and for this long reminds the assignee's supervisor (主管). Both count from the ticket's latest update."""
IDLE_METRICS = (IDLE_REMINDER, IDLE_ESCALATION)
"""Reminders rather than promises: their deadlines chase people, never breach an SLA, and are not in the `sla`
block; they run only while a policy targets them."""
STATE_PREFIX = "state:"
"""`state:<status>`: how long one visit to a status may last (处理中 ≤ 48 h)."""

METRICS: dict[Subject, tuple[str, ...]] = {
    Subject.TICKET: (FIRST_REPLY, NEXT_REPLY, PERIODIC_UPDATE, RESOLUTION, *IDLE_METRICS),
    Subject.AFTER_SALES: (REVIEW, REFUND_COMPLETION),
}
"""Each subject's metrics besides its per-state limits."""


def state_metric(status: str) -> str:
    return f"{STATE_PREFIX}{status}"


def limited_state(metric: str) -> str | None:
    """The status a `state:<status>` metric limits, None for any other metric."""
    return metric[len(STATE_PREFIX) :] if metric.startswith(STATE_PREFIX) else None


AFTER_SALES_PRIORITY = Priority.NORMAL
"""After-sales orders have no priority: their targets are given and read at `normal`; VIP orders get a policy of
their own through its conditions."""

WAITING_ON_CUSTOMER: dict[Subject, frozenset[str]] = {
    Subject.TICKET: frozenset({"waiting_on_customer"}),
    Subject.AFTER_SALES: frozenset({"awaiting_return"}),
}
"""States in which the next move is the customer's (待客户反馈; 待退货: the goods are to be handed over)."""
WAITING_ON_THIRD_PARTY: dict[Subject, frozenset[str]] = {
    Subject.TICKET: frozenset(),
    Subject.AFTER_SALES: frozenset(),
}
"""States in which the next move is a supplier's or carrier's. No ticket state is one yet; the payment centre's and
the carriers' after-sales steps are part of what the customer was promised, so they are not listed."""


def default_pauses(subject: Subject) -> dict[str, frozenset[str]]:
    """Where each clock stands still unless a policy says otherwise.

    Waiting on the customer stops the clocks of work only the customer can unblock: resolution, periodic updates, the
    idle reminders and the refund. A reply owed to the customer never stops: first_reply and next_reply measure what
    the customer is waiting for, and a customer who writes while we wait on them is still owed an answer. Waiting on a
    third party stops the agent's own clocks (resolution, the idle reminders) but not a promise made to the customer
    (replies, updates, the refund).
    State limits need no pause: a `state:<s>` clock runs only during a visit to `s`, and the limit of a waiting state
    is exactly how long we wait (the chase), so it must not stop in its own state."""
    customer, third_party = WAITING_ON_CUSTOMER[subject], WAITING_ON_THIRD_PARTY[subject]
    if subject is Subject.TICKET:
        return {
            FIRST_REPLY: frozenset(),
            NEXT_REPLY: frozenset(),
            PERIODIC_UPDATE: customer,
            RESOLUTION: customer | third_party,
            IDLE_REMINDER: customer | third_party,
            IDLE_ESCALATION: customer | third_party,
        }
    return {REVIEW: frozenset(), REFUND_COMPLETION: customer}


@dataclass(frozen=True, slots=True)
class Target:
    """The time a metric may take. Business time is counted on the named business calendar (工作时间); calendar
    time (自然时间) counts every second and names no calendar."""

    seconds: int
    business: bool
    calendar: str | None = None


@dataclass(frozen=True, slots=True)
class WarningRule:
    """When a clock warns before it breaches: at a share of the target (0.8: four fifths used) or a number of minutes
    before the deadline, in the target's own time (business minutes for a business target). Exactly one is set."""

    share: float | None = None
    minutes: int | None = None

    def offset(self, target_seconds: int) -> int:
        """The consumed time at which the warning falls, within [0, target]."""
        if self.share is not None:
            return min(target_seconds, max(0, round(target_seconds * self.share)))
        return max(0, target_seconds - (self.minutes or 0) * 60)

    def as_document(self) -> dict[str, Any]:
        return {"share": self.share, "minutes": self.minutes}


ESCALATION_RECIPIENTS = frozenset({"assignee", "supervisor", "managers"})
"""Who can be told: the handler, the handler's supervisor (主管), the managers of the subject's business line."""


REASSIGN_TO_POOL = "pool"
"""`reassign_to` naming the claim pool (待领取池): a breach takes the subject from its handler and offers it to anyone
who may claim it. Any other name is a group's key (tickets only: after-sales orders have no group)."""


@dataclass(frozen=True, slots=True)
class Escalation:
    """Whom a warning and a breach notify, and what a breach changes: the subject's escalation level (超时升级), its
    priority one step up (`raise_priority`, tickets only, never above urgent), and who holds it (`reassign_to`: the
    claim pool or a group's key; None keeps the handler)."""

    on_warning: frozenset[str] = frozenset({"assignee"})
    on_breach: frozenset[str] = frozenset({"assignee", "supervisor"})
    raise_level: bool = True
    raise_priority: bool = False
    reassign_to: str | None = None

    def as_document(self) -> dict[str, Any]:
        """As stored and as answered: recipients in name order."""
        return {
            "on_warning": sorted(self.on_warning),
            "on_breach": sorted(self.on_breach),
            "raise_level": self.raise_level,
            "raise_priority": self.raise_priority,
            "reassign_to": self.reassign_to,
        }


def raised_priority(priority: str) -> Priority:
    """One step up (low → normal → high → urgent); urgent stays urgent."""
    ladder = list(Priority)
    return ladder[min(ladder.index(Priority(priority)) + 1, len(ladder) - 1)]


@dataclass(frozen=True)
class SlaPolicy:
    """One policy. `conditions` maps a fact to the values it accepts (all must accept; none: the default policy);
    `targets` maps a metric to its target per priority (a priority left out is not measured on that metric);
    `pauses` maps a metric to the states that stop its clock, a metric not named keeping `default_pauses`."""

    key: str
    name: str
    position: int
    subject: Subject
    conditions: Mapping[str, Collection[Any]] = field(default_factory=dict)
    targets: Mapping[str, Mapping[str, Target]] = field(default_factory=dict)
    pauses: Mapping[str, Collection[str]] = field(default_factory=dict)
    warning: WarningRule | None = field(default_factory=lambda: WarningRule(share=0.8))
    escalation: Escalation = field(default_factory=Escalation)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if self.subject in set(Subject):
            set_(self, "subject", Subject(self.subject))
        set_(self, "conditions", {name: frozenset(values) for name, values in self.conditions.items()})
        set_(self, "targets", {metric: dict(by_priority) for metric, by_priority in self.targets.items()})
        set_(self, "pauses", {metric: frozenset(states) for metric, states in self.pauses.items()})

    @property
    def is_default(self) -> bool:
        return not self.conditions

    def target(self, metric: str, priority: str) -> Target | None:
        """The target of `metric` at `priority`, None when this policy does not measure it there."""
        key = AFTER_SALES_PRIORITY if self.subject is Subject.AFTER_SALES else priority
        return self.targets.get(metric, {}).get(key)

    def pause_states(self, metric: str) -> frozenset[str]:
        named = self.pauses.get(metric)
        if named is not None:
            return frozenset(named)
        return default_pauses(self.subject).get(metric, frozenset())

    def accepts(self, facts: Mapping[str, Any]) -> bool:
        """Every condition accepts the fact of its field; a fact that is absent or None is accepted by none."""
        return all(facts.get(name) is not None and facts[name] in values for name, values in self.conditions.items())


def match(policies: Sequence[SlaPolicy], subject: Subject, facts: Mapping[str, Any]) -> SlaPolicy | None:
    """The first policy of `subject` by position whose conditions all accept `facts`; None only when the subject has
    no policy (a validated set ends with a default)."""
    ordered = sorted((p for p in policies if p.subject == subject), key=lambda p: p.position)
    return next((p for p in ordered if p.accepts(facts)), None)


class MatchedTicket(Protocol):
    """What ticket policies read of a ticket: a `Ticket`, or the re-derivation walk's light row of one."""

    @property
    def priority(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def category(self) -> str | None: ...
    @property
    def channel(self) -> str: ...
    @property
    def group_key(self) -> str | None: ...
    @property
    def business_line(self) -> str | None: ...
    @property
    def region(self) -> str | None: ...


class MatchedOrder(Protocol):
    """What after-sales policies read of an order."""

    @property
    def type(self) -> str: ...
    @property
    def business_line(self) -> str | None: ...


def ticket_facts(
    ticket: MatchedTicket,
    *,
    customer_level: str | None = None,
    vip: bool | None = None,
    contract_sla_level: str | None = None,
) -> dict[str, Any]:
    """What ticket policies match on. The customer's level and the contract's SLA level come from their records;
    `vip` defaults to whether the level is `vip` (unknown when the level is)."""
    if vip is None and customer_level is not None:
        vip = customer_level == CustomerLevel.VIP
    return {
        "priority": ticket.priority,
        "type": ticket.type,
        "category": ticket.category,
        "channel": ticket.channel,
        "customer_level": customer_level,
        "vip": vip,
        "contract_sla_level": contract_sla_level,
        "group_key": ticket.group_key,
        "business_line": ticket.business_line,
        "region": ticket.region,
    }


def after_sales_facts(
    order: MatchedOrder, *, customer_level: str | None = None, vip: bool | None = None
) -> dict[str, Any]:
    """What after-sales policies match on; `vip` defaults as in `ticket_facts`."""
    if vip is None and customer_level is not None:
        vip = customer_level == CustomerLevel.VIP
    return {"type": order.type, "business_line": order.business_line, "customer_level": customer_level, "vip": vip}


TEXT, YES_OR_NO = "text", "yes_or_no"
"""Condition fields whose values are the caller's own texts (categories, groups, regions), and true/false ones."""
CONDITION_FIELDS: dict[Subject, dict[str, type[StrEnum] | str]] = {
    Subject.TICKET: {
        "priority": Priority,
        "type": TicketType,
        "category": TEXT,
        "channel": Channel,
        "customer_level": CustomerLevel,
        "vip": YES_OR_NO,
        "contract_sla_level": SlaLevel,
        "group_key": TEXT,
        "business_line": TEXT,
        "region": TEXT,
    },
    Subject.AFTER_SALES: {
        "type": AfterSalesType,
        "business_line": TEXT,
        "customer_level": CustomerLevel,
        "vip": YES_OR_NO,
    },
}
"""The facts each subject's policies may match on, with the values each accepts."""


@dataclass(frozen=True, slots=True)
class SubjectStates:
    """A workflow's state names, and which of them are final (a final state has no time limit)."""

    names: frozenset[str]
    final: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class PolicyTerms:
    """What policies may name: each subject's states (from its workflows) and, when given, the business calendars
    and the groups that exist."""

    states: Mapping[Subject, SubjectStates]
    calendars: Collection[str] | None = None
    groups: Collection[str] | None = None


_KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def policy_errors(policy: SlaPolicy, terms: PolicyTerms) -> list[FieldError]:
    """Every problem of one policy on its own, each a JSON pointer into the policy."""
    errors: list[FieldError] = []
    if not _KEY.match(policy.key):
        errors.append(FieldError("/key", "use 1-64 lower-case letters, digits, '_', '.' or '-'"))
    if not policy.name.strip():
        errors.append(FieldError("/name", "must not be blank"))
    if not isinstance(policy.subject, Subject):
        known = ", ".join(Subject)
        return [*errors, FieldError("/subject", f"{policy.subject!r} is not a subject ({known})")]
    states = terms.states.get(policy.subject, SubjectStates(frozenset()))
    errors += _condition_errors(policy, terms.groups)
    errors += _target_errors(policy, states, terms.calendars)
    errors += _pause_errors(policy, states)
    errors += _warning_errors(policy.warning)
    errors += _escalation_errors(policy, terms.groups)
    return errors


def check_policies(policies: Sequence[SlaPolicy], terms: PolicyTerms) -> None:
    """Raise InvalidInput naming every problem of the set, pointers `/<index>/…` into `policies`: each policy's own,
    duplicate keys and positions, and a subject whose last policy by position has conditions (no default)."""
    errors: list[FieldError] = []
    first_key: dict[str, int] = {}
    first_position: dict[tuple[Subject, int], int] = {}
    for index, policy in enumerate(policies):
        errors += [FieldError(f"/{index}{e.pointer}", e.detail) for e in policy_errors(policy, terms)]
        if policy.key in first_key:
            errors.append(FieldError(f"/{index}/key", f"{policy.key!r} is the key of /{first_key[policy.key]} too"))
        first_key.setdefault(policy.key, index)
        slot = (policy.subject, policy.position)
        if slot in first_position:
            errors.append(
                FieldError(
                    f"/{index}/position",
                    f"{policy.position} is the position of /{first_position[slot]} too: the order must be total",
                )
            )
        first_position.setdefault(slot, index)
    for subject in Subject:
        indexed = [(p.position, i) for i, p in enumerate(policies) if p.subject == subject]
        if indexed and not policies[max(indexed)[1]].is_default:
            errors.append(
                FieldError(
                    f"/{max(indexed)[1]}/conditions",
                    f"the last {subject} policy by position must have no conditions: it is the default that covers "
                    f"every {subject.replace('_', '-')} no other policy matches",
                )
            )
    if errors:
        raise InvalidInput("The SLA policies cannot be used as sent", errors=errors)


def _condition_errors(policy: SlaPolicy, groups: Collection[str] | None) -> list[FieldError]:
    errors: list[FieldError] = []
    fields_ = CONDITION_FIELDS[policy.subject]
    for name, values in policy.conditions.items():
        where = f"/conditions/{_token(name)}"
        if name not in fields_:
            known = ", ".join(fields_)
            errors.append(FieldError(where, f"{policy.subject} policies cannot match on {name!r} (only {known})"))
            continue
        if not values:
            errors.append(FieldError(where, "accepts no value: leave the field out to accept any"))
        kind = fields_[name]
        if kind == YES_OR_NO:
            if any(not isinstance(v, bool) for v in values):
                errors.append(FieldError(where, "accepts true or false only"))
        elif kind == TEXT:
            if any(not isinstance(v, str) or not v for v in values):
                errors.append(FieldError(where, "accepts non-empty texts only"))
            elif name == "group_key" and groups is not None and (unknown := sorted(set(values) - set(groups))):
                errors.append(FieldError(where, f"no group {', '.join(map(repr, unknown))}"))
        elif isinstance(kind, type):
            allowed = {member.value for member in kind}
            unknown = sorted(str(v) for v in values if v not in allowed)
            if unknown:
                errors.append(
                    FieldError(where, f"unknown {name} {', '.join(unknown)} (known: {', '.join(sorted(allowed))})")
                )
    return errors


def _target_errors(policy: SlaPolicy, states: SubjectStates, calendars: Collection[str] | None) -> list[FieldError]:
    errors: list[FieldError] = []
    priorities = (AFTER_SALES_PRIORITY,) if policy.subject is Subject.AFTER_SALES else tuple(Priority)
    for metric, by_priority in policy.targets.items():
        where = f"/targets/{_token(metric)}"
        problem = _metric_problem(policy.subject, metric, states)
        if problem:
            errors.append(FieldError(where, problem))
            continue
        if not by_priority:
            errors.append(FieldError(where, "names no priority: leave the metric out to not measure it"))
        for priority, target in by_priority.items():
            at = f"{where}/{_token(priority)}"
            if priority not in priorities:
                hint = (
                    "after-sales orders have no priority: give the target under normal"
                    if policy.subject is Subject.AFTER_SALES
                    else f"is not a priority ({', '.join(priorities)})"
                )
                errors.append(FieldError(at, hint))
                continue
            errors += _one_target_errors(at, target, calendars)
    return errors


def _one_target_errors(at: str, target: Target, calendars: Collection[str] | None) -> list[FieldError]:
    errors: list[FieldError] = []
    if isinstance(target.seconds, bool) or not isinstance(target.seconds, int) or target.seconds <= 0:
        errors.append(FieldError(f"{at}/seconds", "must be a whole number of seconds above 0"))
    if target.business and not target.calendar:
        errors.append(FieldError(f"{at}/calendar", "business time needs the business calendar it is counted on"))
    elif not target.business and target.calendar:
        errors.append(FieldError(f"{at}/calendar", "calendar time counts every second: name no calendar"))
    elif target.business and calendars is not None and target.calendar not in calendars:
        errors.append(FieldError(f"{at}/calendar", f"no business calendar {target.calendar!r}"))
    return errors


def _pause_errors(policy: SlaPolicy, states: SubjectStates) -> list[FieldError]:
    errors: list[FieldError] = []
    for metric, paused_in in policy.pauses.items():
        where = f"/pauses/{_token(metric)}"
        problem = _metric_problem(policy.subject, metric, states)
        if problem:
            errors.append(FieldError(where, problem))
            continue
        unknown = sorted(set(paused_in) - states.names)
        if unknown:
            errors.append(FieldError(where, f"unknown {policy.subject} states {', '.join(unknown)}"))
        own = limited_state(metric)
        if own is not None and own in paused_in:
            errors.append(FieldError(where, f"{metric} runs only in {own}: paused there it would never run"))
    return errors


def _metric_problem(subject: Subject, metric: str, states: SubjectStates) -> str | None:
    status = limited_state(metric)
    if status is None:
        if metric in METRICS[subject]:
            return None
        return f"{metric!r} is not a {subject} metric ({', '.join(METRICS[subject])} or state:<status>)"
    if status not in states.names:
        return f"{status!r} is not a {subject} state"
    if status in states.final:
        return f"{status} is final: a ticket or order stays there, so it has no time limit"
    return None


def _warning_errors(warning: WarningRule | None) -> list[FieldError]:
    if warning is None:
        return []
    if (warning.share is None) == (warning.minutes is None):
        return [FieldError("/warning", "give either share or minutes")]
    if warning.share is not None and not 0 < warning.share < 1:
        return [FieldError("/warning/share", "must be between 0 and 1, e.g. 0.8 to warn when four fifths are used")]
    if warning.minutes is not None and (isinstance(warning.minutes, bool) or warning.minutes <= 0):
        return [FieldError("/warning/minutes", "must be a whole number of minutes above 0")]
    return []


def _escalation_errors(policy: SlaPolicy, groups: Collection[str] | None) -> list[FieldError]:
    errors: list[FieldError] = []
    escalation = policy.escalation
    for name, recipients in (("on_warning", escalation.on_warning), ("on_breach", escalation.on_breach)):
        unknown = sorted(set(recipients) - ESCALATION_RECIPIENTS)
        if unknown:
            known = ", ".join(sorted(ESCALATION_RECIPIENTS))
            errors.append(FieldError(f"/escalation/{name}", f"unknown recipients {', '.join(unknown)} ({known})"))
    if escalation.raise_priority and policy.subject is Subject.AFTER_SALES:
        errors.append(FieldError("/escalation/raise_priority", "after-sales orders have no priority to raise"))
    target = escalation.reassign_to
    if target is None or target == REASSIGN_TO_POOL:
        return errors
    if policy.subject is Subject.AFTER_SALES:
        errors.append(
            FieldError(
                "/escalation/reassign_to",
                f"after-sales orders have no group: reassign to {REASSIGN_TO_POOL!r} or keep the handler (null)",
            )
        )
    elif not isinstance(target, str) or not target:
        errors.append(FieldError("/escalation/reassign_to", f"{REASSIGN_TO_POOL!r}, a group's key or null"))
    elif groups is not None and target not in groups:
        errors.append(FieldError("/escalation/reassign_to", f"no group {target!r} (or {REASSIGN_TO_POOL!r})"))
    return errors


def _token(text: str) -> str:
    """`text` as one JSON pointer reference token (RFC 6901)."""
    return str(text).replace("~", "~0").replace("/", "~1")
