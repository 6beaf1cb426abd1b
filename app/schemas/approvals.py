"""Approval contract (审批): approvals with their levels and votes, a decision, and the configured chains."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import ConfigDict, Field

from app.domain.approvals import Approval, ApproverKind, Chain, Decision, LevelSpec, Mode, Status, SubjectKind
from app.domain.principal import Principal
from app.schemas.common import Input, Line, MinorUnits, Output
from app.workflows.task import Hours
from app.workflows.ticket_payloads import USER_ID


class VoteOut(Output):
    level: int
    approver: str = Field(description="A user id, or `role:<role>` that any holder of the role may fill.")
    decision: Decision | None
    decided_by: str | None
    comment: str | None
    data: dict[str, Any]
    decided_at: datetime | None


class LevelOut(Output):
    name: str
    name_en: str = Field(description="The level's name for English views (its name when none was configured).")
    mode: Mode


class ApprovalSummaryOut(Output):
    """An approval in brief, as a task or an after-sales order shows the one under way."""

    id: UUID
    status: Status
    current_level: int
    levels: list[LevelOut]
    pending_approvers: list[str]
    you_may_decide: bool

    @classmethod
    def of(cls, approval: Approval, principal: Principal, *, refused: bool = False) -> ApprovalSummaryOut:
        """`refused`: the subject's own rules stop the caller deciding it now (a review claimed by another)."""
        return cls(
            id=approval.id,
            status=approval.status,
            current_level=approval.current_level,
            levels=[
                LevelOut(name=level.name, name_en=level.name_en or level.name, mode=level.mode)
                for level in approval.levels
            ],
            pending_approvers=approval.pending_approvers(),
            you_may_decide=approval.may_decide(principal) and not refused,
        )


class ApprovalOut(ApprovalSummaryOut):
    kind: SubjectKind
    subject_id: UUID
    subject_ref: str = Field(description="The subject's number, e.g. TK-2026-000001 or AS-2026-000045.")
    title: str
    amount: int | None = Field(description="Minor units, where the subject has an amount.")
    currency: str | None
    facts: dict[str, Any] = Field(description="What the approver decides on (reported hours, type, …).")
    requested_by: str
    votes: list[VoteOut]
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None
    version: int

    @classmethod
    def of(cls, approval: Approval, principal: Principal, *, refused: bool = False) -> ApprovalOut:
        return cls(
            **ApprovalSummaryOut.of(approval, principal, refused=refused).model_dump(),
            kind=approval.kind,
            subject_id=approval.subject_id,
            subject_ref=approval.subject_ref,
            title=approval.title,
            amount=approval.amount,
            currency=approval.currency,
            facts=approval.facts,
            requested_by=approval.requested_by,
            votes=[VoteOut.model_validate(v) for v in approval.votes],
            created_at=approval.created_at,
            updated_at=approval.updated_at,
            decided_at=approval.decided_at,
            version=approval.version,
        )


class DecisionIn(Input):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"decision": "approve", "comment": "工时核实无误", "approved_hours": "3.50"}]}
    )

    decision: Decision
    comment: str | None = Field(None, max_length=2000, description="Required to reject.")
    approved_hours: Hours | None = Field(None, description="Hours approvals only: 批准工时.")


class LevelIn(Input):
    name: Line = Field(min_length=1, max_length=64)
    name_en: Line | None = Field(None, min_length=1, max_length=64, description="The name in English views.")
    approvers: ApproverKind = Field(
        description="`user`: the people named; `role`: anyone with one of the roles; `group`: the group's active "
        "members; `supervisor`: the supervisor of whoever the subject belongs to (any manager if none)."
    )
    ids: list[Annotated[str, Field(pattern=USER_ID)]] = Field(
        default_factory=list, max_length=50, description="User ids, roles or group keys, as `approvers` says."
    )
    mode: Mode = Field(Mode.ANY, description="`any` 或签: one approval completes the level; `all` 会签: every one.")
    above_amount: MinorUnits | None = Field(None, description="Applies only when the amount (minor units) exceeds it.")
    types: list[Literal["refund", "partial_refund", "return_refund", "replenish", "exchange", "compensation"]] = Field(
        default_factory=list, description="After-sales reviews: applies only to these types (empty: to every type)."
    )

    def to_domain(self) -> LevelSpec:
        return LevelSpec(
            self.name,
            self.approvers,
            tuple(self.ids),
            self.mode,
            self.above_amount,
            tuple(dict.fromkeys(self.types)),
            self.name_en,
        )


class ChainIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "levels": [
                        {"name": "售后审核", "approvers": "role", "ids": ["reviewer"]},
                        {"name": "经理审批", "approvers": "role", "ids": ["manager"], "above_amount": 100000},
                    ]
                }
            ]
        }
    )

    levels: list[LevelIn] = Field(max_length=10, description="In order; an empty chain approves at once.")


class LevelOutFull(Output):
    name: str
    name_en: str | None
    approvers: ApproverKind
    ids: list[str]
    mode: Mode
    above_amount: int | None
    types: list[str]


class ChainOut(Output):
    kind: SubjectKind
    levels: list[LevelOutFull]
    version: int = Field(description="0 while the default chain applies.")

    @classmethod
    def of(cls, chain: Chain) -> ChainOut:
        return cls(
            kind=chain.kind,
            levels=[
                LevelOutFull(
                    name=level.name,
                    name_en=level.name_en,
                    approvers=level.approvers,
                    ids=list(level.ids),
                    mode=level.mode,
                    above_amount=level.above_amount,
                    types=list(level.types),
                )
                for level in chain.levels
            ],
            version=chain.version,
        )
