"""Approval rows with their votes (one row per approver slot and level), the "waiting for me" query, and the
configured chains."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, and_, bindparam, exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.approvals import (
    ROLE_PREFIX,
    Approval,
    ApprovalFilter,
    ApproverKind,
    Chain,
    Decision,
    Level,
    LevelSpec,
    Mode,
    Status,
    SubjectKind,
    Vote,
)
from app.domain.pagination import Page, PageRequest
from app.persistence.keyset import fetch_merged_page
from app.persistence.settings_store import load_setting, save_setting
from app.persistence.tables import approval_approvers, approvals

CHAIN_KEY = "approval_chain:{}"


def _values(approval: Approval) -> dict[str, Any]:
    return {
        "status": approval.status.value,
        "current_level": approval.current_level,
        "decided_at": approval.decided_at,
        "version": approval.version,
        "updated_at": approval.updated_at,
    }


def _vote_values(approval_id: UUID, vote: Vote) -> dict[str, Any]:
    return {
        "approval_id": approval_id,
        "level": vote.level,
        "approver": vote.approver,
        "decision": vote.decision.value if vote.decision else None,
        "decided_by": vote.decided_by,
        "comment": vote.comment,
        "data": vote.data,
        "decided_at": vote.decided_at,
    }


def _vote(row: Row[Any], prefix: str = "") -> Vote:
    """A vote from its row, or from a joined row whose vote columns carry `prefix`."""

    def column(name: str) -> Any:
        return getattr(row, prefix + name)

    decision = column("decision")
    return Vote(
        level=column("level"),
        approver=column("approver"),
        decision=Decision(decision) if decision else None,
        decided_by=column("decided_by"),
        comment=column("comment"),
        data=column("data"),
        decided_at=column("decided_at"),
    )


def _entity(row: Row[Any], votes: list[Vote]) -> Approval:
    return Approval(
        id=row.id,
        kind=SubjectKind(row.subject_kind),
        subject_id=row.subject_id,
        subject_ref=row.subject_ref,
        title=row.title,
        requested_by=row.requested_by,
        status=Status(row.status),
        current_level=row.current_level,
        levels=tuple(Level(level["name"], Mode(level["mode"]), level.get("name_en")) for level in row.levels),
        votes=tuple(sorted(votes, key=lambda v: (v.level, v.approver))),
        created_at=row.created_at,
        updated_at=row.updated_at,
        amount=row.amount,
        currency=row.currency,
        facts=row.facts,
        decided_at=row.decided_at,
        version=row.version,
    )


def _slots(principal_subject: str, roles: frozenset[str]) -> list[str]:
    return [principal_subject, *(f"{ROLE_PREFIX}{role}" for role in sorted(roles))]


_VOTE_KEY = ("approval_id", "level", "approver")
_UPDATE = update(approvals).where(approvals.c.id == bindparam("b_id"))
_DECIDE_VOTE = update(approval_approvers).where(
    *(approval_approvers.c[key] == bindparam(f"b_{key}") for key in _VOTE_KEY)
)
"""Statements built once: their compiled forms are cached."""


def _conditions(where: ApprovalFilter) -> list[Any]:
    c = approvals.c
    conditions: list[Any] = []
    if where.statuses:
        conditions.append(c.status.in_([s.value for s in where.statuses]))
    if where.kind is not None:
        conditions.append(c.subject_kind == where.kind.value)
    if where.subject_id is not None:
        conditions.append(c.subject_id == where.subject_id)
    if where.approver is not None:
        a = approval_approvers.c
        principal = where.approver
        conditions += [
            c.status == Status.PENDING.value,
            c.requested_by != principal.subject,
            exists().where(
                a.approval_id == c.id,
                a.level == c.current_level,
                a.decision.is_(None),
                a.approver.in_(_slots(principal.subject, frozenset(r.value for r in principal.roles))),
            ),
        ]
    return conditions


class SqlApprovalRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, approval: Approval) -> None:
        await self._conn.execute(
            insert(approvals).values(
                id=approval.id,
                subject_kind=approval.kind.value,
                subject_id=approval.subject_id,
                subject_ref=approval.subject_ref,
                title=approval.title,
                amount=approval.amount,
                currency=approval.currency,
                facts=approval.facts,
                requested_by=approval.requested_by,
                levels=[
                    {"name": level.name, "name_en": level.name_en, "mode": level.mode.value}
                    for level in approval.levels
                ],
                created_at=approval.created_at,
                **_values(approval),
            )
        )
        if approval.votes:
            await self._conn.execute(insert(approval_approvers), [_vote_values(approval.id, v) for v in approval.votes])

    async def get(self, approval_id: UUID, *, for_update: bool = False) -> Approval | None:
        return await self._one(approvals.c.id == approval_id, for_update)

    async def pending_for(self, subject_id: UUID, *, for_update: bool = False) -> Approval | None:
        return await self._one(
            and_(approvals.c.subject_id == subject_id, approvals.c.status == Status.PENDING.value), for_update
        )

    async def pending_for_subjects(self, subject_ids: list[UUID]) -> dict[UUID, Approval]:
        """The pending approval of each subject, for a whole list page in two queries (approvals, their votes)."""
        if not subject_ids:
            return {}
        pending = approvals.c.status == Status.PENDING.value
        stmt = select(approvals).where(approvals.c.subject_id.in_(subject_ids), pending)
        rows = (await self._conn.execute(stmt)).all()
        votes = await self._votes([row.id for row in rows])
        return {row.subject_id: _entity(row, votes[row.id]) for row in rows}

    async def update(self, approval: Approval, decided: Sequence[Vote] = ()) -> None:
        """The approval's row and the votes `decided` since it was read (the others never change)."""
        await self._conn.execute(_UPDATE, {"b_id": approval.id, **_values(approval)})
        if decided:
            rows = [
                {f"b_{k}" if k in _VOTE_KEY else k: v for k, v in _vote_values(approval.id, vote).items()}
                for vote in decided
            ]
            await self._conn.execute(_DECIDE_VOTE, rows)

    async def list(self, where: ApprovalFilter, page: PageRequest) -> Page[Approval]:
        """Newest first. With `approver`: pending approvals whose current level has an open slot for the
        principal (their user id or one of their roles), read from the pending ones (work in progress, not history)
        and checked through the slot index. Otherwise one index read per status asked for (per status for a
        `kind` alone), merged."""
        if where.approver is not None:
            parts = [_conditions(where)]
        else:
            statuses = tuple(dict.fromkeys(where.statuses)) or (tuple(Status) if where.kind is not None else ())
            parts = [_conditions(replace(where, statuses=(s,))) for s in statuses] or [_conditions(where)]
        rows, next_key = await fetch_merged_page(self._conn, approvals, parts, approvals.c.id, page)
        votes = await self._votes([row.id for row in rows])
        return Page([_entity(row, votes[row.id]) for row in rows], next_key)

    async def chain(self, kind: SubjectKind) -> Chain | None:
        stored = await load_setting(self._conn, CHAIN_KEY.format(kind.value))
        if stored is None:
            return None
        value, version = stored
        levels = tuple(
            LevelSpec(
                name=level["name"],
                approvers=ApproverKind(level["approvers"]),
                ids=tuple(level["ids"]),
                mode=Mode(level["mode"]),
                above_amount=level["above_amount"],
                types=tuple(level["types"]),
                name_en=level.get("name_en"),
            )
            for level in value["levels"]
        )
        return Chain(kind, levels, version)

    async def save_chain(self, chain: Chain, actor: str, now: datetime) -> Chain:
        value = {
            "levels": [
                {
                    "name": level.name,
                    "approvers": level.approvers.value,
                    "ids": list(level.ids),
                    "mode": level.mode.value,
                    "above_amount": level.above_amount,
                    "types": list(level.types),
                    "name_en": level.name_en,
                }
                for level in chain.levels
            ]
        }
        version = await save_setting(self._conn, CHAIN_KEY.format(chain.kind.value), value, chain.version, actor, now)
        return Chain(chain.kind, chain.levels, version)

    async def _one(self, condition: Any, for_update: bool) -> Approval | None:
        """The approval and its votes in one statement (a row per vote)."""
        stmt = (
            select(approvals, *(c.label(f"vote_{c.name}") for c in approval_approvers.c))
            .outerjoin(approval_approvers, approval_approvers.c.approval_id == approvals.c.id)
            .where(condition)
        )
        rows = (await self._conn.execute(stmt.with_for_update(of=approvals) if for_update else stmt)).all()
        if not rows:
            return None
        votes = [_vote(row, prefix="vote_") for row in rows if row.vote_approval_id is not None]
        return _entity(rows[0], votes)

    async def _votes(self, ids: list[UUID]) -> dict[UUID, list[Vote]]:
        found: dict[UUID, list[Vote]] = defaultdict(list)
        if ids:
            stmt = select(approval_approvers).where(approval_approvers.c.approval_id.in_(ids))
            for row in await self._conn.execute(stmt):
                found[row.approval_id].append(_vote(row))
        return found
