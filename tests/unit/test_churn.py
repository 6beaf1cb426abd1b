"""Churn warning (流失预警): the documented formula's worked example, each kind of fact capped and the score stopping
at 100, reasons with their points, a score that never falls when facts get worse, the warning fired once per upward
crossing, and every refused setting named by its field."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.churn import ChurnFacts, ChurnParams, ChurnReason, ChurnReasonCode, churn_score, crossed
from app.domain.errors import InvalidInput

DEFAULTS = ChurnParams()


def test_the_documented_example_reaches_the_default_threshold() -> None:
    """Two refunds of 1,200.00 CNY in all and three complaint tickets (two repeats), as in the module's docstring."""
    score = churn_score(ChurnFacts(refunds=2, refund_amount=120_000, complaints=3), DEFAULTS)

    assert score.score == 60 == DEFAULTS.threshold
    assert score.reasons == (
        ChurnReason(ChurnReasonCode.REPEAT_COMPLAINTS, 30),
        ChurnReason(ChurnReasonCode.REFUNDS, 20),
        ChurnReason(ChurnReasonCode.REFUND_AMOUNT, 10),
    )


def test_a_customer_with_nothing_wrong_and_a_single_complaint_scores_zero() -> None:
    assert churn_score(ChurnFacts(), DEFAULTS).score == 0
    single = churn_score(ChurnFacts(complaints=1, refund_amount=49_999), DEFAULTS)
    assert (single.score, single.reasons) == (0, ())


def test_each_kind_of_fact_stops_at_its_cap_and_the_score_at_100() -> None:
    many = ChurnFacts(refunds=50, refund_amount=10**9, complaints=50, detractor_answers=50, sla_breaches=50)

    score = churn_score(many, DEFAULTS)

    assert {reason.code: reason.points for reason in score.reasons} == {
        ChurnReasonCode.REFUNDS: 30,
        ChurnReasonCode.REFUND_AMOUNT: 20,
        ChurnReasonCode.REPEAT_COMPLAINTS: 45,
        ChurnReasonCode.DETRACTOR_ANSWERS: 30,
        ChurnReasonCode.SLA_BREACHES: 20,
    }
    assert score.score == 100
    assert churn_score(ChurnFacts(sla_breaches=50), DEFAULTS).score == 20


def test_equal_contributions_are_listed_in_the_formula_order() -> None:
    score = churn_score(ChurnFacts(detractor_answers=1, complaints=2, sla_breaches=1), DEFAULTS)

    assert [reason.code for reason in score.reasons] == [
        ChurnReasonCode.REPEAT_COMPLAINTS,
        ChurnReasonCode.DETRACTOR_ANSWERS,
        ChurnReasonCode.SLA_BREACHES,
    ]
    assert score.score == 35


counts = st.integers(0, 8)
amounts = st.integers(0, 400_000)
facts = st.builds(ChurnFacts, counts, amounts, counts, counts, counts)
points, caps = st.integers(0, 25), st.integers(0, 100)
params = st.builds(
    ChurnParams,
    refund_points=points,
    refund_cap=caps,
    refund_amount_points=points,
    refund_amount_step=st.integers(1, 200_000),
    refund_amount_cap=caps,
    repeat_complaint_points=points,
    repeat_complaint_cap=caps,
    detractor_points=points,
    detractor_cap=caps,
    sla_breach_points=points,
    sla_breach_cap=caps,
)


@settings(max_examples=300)
@given(
    base=facts,
    worse_in=st.sampled_from([f.name for f in fields(ChurnFacts)]),
    by=st.integers(1, 200_000),
    rules=st.one_of(st.just(DEFAULTS), params),
)
def test_one_more_bad_fact_never_lowers_the_score(base: ChurnFacts, worse_in: str, by: int, rules: ChurnParams) -> None:
    worse = replace(base, **{worse_in: getattr(base, worse_in) + (by if worse_in == "refund_amount" else by % 9 + 1)})

    before, after = churn_score(base, rules), churn_score(worse, rules)

    assert 0 <= before.score <= after.score <= 100
    assert all(reason.points > 0 for reason in after.reasons)
    assert after.score == min(100, sum(reason.points for reason in after.reasons))


@given(base=facts, more=facts, rules=params)
def test_more_bad_facts_of_every_kind_never_lower_the_score(
    base: ChurnFacts, more: ChurnFacts, rules: ChurnParams
) -> None:
    worse = ChurnFacts(*(getattr(base, f.name) + getattr(more, f.name) for f in fields(ChurnFacts)))

    assert churn_score(base, rules).score <= churn_score(worse, rules).score


@pytest.mark.parametrize(
    ("previous", "new", "fires"),
    [
        (None, 60, True),  # the first score is already a warning
        (None, 59, False),
        (59, 60, True),
        (10, 95, True),
        (60, 61, False),  # still above: the warning was given when it crossed
        (80, 60, False),
        (70, 40, False),  # falling is no crossing
    ],
)
def test_the_warning_fires_only_when_the_score_crosses_upward(previous: int | None, new: int, fires: bool) -> None:
    assert crossed(previous, new, 60) is fires


def test_a_score_that_falls_back_and_rises_again_warns_again() -> None:
    scores = [20, 65, 70, 30, 62, 90]

    warnings = [crossed(before, after, 60) for before, after in zip([None, *scores], scores, strict=False)]

    assert warnings == [False, True, False, False, True, False]


@pytest.mark.parametrize(
    ("changes", "pointer"),
    [
        ({"refund_points": -1}, "/refund_points"),
        ({"detractor_cap": 101}, "/detractor_cap"),
        ({"sla_breach_points": 2.5}, "/sla_breach_points"),
        ({"repeat_complaint_cap": True}, "/repeat_complaint_cap"),
        ({"refund_amount_step": 0}, "/refund_amount_step"),
        ({"threshold": 0}, "/threshold"),
        ({"threshold": 101}, "/threshold"),
        ({"window_days": 0}, "/window_days"),
        ({"window_days": 366}, "/window_days"),
        ({"currency": "RMB"}, "/currency"),
    ],
)
def test_settings_out_of_range_are_refused_with_their_field(changes: dict[str, object], pointer: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        ChurnParams(**changes)  # type: ignore[arg-type]

    assert [error.pointer for error in refused.value.errors] == [pointer]


def test_facts_are_counts_of_at_least_zero() -> None:
    with pytest.raises(ValueError, match="refunds"):
        ChurnFacts(refunds=-1)
    with pytest.raises(ValueError, match="complaints"):
        ChurnFacts(complaints=True)
