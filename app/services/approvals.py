"""Approvals: the engine other use cases call inside their own transaction (request, decide, cancel), and the
use cases behind /v1/approvals and the chain settings. Deciding always goes through the subject's own service
(tasks, after-sales), which locks the subject first, so the two ways in cannot deadlock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from app.domain.approvals import (
    ROLE_PREFIX,
    Approval,
    ApprovalFilter,
    ApproverKind,
    Chain,
    Decision,
    Level,
    LevelSpec,
    Status,
    SubjectKind,
    Verdict,
    Vote,
    cancel,
    chain_problems,
    decide,
    no_approver,
)
from app.domain.clock import Clock
from app.domain.errors import Conflict, FieldError, InvalidInput, NotFound
from app.domain.events import OutboxEvent, TimelineEntry
from app.domain.ids import new_id
from app.domain.invariants import present
from app.domain.notifications import NotificationKind, Subject
from app.domain.pagination import Page, PageRequest
from app.domain.preconditions import Precondition
from app.domain.principal import Principal, Role
from app.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.services.notifications import notify


def default_chains(manager_review_above: int) -> dict[SubjectKind, tuple[LevelSpec, ...]]:
    """What applies until an admin configures a chain: the handler's supervisor (else any manager) approves
    hours (seed 000: 部门经理审批工时); a reviewer reviews after-sales, and amounts above the threshold also need
    a manager (审核分层)."""
    return {
        SubjectKind.TASK_HOURS: (LevelSpec("主管审批", ApproverKind.SUPERVISOR, name_en="Supervisor approval"),),
        SubjectKind.AFTER_SALES_REVIEW: (
            LevelSpec("售后审核", ApproverKind.ROLE, ("reviewer", "manager", "admin"), name_en="After-sales review"),
            LevelSpec(
                "经理审批",
                ApproverKind.ROLE,
                ("manager", "admin"),
                above_amount=manager_review_above,
                name_en="Manager approval",
            ),
        ),
    }


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """What a subject asks approval for. `owner`: whose supervisor a SUPERVISOR level means (a task's handler);
    `subject_type`: what `types` conditions match (an after-sales type)."""

    kind: SubjectKind
    subject: Subject
    title: str
    requested_by: str
    owner: str | None = None
    amount: int | None = None
    currency: str | None = None
    subject_type: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)


Refusals = Callable[[UnitOfWork, Sequence[Approval], Principal], Awaitable[set[UUID]]]
"""A subject service's own rules on top of an approval's: which of these approvals the caller may not decide now
although the approval names them (a claimed after-sales review is decided by its holder)."""
Decider = Callable[[UnitOfWork, UUID, Verdict, Principal, datetime], Awaitable[None]]
"""A subject service's way to decide its pending approval: (uow, subject id, verdict, principal, now); it locks
the subject, calls `ApprovalEngine.decide` and moves the subject on the final outcome."""


class ApprovalEngine:
    def __init__(self, defaults: dict[SubjectKind, tuple[LevelSpec, ...]]) -> None:
        self._defaults = defaults

    async def chain(self, uow: UnitOfWork, kind: SubjectKind) -> Chain:
        return await uow.approvals.chain(kind) or Chain(kind, self._defaults[kind])

    async def request(self, uow: UnitOfWork, req: ApprovalRequest, now: datetime) -> Approval:
        """A new approval with its levels and approvers resolved now; with no level applying it is approved at
        once (and stored, so the record shows why)."""
        chain = await self.chain(uow, req.kind)
        levels: list[Level] = []
        votes: list[Vote] = []
        for index, spec in enumerate(chain.levels):
            if not spec.applies(req.amount, req.subject_type):
                continue
            approvers = [a for a in await _resolve(uow, spec, req.owner) if a != req.requested_by]
            if not approvers:
                raise no_approver(spec, index)
            votes += [Vote(len(levels), approver) for approver in approvers]
            levels.append(Level(spec.name, spec.mode, spec.name_en))
        approval = Approval(
            id=new_id(),
            kind=req.kind,
            subject_id=req.subject.id,
            subject_ref=req.subject.ref,
            title=req.title,
            requested_by=req.requested_by,
            status=Status.PENDING if levels else Status.APPROVED,
            current_level=0,
            levels=tuple(levels),
            votes=tuple(votes),
            created_at=now,
            updated_at=now,
            amount=req.amount,
            currency=req.currency,
            facts=req.facts,
            decided_at=None if levels else now,
        )
        await uow.approvals.add(approval)
        await uow.outbox.add(_event(approval, "approval.requested", now))
        await self._notify_level(uow, approval, req.subject, now)
        return approval

    async def decide(
        self,
        uow: UnitOfWork,
        approval: Approval,
        principal: Principal,
        decision: Decision,
        comment: str | None,
        data: dict[str, Any],
        now: datetime,
        subject: Subject,
    ) -> Approval:
        """Record one decision; tell the next level's approvers, or the requester when the chain is over."""
        after = decide(approval, principal, decision, comment, data, now)
        decided = [vote for vote in after.votes if vote.decided_at == now and vote not in approval.votes]
        await uow.approvals.update(after, decided)
        finished = after.status is not Status.PENDING
        events = [_event(after, f"approval.{after.status.value}", now)] if finished else []
        for n, vote in enumerate(decided, start=1):
            await uow.timeline.add(_timeline_entry(after, vote, now), events if n == len(decided) else ())
        if not finished:
            if after.current_level != approval.current_level:
                await self._notify_level(uow, after, subject, now)
            return after
        verdict = {"zh-CN": "已通过" if after.status is Status.APPROVED else "被驳回", "en": after.status.value}
        await notify(
            uow,
            recipients=[after.requested_by],
            kind=NotificationKind.APPROVAL_DECIDED,
            subject=subject,
            title={
                "zh-CN": f"{after.title}（{subject.ref}）{verdict['zh-CN']}",
                "en": f"{after.title} ({subject.ref}): {verdict['en']}",
            },
            now=now,
            actor=principal.subject,
            data={"approval_id": str(after.id), "status": after.status.value, "comment": comment},
        )
        return after

    async def pending(self, uow: UnitOfWork, subject_id: UUID, approval_id: UUID | None) -> Approval:
        """The subject's open approval, locked; 409 when there is none (or not the one the caller decided)."""
        pending = await uow.approvals.pending_for(subject_id, for_update=True)
        if pending is None or (approval_id is not None and pending.id != approval_id):
            raise Conflict("There is no pending approval to decide", code="approval_closed")
        return pending

    async def cancel_pending(self, uow: UnitOfWork, subject_id: UUID, now: datetime) -> None:
        pending = await uow.approvals.pending_for(subject_id, for_update=True)
        if pending is not None:
            cancelled = cancel(pending, now)
            await uow.approvals.update(cancelled)
            await uow.outbox.add(_event(cancelled, "approval.cancelled", now))

    async def _notify_level(self, uow: UnitOfWork, approval: Approval, subject: Subject, now: datetime) -> None:
        recipients: list[str] = []
        for slot in approval.pending_approvers():
            if slot.startswith(ROLE_PREFIX):
                recipients += await uow.agents.active_with_role(Role(slot.removeprefix(ROLE_PREFIX)))
            else:
                recipients.append(slot)
        level = approval.levels[approval.current_level] if approval.levels else None
        if level is None:
            return
        await notify(
            uow,
            recipients=[r for r in recipients if r != approval.requested_by],
            kind=NotificationKind.APPROVAL_NEEDED,
            subject=subject,
            title={
                "zh-CN": f"待审批：{approval.title}（{subject.ref}，{level.name}）",
                "en": f"Approval needed: {approval.title} ({subject.ref}, level {approval.current_level + 1})",
            },
            now=now,
            data={"approval_id": str(approval.id), "level": approval.current_level},
            dedupe_key=f"approval:{approval.id}:{approval.current_level}",
        )


async def _resolve(uow: UnitOfWork, spec: LevelSpec, owner: str | None) -> list[str]:
    """A level's approver slots: user ids, `role:` slots, a group's active members, or the owner's supervisor
    (any manager when the owner has none)."""
    if spec.approvers is ApproverKind.USER:
        return list(dict.fromkeys(spec.ids))
    if spec.approvers is ApproverKind.ROLE:
        return [f"{ROLE_PREFIX}{role}" for role in dict.fromkeys(spec.ids)]
    if spec.approvers is ApproverKind.GROUP:
        members: list[str] = []
        for key in spec.ids:
            members += await uow.agents.active_members(key)
        return list(dict.fromkeys(members))
    agent = await uow.agents.get(owner) if owner else None
    supervisor = agent.data.supervisor if agent else None
    boss = await uow.agents.get(supervisor) if supervisor else None
    if boss is not None and boss.data.active:
        return [boss.user_id]
    return [f"{ROLE_PREFIX}{Role.MANAGER.value}"]


def _timeline_entry(approval: Approval, vote: Vote, now: datetime) -> TimelineEntry:
    """Each decision on the subject's (internal) timeline: who decided which level, and why."""
    level = approval.levels[vote.level]
    return TimelineEntry(
        new_id(),
        approval.subject_id,
        now,
        vote.decided_by or "",
        "approval",
        f"approval_{vote.decision.value if vote.decision else 'pending'}",
        remark=vote.comment,
        payload={"approval_id": str(approval.id), "level": vote.level, "level_name": level.name, **vote.data},
        public=False,
    )


def _event(approval: Approval, type_: str, now: datetime) -> OutboxEvent:
    payload = {
        "approval_id": str(approval.id),
        "kind": approval.kind.value,
        "subject_id": str(approval.subject_id),
        "subject_ref": approval.subject_ref,
        "status": approval.status.value,
        "level": approval.current_level,
        "requested_by": approval.requested_by,
    }
    return OutboxEvent(new_id(), type_, "approval", approval.id, now, payload)


def approval_not_found(approval_id: UUID) -> NotFound:
    return NotFound(f"No approval '{approval_id}'", code="approval_not_found")


class ApprovalService:
    """Reads for staff, decisions routed to the subject's service, and the chain settings."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, engine: ApprovalEngine) -> None:
        self._uow = uow
        self._clock = clock
        self.engine = engine
        self._deciders: dict[SubjectKind, Decider] = {}
        self._refusals: dict[SubjectKind, Refusals] = {}

    def register(self, kind: SubjectKind, decider: Decider, refusals: Refusals | None = None) -> None:
        self._deciders[kind] = decider
        if refusals is not None:
            self._refusals[kind] = refusals

    async def list(
        self, principal: Principal, where: ApprovalFilter, page: PageRequest
    ) -> tuple[Page[Approval], set[UUID]]:
        """A page and the approvals on it the caller may not decide now by their subject's own rules; 待我审批
        (`where.approver`) leaves those out (the page may then be shorter than asked: its cursor still goes on)."""
        async with self._uow.read() as uow:
            found = await uow.approvals.list(where, page)
            refused = await self._refused(uow, found.items, principal)
        if where.approver is not None and refused:
            found = Page([a for a in found.items if a.id not in refused], found.next_key)
        return found, refused

    async def get(self, principal: Principal, approval_id: UUID) -> tuple[Approval, bool]:
        """The approval, and whether its subject's own rules stop the caller deciding it now."""
        async with self._uow.read() as uow:
            approval = await uow.approvals.get(approval_id)
            if approval is None:
                raise approval_not_found(approval_id)
            refused = await self._refused(uow, [approval], principal)
        return approval, approval.id in refused

    async def _refused(self, uow: UnitOfWork, approvals: Sequence[Approval], principal: Principal) -> set[UUID]:
        """Asked only about the pending approvals the caller could otherwise decide, one query per kind."""
        refused: set[UUID] = set()
        for kind, rules in self._refusals.items():
            mine = [a for a in approvals if a.kind is kind and a.may_decide(principal)]
            if mine:
                refused |= await rules(uow, mine, principal)
        return refused

    async def decide(
        self,
        principal: Principal,
        approval_id: UUID,
        decision: Decision,
        comment: str | None,
        data: dict[str, Any],
        precondition: Precondition,
    ) -> Approval:
        now = self._clock.now()
        async with self._uow.write() as uow:
            approval = await uow.approvals.get(approval_id)
            if approval is None:
                raise approval_not_found(approval_id)
            precondition.check(approval.version)
            if approval.status is not Status.PENDING:
                raise Conflict(
                    f"The approval is already {approval.status.value}",
                    code="approval_closed",
                    extra={"approval_status": approval.status.value},
                )
            if data and approval.kind is not SubjectKind.TASK_HOURS:
                raise InvalidInput(
                    "Only hours approvals take approved_hours",
                    code="validation_failed",
                    errors=[FieldError("/approved_hours", "not for this kind of approval")],
                )
            decider = self._deciders[approval.kind]
            await decider(uow, approval.subject_id, Verdict(decision, comment, data, approval.id), principal, now)
            decided = present(await uow.approvals.get(approval_id), "the decided approval")
            await uow.commit()
        return decided

    async def chain(self, kind: SubjectKind) -> Chain:
        async with self._uow.read() as uow:
            return await self.engine.chain(uow, kind)

    async def save_chain(
        self, principal: Principal, kind: SubjectKind, levels: tuple[LevelSpec, ...], precondition: Precondition
    ) -> Chain:
        errors = chain_problems(levels)
        if errors:
            raise InvalidInput("The approval chain cannot be used as sent", code="invalid_chain", errors=errors)
        async with self._uow.write() as uow:
            current = await self.engine.chain(uow, kind)
            precondition.check(current.version)
            saved = await uow.approvals.save_chain(
                Chain(kind, levels, current.version), principal.subject, self._clock.now()
            )
            await uow.commit()
        return saved
