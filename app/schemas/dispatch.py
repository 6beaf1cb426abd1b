"""Dispatch rules, decisions, simulations and agent availability: the contract."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated
from uuid import UUID

from pydantic import ConfigDict, Field, StrictInt, model_validator

from app.domain.dispatch import (
    Condition,
    Decision,
    DecisionRecord,
    DispatchField,
    DispatchRule,
    DispatchRuleRecord,
    Strategy,
    Trigger,
)
from app.schemas.common import KEY_PATTERN, Input, Line, Output
from app.schemas.tickets import TicketIn

RULE_KEY_PATTERN = KEY_PATTERN
Tag = Annotated[str, Field(pattern=KEY_PATTERN)]
Value = Annotated[Line, Field(min_length=1, max_length=200)]


class ConditionIn(Input):
    field: DispatchField = Field(
        description="A ticket field (`product_line` is the product's line, the ticket's business line; "
        "`customer_level` includes `vip`; `high_risk` is `true` or `false`)."
    )
    values: list[Value] = Field(min_length=1, max_length=100, description="Holds when the field has any of them.")


class DispatchRuleIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "华东A类维修直派高级工程师",
                    "position": 10,
                    "conditions": [
                        {"field": "region", "values": ["CN-31", "CN-32"]},
                        {"field": "type", "values": ["repair"]},
                    ],
                    "group": "east-repair",
                    "strategy": "skill_match",
                    "required_skills": ["purifier"],
                    "optional_skills": ["senior"],
                    "min_optional": 1,
                    "relax_after_minutes": 30,
                    "overflow_group": "east-backup",
                }
            ]
        }
    )

    name: Line = Field(min_length=1, max_length=200)
    position: StrictInt = Field(ge=1, le=100_000, description="Rules are tried by position, lowest first (then key).")
    conditions: list[ConditionIn] = Field(
        default_factory=list, max_length=20, description="All must hold; none: the rule takes every ticket."
    )
    group: Tag = Field(description="The group whose agents the strategy chooses among.")
    strategy: Strategy
    required_skills: list[Tag] = Field(default_factory=list, max_length=20, description="Every one must be held.")
    optional_skills: list[Tag] = Field(default_factory=list, max_length=20, description="Each held one scores.")
    min_optional: StrictInt = Field(
        0, ge=0, le=20, description="`skill_match`: optional skills wanted until `relax_after_minutes` pass."
    )
    relax_after_minutes: StrictInt | None = Field(None, ge=1, le=10_080)
    overflow_group: Tag | None = Field(None, description="Where work goes when nobody in `group` may take it.")

    def to_rule(self, key: str) -> DispatchRule:
        return DispatchRule(
            key=key,
            position=self.position,
            name=self.name,
            group_key=self.group,
            strategy=self.strategy,
            conditions=tuple(Condition(c.field.value, frozenset(c.values)) for c in self.conditions),
            required_skills=frozenset(self.required_skills),
            optional_skills=frozenset(self.optional_skills),
            min_optional=self.min_optional,
            relax_after=None if self.relax_after_minutes is None else timedelta(minutes=self.relax_after_minutes),
            overflow_group=self.overflow_group,
        )


class ConditionOut(Output):
    field: str
    values: list[str]


class DispatchRuleOut(Output):
    id: UUID
    key: str
    name: str
    position: int
    conditions: list[ConditionOut]
    group: str
    strategy: Strategy
    required_skills: list[str]
    optional_skills: list[str]
    min_optional: int
    relax_after_minutes: int | None
    overflow_group: str | None
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: DispatchRuleRecord) -> DispatchRuleOut:
        rule = record.data
        relax = rule.relax_after
        return cls(
            id=record.id,
            key=rule.key,
            name=rule.name,
            position=rule.position,
            conditions=[ConditionOut(field=c.field, values=sorted(c.values)) for c in rule.conditions],
            group=rule.group_key,
            strategy=rule.strategy,
            required_skills=sorted(rule.required_skills),
            optional_skills=sorted(rule.optional_skills),
            min_optional=rule.min_optional,
            relax_after_minutes=None if relax is None else int(relax.total_seconds() // 60),
            overflow_group=rule.overflow_group,
            version=record.version,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


class CandidateOut(Output):
    user_id: str
    excluded: str | None = Field(description="Why they could not take it; null: eligible, with a score.")
    score: list[float] | None = Field(description="Lower wins; compared item by item (the last is round robin).")


class DecisionOut(Output):
    """A dispatch decision: the rule and strategy, every candidate with why they were excluded or their score, the
    fallback ladder's steps, and the winner (null: left in the pool, `pool_reason` says why)."""

    id: UUID | None = Field(description="Null for a simulation, which stores nothing.")
    ticket_id: UUID | None
    trigger: Trigger
    rule: str | None
    strategy: Strategy
    group: str | None
    winner: str | None
    candidates: list[CandidateOut]
    steps: list[str]
    pool_reason: str | None
    decided_at: datetime

    @classmethod
    def of(cls, record: DecisionRecord) -> DecisionOut:
        return cls._of(record.decision, record.trigger, record.decided_at, record.id, record.subject_id)

    @classmethod
    def simulated(cls, decision: Decision, now: datetime) -> DecisionOut:
        return cls._of(decision, Trigger.SIMULATION, now, None, None)

    @classmethod
    def _of(
        cls, decision: Decision, trigger: Trigger, at: datetime, id_: UUID | None, ticket_id: UUID | None
    ) -> DecisionOut:
        return cls(
            id=id_,
            ticket_id=ticket_id,
            trigger=trigger,
            rule=decision.rule_key,
            strategy=decision.strategy,
            group=decision.group_key,
            winner=decision.winner,
            candidates=[
                CandidateOut(user_id=c.user_id, excluded=c.excluded, score=None if c.score is None else list(c.score))
                for c in decision.considered
            ],
            steps=list(decision.steps),
            pool_reason=decision.pool_reason,
            decided_at=at,
        )


class SimulationIn(Input):
    """Exactly one of `ticket_id` (an existing ticket, as it is now) or `ticket` (a ticket as intake would take it)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"ticket": TicketIn.model_json_schema()["examples"][0]}]})

    ticket_id: UUID | None = None
    ticket: TicketIn | None = None

    @model_validator(mode="after")
    def _one(self) -> SimulationIn:
        if (self.ticket_id is None) == (self.ticket is None):
            raise ValueError("send exactly one of ticket_id and ticket")
        return self


class RebalanceOut(Output):
    moved: int = Field(description="Tickets taken off the agent and put through dispatch again.")
    assigned: int = Field(description="Of those, how many another agent took at once (the rest wait in the backlog).")
    skipped: int = Field(description="Tickets another change held at that moment; rebalance again for them.")
