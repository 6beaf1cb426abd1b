"""SLA policy contract: what a policy matches, the time it promises per metric and priority, where its clocks stand
still, when it warns and what a breach does; the whole order of a subject's policies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import ConfigDict, Field, StrictBool, StrictInt, field_validator

from app.domain.sla_policies import (
    CONDITION_FIELDS,
    ESCALATION_RECIPIENTS,
    METRICS,
    REASSIGN_TO_POOL,
    Escalation,
    SlaPolicy,
    Subject,
    Target,
    WarningRule,
)
from app.domain.tickets import Priority
from app.domain.unit_of_work import SlaPolicyRecord
from app.schemas.common import KEY_PATTERN, Input, Line, Output
from app.services.sla_policies import MAX_POLICIES, policy_view

POLICY_KEY_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
"""A policy's key: lower-case letters, digits, `_`, `.`, `-`; at most 64 (what check_policies accepts)."""
MAX_TARGET_SECONDS = 366 * 86_400
"""A year: no promise made to a customer is longer, and its deadline stays well inside the years calendars cover."""
MAX_NAME_LENGTH = 64
_METRICS_TEXT = ", ".join(f"`{metric}`" for metrics in METRICS.values() for metric in metrics)
_RECIPIENTS_TEXT = ", ".join(f"`{r}`" for r in sorted(ESCALATION_RECIPIENTS))

ConditionValue = Annotated[Line, Field(min_length=1, max_length=200)]
Accepted = Annotated[list[ConditionValue], Field(min_length=1, max_length=100)]
StateName = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH)]
Recipients = Annotated[list[str], Field(max_length=len(ESCALATION_RECIPIENTS), description=_RECIPIENTS_TEXT)]


def _condition(name: str, text: str) -> Any:
    subjects = " and ".join(s.value for s in Subject if name in CONDITION_FIELDS[s])
    return Field(None, description=f"{text}; {subjects} policies.")


class SlaConditionsIn(Input):
    """What a policy matches: each field set accepts the values listed (all set fields must accept); a field left
    out or null accepts anything. A policy with no conditions is its subject's default."""

    priority: Accepted | None = _condition("priority", "Ticket priorities: low, normal, high, urgent")
    type: Accepted | None = _condition("type", "Ticket types, or after-sales types (refund, exchange, …)")
    category: Accepted | None = _condition("category", "The ticket's category, as the caller names it")
    channel: Accepted | None = _condition("channel", "Intake channels (phone_400, app, wechat, …)")
    customer_level: Accepted | None = _condition("customer_level", "The customer's level (normal, silver, gold, vip)")
    vip: StrictBool | None = _condition("vip", "Whether the customer is a VIP")
    contract_sla_level: Accepted | None = _condition("contract_sla_level", "The service contract's SLA level")
    group_key: Accepted | None = _condition("group_key", "Keys of existing groups the ticket is queued to")
    business_line: Accepted | None = _condition("business_line", "Business lines")
    region: Accepted | None = _condition("region", "Regions")

    def to_conditions(self) -> dict[str, frozenset[Any]]:
        sent = {name: getattr(self, name) for name in type(self).model_fields}
        return {
            name: frozenset([value] if isinstance(value, bool) else value)
            for name, value in sent.items()
            if value is not None
        }


class SlaTargetIn(Input):
    """The time a metric may take: business time (工作时间) on the named business calendar, or calendar time (自然时间,
    every second, no calendar)."""

    seconds: StrictInt = Field(ge=1, le=MAX_TARGET_SECONDS, examples=[172_800])
    business: StrictBool = Field(description="Counted in the calendar's working hours; false: every second counts.")
    calendar: str | None = Field(
        None, pattern=KEY_PATTERN, examples=["cn-office"], description="The business calendar's key (business only)."
    )

    def to_target(self) -> Target:
        return Target(self.seconds, self.business, self.calendar)


class SlaPriorityTargetsIn(Input):
    """A metric's target per priority; a priority left out or null is not measured. After-sales orders have no
    priority: their targets go under `normal`."""

    low: SlaTargetIn | None = None
    normal: SlaTargetIn | None = None
    high: SlaTargetIn | None = None
    urgent: SlaTargetIn | None = None

    def to_targets(self) -> dict[str, Target]:
        return {p.value: target.to_target() for p in Priority if (target := getattr(self, p.value)) is not None}


class SlaWarningIn(Input):
    """When a clock warns before it breaches: at a share of the target, or some minutes before the deadline (in the
    target's own time). Exactly one."""

    share: float | None = Field(
        None, gt=0, lt=1, allow_inf_nan=False, strict=True, examples=[0.8], description="0.8: four fifths used."
    )
    minutes: StrictInt | None = Field(None, ge=1, le=MAX_TARGET_SECONDS // 60, examples=[30])

    def to_rule(self) -> WarningRule:
        return WarningRule(share=self.share, minutes=self.minutes)


class SlaEscalationIn(Input):
    """Whom a warning and a breach notify, and what a breach changes (超时升级)."""

    on_warning: Recipients = Field(default_factory=lambda: ["assignee"])
    on_breach: Recipients = Field(default_factory=lambda: ["assignee", "supervisor"])
    raise_level: StrictBool = Field(True, description="A breach raises the escalation level.")
    raise_priority: StrictBool = Field(
        False, description="A breach raises the ticket's priority one step, never above urgent (tickets only)."
    )
    reassign_to: str | None = Field(
        None,
        pattern=KEY_PATTERN,
        examples=[REASSIGN_TO_POOL],
        description=f"A breach hands the subject to the claim pool (`{REASSIGN_TO_POOL}`, 待领取池) or to a group by "
        "its key (tickets only); null keeps the handler.",
    )

    def to_escalation(self) -> Escalation:
        return Escalation(
            on_warning=frozenset(self.on_warning),
            on_breach=frozenset(self.on_breach),
            raise_level=self.raise_level,
            raise_priority=self.raise_priority,
            reassign_to=self.reassign_to,
        )


_EXAMPLE = {
    "name": "Standard service (标准服务)",
    "subject": "ticket",
    "position": 1,
    "conditions": {},
    "targets": {
        "first_reply": {
            "normal": {"seconds": 172_800, "business": True, "calendar": "cn-office"},
            "urgent": {"seconds": 14_400, "business": False},
        },
        "resolution": {
            "normal": {"seconds": 259_200, "business": True, "calendar": "cn-office"},
            "urgent": {"seconds": 86_400, "business": False},
        },
    },
    "warning": {"share": 0.8},
    "escalation": {"on_breach": ["assignee", "supervisor"], "raise_priority": True, "reassign_to": "pool"},
}


class SlaPolicyIn(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    name: Line = Field(min_length=1, max_length=200)
    subject: Subject
    position: StrictInt = Field(
        ge=1,
        le=MAX_POLICIES,
        description="Place in the subject's order (1 is tried first). A taken position pushes the policy there and "
        "those after it one place later; at most one past the last.",
    )
    conditions: SlaConditionsIn = Field(default_factory=SlaConditionsIn)
    targets: dict[str, SlaPriorityTargetsIn] = Field(
        max_length=32,
        description=f"Metric → target per priority: {_METRICS_TEXT}, or `state:<status>` to limit one visit to a "
        "status. A metric left out is not measured.",
    )
    pauses: dict[str, list[StateName]] = Field(
        default_factory=dict,
        max_length=32,
        description="Metric → the states that stop its clock, replacing the usual ones (waiting on the customer "
        "stops resolution, periodic updates and the refund; nothing stops a reply owed).",
    )
    warning: SlaWarningIn | None = Field(
        default_factory=lambda: SlaWarningIn(share=0.8), description="Null: no warning before a breach."
    )
    escalation: SlaEscalationIn = Field(default_factory=SlaEscalationIn)

    @field_validator("targets", "pauses")
    @classmethod
    def _short_metric_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        """Metric names are short words: a long one is refused here rather than echoed back by deeper checks."""
        if any(len(name) > MAX_NAME_LENGTH for name in value):
            raise ValueError(f"metric names are at most {MAX_NAME_LENGTH} characters")
        return value

    def to_policy(self, key: str) -> SlaPolicy:
        return SlaPolicy(
            key=key,
            name=self.name,
            position=self.position,
            subject=self.subject,
            conditions=self.conditions.to_conditions(),
            targets={metric: by_priority.to_targets() for metric, by_priority in self.targets.items()},
            pauses={metric: frozenset(states) for metric, states in self.pauses.items()},
            warning=None if self.warning is None else self.warning.to_rule(),
            escalation=self.escalation.to_escalation(),
        )


class SlaPolicyOrderIn(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"subject": "ticket", "keys": ["vip", "standard"]}]})

    subject: Subject
    keys: list[Annotated[str, Field(pattern=POLICY_KEY_PATTERN)]] = Field(
        max_length=MAX_POLICIES, description="Every policy of the subject exactly once, first tried first."
    )


class SlaConditionsOut(Output):
    """Null: the field accepts anything."""

    priority: list[str] | None
    type: list[str] | None
    category: list[str] | None
    channel: list[str] | None
    customer_level: list[str] | None
    vip: bool | None
    contract_sla_level: list[str] | None
    group_key: list[str] | None
    business_line: list[str] | None
    region: list[str] | None


class SlaTargetOut(Output):
    seconds: int
    business: bool
    calendar: str | None


class SlaPriorityTargetsOut(Output):
    """Null: not measured at that priority."""

    low: SlaTargetOut | None
    normal: SlaTargetOut | None
    high: SlaTargetOut | None
    urgent: SlaTargetOut | None


class SlaWarningOut(Output):
    share: float | None
    minutes: int | None


class SlaEscalationOut(Output):
    on_warning: list[str]
    on_breach: list[str]
    raise_level: bool
    raise_priority: bool
    reassign_to: str | None


class SlaPolicyOut(Output):
    id: UUID
    key: str
    name: str
    subject: Subject
    position: int
    conditions: SlaConditionsOut
    targets: dict[str, SlaPriorityTargetsOut]
    pauses: dict[str, list[str]] = Field(description="Only the metrics whose pauses the policy sets itself.")
    warning: SlaWarningOut | None
    escalation: SlaEscalationOut
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: SlaPolicyRecord) -> SlaPolicyOut:
        return cls.model_validate(policy_view(record))


class SlaPolicyListOut(Output):
    """A subject's policies, in the order they are tried."""

    subject: Subject
    items: list[SlaPolicyOut]

    @classmethod
    def of(cls, subject: Subject, records: list[SlaPolicyRecord]) -> SlaPolicyListOut:
        return cls(subject=subject, items=[SlaPolicyOut.of(record) for record in records])
