"""Approval chains (审批流, seeds 000–002): sequential levels, each one approver or a group deciding any-of (或签) or
all-of (会签), levels that apply only above an amount or for some types, and a decision that approves or rejects.
Rejection ends the chain; the final outcome advances the subject's own workflow."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from app.domain.errors import Conflict, FieldError, Forbidden, InvalidInput
from app.domain.pagination import Page, PageRequest
from app.domain.principal import Principal, Role

ROLE_PREFIX = "role:"


class SubjectKind(StrEnum):
    TASK_HOURS = "task_hours"  # 工时审批
    AFTER_SALES_REVIEW = "after_sales_review"  # 售后审核 (refunds, returns, exchanges, compensation)


class ApproverKind(StrEnum):
    USER = "user"  # named people
    ROLE = "role"  # anyone holding one of the roles (any-of only)
    GROUP = "group"  # a group's active members, resolved when the approval is requested
    SUPERVISOR = "supervisor"  # the supervisor of the subject's owner (e.g. the task's handler); else any manager


class Mode(StrEnum):
    ANY = "any"  # 或签: the first approval completes the level
    ALL = "all"  # 会签: every approver of the level must approve


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class Status(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class LevelSpec:
    """One level of a chain as configured. `above_amount`: applies only when the subject's amount exceeds it;
    `types`: only for these subject types (e.g. after-sales `compensation`)."""

    name: str
    approvers: ApproverKind
    ids: tuple[str, ...] = ()
    mode: Mode = Mode.ANY
    above_amount: int | None = None
    types: tuple[str, ...] = ()
    name_en: str | None = None  # the level's name in English views; `name` otherwise

    def applies(self, amount: int | None, subject_type: str | None) -> bool:
        if self.above_amount is not None and (amount is None or amount <= self.above_amount):
            return False
        return not self.types or subject_type in self.types


@dataclass(frozen=True, slots=True)
class Chain:
    kind: SubjectKind
    levels: tuple[LevelSpec, ...]
    version: int = 0


def chain_problems(levels: tuple[LevelSpec, ...]) -> list[FieldError]:
    """What makes a configured chain unusable, each naming its field."""
    errors = []
    for n, level in enumerate(levels):
        pointer = f"/levels/{n}"
        if level.approvers in (ApproverKind.USER, ApproverKind.ROLE, ApproverKind.GROUP) and not level.ids:
            errors.append(FieldError(f"{pointer}/ids", f"name at least one {level.approvers.value}"))
        if level.approvers is ApproverKind.SUPERVISOR and level.ids:
            errors.append(FieldError(f"{pointer}/ids", "a supervisor level names nobody"))
        if level.approvers is ApproverKind.ROLE:
            unknown = [i for i in level.ids if i not in set(Role) or i in (Role.CUSTOMER, Role.INTEGRATION)]
            if unknown:
                errors.append(FieldError(f"{pointer}/ids", f"not a staff role: {', '.join(unknown)}"))
            if level.mode is Mode.ALL:
                errors.append(FieldError(f"{pointer}/mode", "all-of needs named people or a group, not roles"))
        if level.approvers is ApproverKind.SUPERVISOR and level.mode is Mode.ALL:
            errors.append(FieldError(f"{pointer}/mode", "a supervisor is one person"))
    return errors


@dataclass(frozen=True, slots=True)
class Vote:
    """One approver slot of a level: a user id, or `role:<role>` that any holder may fill."""

    level: int
    approver: str
    decision: Decision | None = None
    decided_by: str | None = None
    comment: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    decided_at: datetime | None = None

    def fits(self, principal: Principal) -> bool:
        if self.approver.startswith(ROLE_PREFIX):
            return self.approver.removeprefix(ROLE_PREFIX) in principal.roles
        return self.approver == principal.subject


@dataclass(frozen=True, slots=True)
class Level:
    """A level as resolved when the approval was requested."""

    name: str
    mode: Mode
    name_en: str | None = None


@dataclass(frozen=True, slots=True)
class Approval:
    id: UUID
    kind: SubjectKind
    subject_id: UUID
    subject_ref: str
    title: str
    requested_by: str
    status: Status
    current_level: int
    levels: tuple[Level, ...]
    votes: tuple[Vote, ...]
    created_at: datetime
    updated_at: datetime
    amount: int | None = None
    currency: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    decided_at: datetime | None = None
    version: int = 1

    def votes_at(self, level: int) -> list[Vote]:
        return [v for v in self.votes if v.level == level]

    def pending_approvers(self) -> list[str]:
        """Who may decide now: user ids and `role:` slots of the current level still open."""
        if self.status is not Status.PENDING:
            return []
        return [v.approver for v in self.votes_at(self.current_level) if v.decision is None]

    def may_decide(self, principal: Principal) -> bool:
        return principal.subject != self.requested_by and any(
            v.fits(principal) for v in self.votes_at(self.current_level) if v.decision is None
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    """One approver's decision as it arrives: for the approval `approval_id` if the caller named one (else the
    subject's pending one), with the approver's comment and the kind's own data (approved hours)."""

    decision: Decision
    comment: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    approval_id: UUID | None = None


def not_deciding_now(approvers_now: frozenset[str] | None, principal: Principal, requester: str | None) -> str | None:
    """For workflow buttons: why `principal` cannot decide the approval under way (None: they can). With no
    approval loaded (`approvers_now` None) it passes; deciding itself is checked by `decide`."""
    if approvers_now is None:
        return None
    slots = {principal.subject, *(f"{ROLE_PREFIX}{role.value}" for role in principal.roles)}
    if principal.subject == requester or not slots & approvers_now:
        return "you are not an approver at this level"
    return None


def decide(
    approval: Approval,
    principal: Principal,
    decision: Decision,
    comment: str | None,
    data: dict[str, Any],
    now: datetime,
) -> Approval:
    """The approval after `principal` decides at its current level, or the domain error that forbids it. A person
    who may also decide the levels that follow decides them at once (审批人去重), so nobody approves twice in a row."""
    if approval.status is not Status.PENDING:
        raise Conflict(
            f"The approval is already {approval.status.value}",
            code="approval_closed",
            extra={"approval_status": approval.status.value},
        )
    if principal.subject == approval.requested_by:
        raise Forbidden("Nobody approves their own request", code="self_approval")
    level = approval.current_level
    slot = next((v for v in approval.votes_at(level) if v.decision is None and v.fits(principal)), None)
    if slot is None:
        if any(v.decided_by == principal.subject for v in approval.votes_at(level)):
            raise Conflict("You have already decided this approval", code="already_decided")
        raise Forbidden("You are not an approver of this approval at its current level", code="not_an_approver")
    votes = list(approval.votes)
    cast = replace(slot, decision=decision, decided_by=principal.subject, comment=comment, data=data, decided_at=now)
    votes[votes.index(slot)] = cast
    after = replace(approval, votes=tuple(votes), updated_at=now, version=approval.version + 1)
    if decision is Decision.REJECT:
        return replace(after, status=Status.REJECTED, decided_at=now)
    return _advance(after, principal, now)


def _advance(approval: Approval, principal: Principal, now: datetime) -> Approval:
    level = approval.current_level
    votes = approval.votes_at(level)
    if approval.levels[level].mode is Mode.ALL and any(v.decision is None for v in votes):
        return approval
    # The level is done: close its other slots (or-sign) and move on, deciding at once where the same person fits.
    following = level + 1
    if following >= len(approval.levels):
        return replace(approval, status=Status.APPROVED, decided_at=now)
    moved = replace(approval, current_level=following)
    nxt = moved.votes_at(following)
    if moved.levels[following].mode is Mode.ANY and any(v.fits(principal) for v in nxt):
        slot = next(v for v in nxt if v.fits(principal))
        repeat = replace(
            slot,
            decision=Decision.APPROVE,
            decided_by=principal.subject,
            comment="同一审批人自动同意 (same approver as the previous level)",
            decided_at=now,
        )
        votes_all = list(moved.votes)
        votes_all[votes_all.index(slot)] = repeat
        return _advance(replace(moved, votes=tuple(votes_all)), principal, now)
    return moved


def cancel(approval: Approval, now: datetime) -> Approval:
    """The subject went away (a task cancelled, an order withdrawn): the open approval ends undecided."""
    if approval.status is not Status.PENDING:
        return approval
    return replace(approval, status=Status.CANCELLED, decided_at=now, updated_at=now, version=approval.version + 1)


def no_approver(level: LevelSpec, index: int) -> InvalidInput:
    return InvalidInput(
        f"Nobody can approve level '{level.name}': no active approver matches it",
        code="no_approver",
        errors=[FieldError(f"/levels/{index}", "no active approver")],
    )


@dataclass(frozen=True, slots=True)
class ApprovalFilter:
    """`approver`: pending approvals this principal may decide now; otherwise every approval (staff only)."""

    approver: Principal | None = None
    statuses: tuple[Status, ...] = ()
    kind: SubjectKind | None = None
    subject_id: UUID | None = None


class ApprovalRepository(Protocol):
    async def add(self, approval: Approval) -> None: ...
    async def get(self, approval_id: UUID, *, for_update: bool = False) -> Approval | None: ...
    async def pending_for(self, subject_id: UUID, *, for_update: bool = False) -> Approval | None: ...
    async def pending_for_subjects(self, subject_ids: list[UUID]) -> dict[UUID, Approval]: ...
    async def update(self, approval: Approval, decided: Sequence[Vote] = ()) -> None: ...
    async def list(self, where: ApprovalFilter, page: PageRequest) -> Page[Approval]: ...
    async def chain(self, kind: SubjectKind) -> Chain | None: ...
    async def save_chain(self, chain: Chain, actor: str, now: datetime) -> Chain: ...
