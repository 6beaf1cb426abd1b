"""Survey rows ↔ Survey entities; the settings document, the invitation job's outbox cursor, the send claim, the
staff list and the figures (counted in SQL, the same statement on both databases)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Row,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.events import OutboxCursor
from app.domain.pagination import Page, PageRequest
from app.domain.surveys import (
    DETRACTOR_UP_TO,
    FIRST_ROUND,
    PROMOTER_FROM,
    SATISFIED_FROM,
    Answer,
    Completion,
    Facts,
    ReasonCode,
    SubjectType,
    Survey,
    SurveyCounts,
    SurveyFilter,
    SurveySettings,
    SurveyStatus,
)
from app.persistence.keyset import fetch_page
from app.persistence.lookups import Lookup
from app.persistence.outbox_cursors import after_parameters, load_cursor, save_cursor
from app.persistence.scope import in_business_lines
from app.persistence.settings_store import load_setting, save_setting
from app.persistence.tables import outbox, surveys
from app.persistence.upserts import insert_or_ignore

SETTINGS_KEY = "surveys"
CURSOR_KEY = "survey_intake_cursor"
_FACTS = ("number", "title", "customer_no", "ticket_id", "agent", "group_key", "sku", "region", "channel")
_PLAIN = (
    "subject_id",
    "resolved_at",
    "round",
    "parent_id",
    "send_at",
    "skip_reason",
    "token_digest",
    "sent_at",
    "expires_at",
    "nps_asked",
    "answered_at",
    "edit_until",
    "low_score",
    "escalated_at",
    "follow_up_task_id",
    "follow_up_done_at",
    "version",
    "created_at",
    "updated_at",
)

_COMPLETIONS = (
    select(outbox.c.id, outbox.c.type, outbox.c.aggregate_id, outbox.c.occurred_at, outbox.c.payload)
    .where(
        outbox.c.type.in_(bindparam("types", expanding=True)),
        # The first bound alone is a range of the occurred_at index; the second drops the cursor's own instant's
        # events up to its id.
        outbox.c.occurred_at >= bindparam("after_at"),
        or_(outbox.c.occurred_at > bindparam("after_at"), outbox.c.id > bindparam("after_id")),
        outbox.c.occurred_at <= bindparam("until"),
    )
    .order_by(outbox.c.occurred_at, outbox.c.id)
    .limit(bindparam("limit"))
)
_DUE = (
    select(surveys)
    .where(
        # A literal, so that the planner matches the partial index ix_surveys_scheduled_send_at.
        surveys.c.status == literal_column(f"'{SurveyStatus.SCHEDULED.value}'"),
        surveys.c.send_at <= bindparam("now"),
    )
    .order_by(surveys.c.send_at)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_BY_TOKEN = Lookup(surveys, surveys.c.token_digest)
_BY_TASK = Lookup(surveys, surveys.c.follow_up_task_id)
_NPS_ASKED = (
    select(surveys.c.id)
    .where(
        surveys.c.customer_no == bindparam("customer_no"),
        surveys.c.sent_at >= bindparam("since"),
        surveys.c.nps_asked == true(),
    )
    .limit(1)
)
_UPDATE = update(surveys).where(surveys.c.id == bindparam("survey_id"))


def _entity(row: Row[Any]) -> Survey:
    answer = None
    if row.csat is not None:
        answer = Answer(row.csat, tuple(ReasonCode(r) for r in row.reasons), row.nps, row.comment)
    facts = Facts(**{name: getattr(row, name) for name in _FACTS}, business_line=row.business_line)
    return Survey(
        id=row.id,
        subject_type=SubjectType(row.subject_type),
        facts=facts,
        status=SurveyStatus(row.status),
        answer=answer,
        **{name: getattr(row, name) for name in _PLAIN},
    )


def _values(survey: Survey) -> dict[str, Any]:
    answer = survey.answer
    facts = survey.facts
    return {
        "subject_type": survey.subject_type.value,
        "status": survey.status.value,
        **{name: getattr(facts, name) for name in _FACTS},
        "business_line": facts.business_line,
        "csat": answer.csat if answer else None,
        "nps": answer.nps if answer else None,
        "reasons": [r.value for r in answer.reasons] if answer else [],
        "comment": answer.comment if answer else None,
        **{name: getattr(survey, name) for name in _PLAIN},
    }


def _settings(value: dict[str, Any], version: int) -> SurveySettings:
    return SurveySettings(**value, version=version)


def _conditions(where: SurveyFilter) -> list[ColumnElement[bool]]:
    c = surveys.c
    found: list[ColumnElement[bool]] = [c.sent_at.is_not(None)]
    for column, value in (
        (c.agent, where.agent),
        (c.group_key, where.group_key),
        (c.sku, where.sku),
        (c.region, where.region),
        (c.channel, where.channel),
    ):
        if value is not None:
            found.append(column == value)
    if where.sent_from is not None:
        found.append(c.sent_at >= where.sent_from)
    if where.sent_to is not None:
        found.append(c.sent_at < where.sent_to)
    found += in_business_lines(c.business_line, where.business_lines)
    return found


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class SqlSurveyRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def settings(self, *, for_update: bool = False) -> SurveySettings:
        stored = await load_setting(self._conn, SETTINGS_KEY, for_update=for_update)
        return SurveySettings() if stored is None else _settings(*stored)

    async def save_settings(self, settings: SurveySettings, by: str, at: datetime) -> SurveySettings:
        value = {
            "delay_minutes": settings.delay_minutes,
            "calendar": settings.calendar,
            "expiry_days": settings.expiry_days,
            "nps_period_days": settings.nps_period_days,
            "low_score_below": settings.low_score_below,
            "edit_window_minutes": settings.edit_window_minutes,
            "public_base_url": settings.public_base_url,
            "follow_up_due_minutes": settings.follow_up_due_minutes,
        }
        version = await save_setting(self._conn, SETTINGS_KEY, value, settings.version, by, at)
        return replace(settings, version=version)

    async def cursor(self) -> OutboxCursor | None:
        return await load_cursor(self._conn, CURSOR_KEY)

    async def save_cursor(self, cursor: OutboxCursor, at: datetime) -> None:
        await save_cursor(self._conn, CURSOR_KEY, cursor, at)

    async def completions(
        self, after: OutboxCursor, until: datetime, types: Sequence[str], limit: int
    ) -> list[Completion]:
        rows = await self._conn.execute(_COMPLETIONS, after_parameters(after, until, types, limit))
        return [Completion(r.id, r.type, r.aggregate_id, r.occurred_at, r.payload) for r in rows]

    async def add(self, survey: Survey) -> bool:
        stmt = insert_or_ignore(self._conn, surveys, "subject_id", "resolved_at", "round")
        result = await self._conn.execute(stmt.values(id=survey.id, **_values(survey)))
        return bool(result.rowcount)

    async def update(self, survey: Survey) -> None:
        await self._conn.execute(_UPDATE, {"survey_id": survey.id, **_values(survey)})

    async def claim_due(self, now: datetime, limit: int) -> list[Survey]:
        return [_entity(row) for row in await self._conn.execute(_DUE, {"now": now, "limit": limit})]

    async def by_token(self, digest: str, *, for_update: bool = False) -> Survey | None:
        row = await _BY_TOKEN.row(self._conn, digest, for_update=for_update)
        return _entity(row) if row else None

    async def by_follow_up_task(self, task_id: UUID) -> Survey | None:
        row = await _BY_TASK.row(self._conn, task_id, for_update=True)
        return _entity(row) if row else None

    async def nps_asked_since(self, customer_no: str, since: datetime) -> bool:
        found = await self._conn.execute(_NPS_ASKED, {"customer_no": customer_no, "since": since})
        return found.first() is not None

    async def second_rounds(self, parent_ids: Sequence[UUID]) -> dict[UUID, Survey]:
        if not parent_ids:
            return {}
        rows = await self._conn.execute(select(surveys).where(surveys.c.parent_id.in_(list(parent_ids))))
        return {row.parent_id: _entity(row) for row in rows}

    async def list(self, where: SurveyFilter, page: PageRequest) -> Page[Survey]:
        stmt = select(surveys).where(*_conditions(where))
        rows, next_key = await fetch_page(self._conn, stmt, (surveys.c.sent_at, surveys.c.id), page)
        return Page([_entity(row) for row in rows], next_key)

    async def counts(self, where: SurveyFilter, now: datetime) -> SurveyCounts:
        """One aggregate over the first-round invitations sent in the period, joined to their second surveys
        (each low score has at most one, `parent_id` being unique)."""
        first, second = surveys, surveys.alias("second")
        low = first.c.low_score == true()
        done = and_(low, first.c.follow_up_done_at.is_not(None))
        stmt = (
            select(
                func.count().label("sent"),
                _count(first.c.answered_at.is_not(None)).label("answered"),
                _count(and_(first.c.answered_at.is_(None), first.c.expires_at <= now)).label("expired"),
                _count(first.c.csat >= SATISFIED_FROM).label("satisfied"),
                _count(first.c.nps.is_not(None)).label("nps_answers"),
                _count(first.c.nps >= PROMOTER_FROM).label("promoters"),
                _count(first.c.nps <= DETRACTOR_UP_TO).label("detractors"),
                _count(low).label("low_scores"),
                _count(done).label("follow_ups_done"),
                _count(and_(done, second.c.csat >= SATISFIED_FROM)).label("recovered"),
            )
            .select_from(first.outerjoin(second, second.c.parent_id == first.c.id))
            .where(first.c.round == FIRST_ROUND, *_conditions(where))
        )
        row = (await self._conn.execute(stmt)).one()
        return SurveyCounts(**{name: int(value) for name, value in row._mapping.items()})
