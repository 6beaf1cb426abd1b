"""/v1/surveys: the public survey link (read and answer, no login), staff's list, /v1/survey-stats, and
/v1/settings/surveys."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import Depends, Query, Response

from app.domain.pagination import PageRequest
from app.domain.surveys import SurveyFilter, check_period
from app.domain.tickets import Channel
from app.schemas.common import KEY_PATTERN, PROBLEM_DESCRIPTIONS, PageOut, Problem, QueryInstant, problems
from app.schemas.surveys import (
    SurveyAnswerIn,
    SurveyFormOut,
    SurveyOut,
    SurveySettingsIn,
    SurveySettingsOut,
    SurveyStatsOut,
)
from app.web.auth import SettingsWriter, Staff, SurveyAnswerer, SurveyReader
from app.web.language import Lang
from app.web.pagination import page_out, page_request
from app.web.preconditions import Guarded, set_etag
from app.web.routes import api_router
from app.web.wiring import Svc
from app.workflows.ticket_payloads import USER_ID

router = api_router(tags=[])  # each operation names its tag: the settings document sits with the other settings
SURVEYS = ["surveys"]
SETTINGS = ["settings"]
Page = Annotated[PageRequest, Depends(page_request)]


def link_problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A public link's problems: no credentials are read, so no 401; every link request can answer 429."""
    return {status: {"model": Problem, "description": PROBLEM_DESCRIPTIONS[status]} for status in (*statuses, 429)}


async def survey_filter(
    agent: Annotated[str | None, Query(pattern=USER_ID, description="Handled by this user id.")] = None,
    group: Annotated[str | None, Query(pattern=KEY_PATTERN, description="The ticket's group.")] = None,
    sku: Annotated[str | None, Query(pattern=KEY_PATTERN, description="Product (SKU).")] = None,
    region: Annotated[str | None, Query(pattern=KEY_PATTERN, description="The ticket's region.")] = None,
    channel: Annotated[Channel | None, Query(description="The ticket's intake channel.")] = None,
) -> SurveyFilter:
    return SurveyFilter(agent=agent, group_key=group, sku=sku, region=region, channel=channel)


Filter = Annotated[SurveyFilter, Depends(survey_filter)]


@router.get("/v1/surveys/{token}", tags=SURVEYS, responses=link_problems(404))
async def get_survey(token: SurveyReader, language: Lang, svc: Svc) -> SurveyFormOut:
    """The survey behind a public link (no login; the token is its key), in zh-CN or en by Accept-Language: the
    questions, the ticket's or order's number and title, and the answer once given. An unknown token and an expired
    link answer the same 404."""
    return SurveyFormOut.of(await svc.surveys.form(token), language)


@router.post("/v1/surveys/{token}", tags=SURVEYS, responses=link_problems(403, 404, 409, 422))
async def answer_survey(token: SurveyAnswerer, body: SurveyAnswerIn, language: Lang, svc: Svc) -> SurveyFormOut:
    """Answer a survey through its link, without credentials (a request carrying Authorization or X-API-Key is
    refused: 403). Once: a second answer is a 409, unless the settings' edit window is still open. A low score
    escalates the ticket (客诉升级), notifies the handler's supervisor and gives them a follow-up task."""
    return SurveyFormOut.of(await svc.surveys.answer(token, body.to_domain()), language)


@router.get("/v1/surveys", tags=SURVEYS, responses=problems(422))
async def list_surveys(
    principal: Staff,
    page: Page,
    where: Filter,
    svc: Svc,
    sent_from: Annotated[QueryInstant | None, Query(description="Sent at or after this instant.")] = None,
    sent_to: Annotated[QueryInstant | None, Query(description="Sent before this instant.")] = None,
) -> PageOut[SurveyOut]:
    """Sent surveys, newest sent first, in keyset pages, with their answers and low-score loop; each filter leads
    an index of its own, the period narrows it."""
    where = replace(where, sent_from=sent_from, sent_to=sent_to)
    found = await svc.surveys.list(principal, where, page)
    return page_out(found, SurveyOut.of)


@router.get("/v1/survey-stats", tags=SURVEYS, responses=problems(422))
async def get_survey_stats(
    principal: Staff,
    where: Filter,
    svc: Svc,
    sent_from: Annotated[QueryInstant, Query(description="Period start: invitations sent at or after this.")],
    sent_to: Annotated[QueryInstant, Query(description="Period end (exclusive), at most 366 days later.")],
) -> SurveyStatsOut:
    """CSAT (satisfied ÷ answered), NPS (% promoters − % detractors), response rate (answered ÷ sent, expired
    excluded) and the detractor recovery rate over the first-round invitations sent in the period, with the
    counts they come from."""
    check_period(sent_from, sent_to)
    where = replace(where, sent_from=sent_from, sent_to=sent_to)
    return SurveyStatsOut.of(await svc.surveys.stats(principal, where), sent_from, sent_to)


@router.get("/v1/settings/surveys", tags=SETTINGS, responses=problems(422))
async def get_survey_settings(_: Staff, response: Response, svc: Svc) -> SurveySettingsOut:
    """满意度调查 settings in force: the invitation delay in business hours, link expiry, NPS period, low-score
    threshold, edit window (0: off), public base URL and the follow-up task's due time."""
    settings = await svc.surveys.settings()
    set_etag(response, settings.version)
    return SurveySettingsOut.of(settings)


@router.put("/v1/settings/surveys", tags=SETTINGS, responses=problems(412, 422, 428))
async def put_survey_settings(
    body: SurveySettingsIn, principal: SettingsWriter, precondition: Guarded, response: Response, svc: Svc
) -> SurveySettingsOut:
    """Replace the survey settings (managers and admins), with If-Match the ETag last read. Invitations already
    scheduled keep their send time; links already sent keep their expiry."""
    settings = await svc.surveys.set_settings(principal, body.to_domain(), precondition)
    set_etag(response, settings.version)
    return SurveySettingsOut.of(settings)
