"""Satisfaction survey use cases (满意度调查): the settings document, the public link's read and answer, and staff's
list and figures. The invitation job is app/services/survey_invitations.py; the low-score loop
app/services/survey_escalation.py."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from app.domain.clock import Clock
from app.domain.errors import Conflict, FieldError, InvalidInput, NotFound
from app.domain.events import OutboxEvent
from app.domain.ids import new_id
from app.domain.pagination import Page, PageRequest
from app.domain.preconditions import Precondition
from app.domain.principal import Principal
from app.domain.surveys import (
    Answer,
    Survey,
    SurveyCounts,
    SurveyFilter,
    SurveySettings,
    answered,
    check_answer,
    token_digest,
)
from app.domain.tasks import ReminderPolicy
from app.domain.unit_of_work import UnitOfWorkFactory
from app.services.survey_escalation import OpenTicket, escalate_low_score
from app.services.survey_invitations import SURVEY_INVITED, SurveyInvitations, event_subject

SURVEY_ANSWERED = "survey.answered"
EVENT_TYPES = frozenset({SURVEY_INVITED, SURVEY_ANSWERED})


def survey_not_found() -> NotFound:
    """One problem for a token that never existed and one whose link ran out: an outsider cannot tell them apart."""
    return NotFound("No survey at this link: it does not exist or has expired", code="survey_not_found")


@dataclass(frozen=True, slots=True)
class SurveyView:
    """A survey as the public page shows it, with the settings' threshold (which answers need reasons) and the
    instant it was read at (whether it can still be answered)."""

    survey: Survey
    low_score_below: int
    now: datetime


@dataclass(frozen=True, slots=True)
class StaffSurvey:
    """A survey in staff's list, with its second survey when the low score's follow-up sent one."""

    survey: Survey
    second: Survey | None
    now: datetime


class SurveyService:
    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, reminders: ReminderPolicy, open_ticket: OpenTicket
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._reminders = reminders
        self._open_ticket = open_ticket
        self.invitations = SurveyInvitations(uow, clock)

    async def settings(self) -> SurveySettings:
        async with self._uow.read() as uow:
            return await uow.surveys.settings()

    async def set_settings(
        self, principal: Principal, settings: SurveySettings, precondition: Precondition
    ) -> SurveySettings:
        """Replace the settings, the stored document locked while If-Match is checked (ETag "0" before the first
        save). A calendar key must name a business calendar."""
        async with self._uow.write() as uow:
            current = await uow.surveys.settings(for_update=True)
            precondition.check(current.version)
            if settings.calendar is not None and await uow.business_calendars.get(settings.calendar) is None:
                raise InvalidInput(
                    f"No business calendar '{settings.calendar}'",
                    code="invalid_survey_settings",
                    errors=[FieldError("/calendar", "no business calendar with this key")],
                )
            saved = await uow.surveys.save_settings(
                replace(settings, version=current.version), principal.subject, self._clock.now()
            )
            await uow.commit()
        return saved

    async def run(self) -> int:
        """The periodic job: schedule and send invitations."""
        return await self.invitations.run()

    async def form(self, token: str) -> SurveyView:
        """The survey behind a public link, for as long as the link works."""
        now = self._clock.now()
        async with self._uow.read() as uow:
            survey = await uow.surveys.by_token(token_digest(token))
            if survey is None or not survey.reachable(now):
                raise survey_not_found()
            settings = await uow.surveys.settings()
        return SurveyView(survey, settings.low_score_below, now)

    async def answer(self, token: str, answer: Answer) -> SurveyView:
        """Record the customer's answer, once (or again inside the edit window the settings gave it), with the
        `survey.answered` event; a low score runs the complaint-escalation loop in the same transaction."""
        now = self._clock.now()
        async with self._uow.write() as uow:
            survey = await uow.surveys.by_token(token_digest(token), for_update=True)
            if survey is None or not survey.reachable(now):
                raise survey_not_found()
            if not survey.can_answer(now):
                raise Conflict("This survey has already been answered", code="survey_already_answered")
            settings = await uow.surveys.settings()
            check_answer(survey, answer, settings)
            edited = survey.answered_at is not None
            after = answered(survey, answer, settings, now)
            if after.low_score and after.escalated_at is None:
                after = await escalate_low_score(uow, after, settings, self._reminders, now, self._open_ticket)
            await uow.surveys.update(after)
            await uow.outbox.add(
                OutboxEvent(new_id(), SURVEY_ANSWERED, "survey", after.id, now, _answered_event(after, edited))
            )
            await uow.commit()
        return SurveyView(after, settings.low_score_below, now)

    async def list(self, principal: Principal, where: SurveyFilter, page: PageRequest) -> Page[StaffSurvey]:
        where = replace(where, business_lines=principal.business_line_scope)
        now = self._clock.now()
        async with self._uow.read() as uow:
            found = await uow.surveys.list(where, page)
            seconds = await uow.surveys.second_rounds([s.id for s in found.items if s.follow_up_done_at])
        return Page([StaffSurvey(s, seconds.get(s.id), now) for s in found.items], found.next_key)

    async def stats(self, principal: Principal, where: SurveyFilter) -> SurveyCounts:
        where = replace(where, business_lines=principal.business_line_scope)
        async with self._uow.read() as uow:
            return await uow.surveys.counts(where, self._clock.now())


def _answered_event(survey: Survey, edited: bool) -> dict[str, object]:
    answer = survey.answer
    return {
        **event_subject(survey),
        "agent": survey.facts.agent,
        "round": survey.round,
        "csat": answer.csat if answer else None,
        "nps": answer.nps if answer else None,
        "reasons": [r.value for r in answer.reasons] if answer else [],
        "low_score": survey.low_score,
        "edited": edited,
        "follow_up_task_id": str(survey.follow_up_task_id) if survey.follow_up_task_id else None,
    }
