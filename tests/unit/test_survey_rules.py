"""Survey rules without a database: which answers are accepted, when a score is low, when a link can still be
answered, how long an edit window lasts, the token kept only as its digest, and the figures' arithmetic."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from app.domain.errors import InvalidInput
from app.domain.surveys import (
    Answer,
    Facts,
    ReasonCode,
    SubjectType,
    Survey,
    SurveyCounts,
    SurveySettings,
    SurveyState,
    SurveyStatus,
    answered,
    check_answer,
    check_period,
    new_token,
    token_digest,
)

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
DEFAULTS = SurveySettings()


def sent(**changes) -> Survey:
    survey = Survey(
        id=uuid4(),
        subject_type=SubjectType.TICKET,
        subject_id=uuid4(),
        resolved_at=NOW - timedelta(hours=3),
        facts=Facts(number="T-2026-000001", customer_no="C-1"),
        status=SurveyStatus.SENT,
        send_at=NOW - timedelta(hours=1),
        created_at=NOW - timedelta(hours=3),
        updated_at=NOW - timedelta(hours=1),
        sent_at=NOW - timedelta(hours=1),
        expires_at=NOW + timedelta(days=7),
        nps_asked=True,
    )
    return replace(survey, **changes)


def refused_fields(survey: Survey, answer: Answer, settings: SurveySettings = DEFAULTS) -> set[str]:
    with pytest.raises(InvalidInput) as refused:
        check_answer(survey, answer, settings)
    assert refused.value.code == "invalid_survey_answer"
    return {error.pointer for error in refused.value.errors}


def test_a_low_csat_needs_reasons_and_a_good_one_takes_none():
    check_answer(sent(), Answer(2, (ReasonCode.NOT_RESOLVED,)), DEFAULTS)
    check_answer(sent(), Answer(3), DEFAULTS)
    assert refused_fields(sent(), Answer(2)) == {"/reasons"}
    assert refused_fields(sent(), Answer(3, (ReasonCode.OTHER,))) == {"/reasons"}
    assert refused_fields(sent(), Answer(1, (ReasonCode.OTHER, ReasonCode.OTHER))) == {"/reasons"}


def test_the_threshold_comes_from_the_settings():
    strict = SurveySettings(low_score_below=4)
    assert refused_fields(sent(), Answer(3), strict) == {"/reasons"}
    check_answer(sent(), Answer(3, (ReasonCode.SLOW_RESPONSE,)), strict)


def test_nps_only_where_the_survey_asked_it():
    check_answer(sent(), Answer(5, nps=10), DEFAULTS)
    assert refused_fields(sent(nps_asked=False), Answer(5, nps=10)) == {"/nps"}
    assert refused_fields(sent(nps_asked=False), Answer(1, nps=0)) == {"/reasons", "/nps"}


@pytest.mark.parametrize(
    ("csat", "nps", "low"),
    [(1, None, True), (2, None, True), (3, None, False), (5, 6, True), (5, 7, False), (4, 0, True), (3, 10, False)],
)
def test_a_low_score_is_a_csat_below_the_threshold_or_an_nps_detractor(csat, nps, low):
    assert DEFAULTS.is_low(csat, nps) is low


def test_an_answer_is_final_unless_the_edit_window_is_on():
    first = answered(sent(), Answer(4), DEFAULTS, NOW)

    assert first.state(NOW) is SurveyState.ANSWERED
    assert (first.answered_at, first.edit_until, first.can_answer(NOW)) == (NOW, None, False)


def test_the_edit_window_ends_at_the_latest_with_the_link():
    window = SurveySettings(edit_window_minutes=60)
    first = answered(sent(), Answer(4), window, NOW)
    near_expiry = answered(sent(expires_at=NOW + timedelta(minutes=10)), Answer(4), window, NOW)

    assert first.edit_until == NOW + timedelta(minutes=60)
    assert first.can_answer(NOW + timedelta(minutes=59)) and not first.can_answer(NOW + timedelta(minutes=60))
    assert near_expiry.edit_until == NOW + timedelta(minutes=10)
    edited = answered(first, Answer(5), window, NOW + timedelta(minutes=30))
    assert (edited.answered_at, edited.edit_until, edited.answer) == (NOW, first.edit_until, Answer(5))


def test_a_low_score_that_escalated_stays_low_when_edited():
    window = SurveySettings(edit_window_minutes=60)
    low = replace(answered(sent(), Answer(1, (ReasonCode.OTHER,)), window, NOW), escalated_at=NOW)

    assert answered(low, Answer(5), window, NOW + timedelta(minutes=1)).low_score is True


def test_a_link_works_until_it_expires_and_never_before_it_is_sent():
    survey = sent()
    assert survey.reachable(NOW) and survey.state(NOW) is SurveyState.OPEN
    assert not survey.reachable(survey.expires_at) and survey.state(survey.expires_at) is SurveyState.EXPIRED
    scheduled = sent(status=SurveyStatus.SCHEDULED, sent_at=None, expires_at=None)
    assert not scheduled.reachable(NOW) and scheduled.state(NOW) is None
    assert not sent(status=SurveyStatus.SKIPPED).reachable(NOW)


def test_tokens_are_random_and_kept_as_their_sha256():
    tokens = {new_token() for _ in range(50)}

    assert len(tokens) == 50 and all(len(t) >= 43 for t in tokens)
    token = tokens.pop()
    assert token_digest(token) == token_digest(token) and len(token_digest(token)) == 64
    assert token not in token_digest(token)
    assert SurveySettings(public_base_url="https://s.example.com/x?t=").link("abc") == "https://s.example.com/x?t=abc"


def test_the_rates_are_exact_ratios_of_the_counts_rounded_once():
    counts = SurveyCounts(
        sent=7, answered=3, expired=1, satisfied=2, nps_answers=3, promoters=2, detractors=1, low_scores=3, recovered=1
    )

    assert counts.csat == 0.6667
    assert counts.nps == 33.3
    assert counts.response_rate == 0.5
    assert counts.recovery_rate == 0.3333


def test_a_rate_with_nothing_to_divide_by_is_none():
    counts = SurveyCounts(sent=2, expired=2)

    assert (counts.csat, counts.nps, counts.response_rate, counts.recovery_rate) == (None, None, None, None)
    assert SurveyCounts(nps_answers=2, detractors=2).nps == -100.0


@pytest.mark.parametrize(("days", "ok"), [(0, False), (-1, False), (1, True), (366, True), (367, False)])
def test_a_report_period_runs_forward_at_most_a_year(days, ok):
    if ok:
        check_period(NOW, NOW + timedelta(days=days))
        return
    with pytest.raises(InvalidInput) as refused:
        check_period(NOW, NOW + timedelta(days=days))
    assert [e.pointer for e in refused.value.errors] == ["sent_to"]
