"""Complaint spikes (客诉激增): sixty days of steady diurnal traffic on fifty series raise no alarm while a surge is
caught in its first hour, once; the Poisson bound is the exact quantile; small counts, warm-up, the end of a spike,
spike hours kept out of the baseline, skipped hours, many series at once, and every refused setting."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta, timezone
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.complaint_spikes import (
    SeriesKey,
    SeriesState,
    SpikeEvent,
    SpikeParams,
    advance,
    evaluate_hour,
    observe,
    poisson_upper_bound,
)
from app.domain.errors import InvalidInput
from bench.spike_bench import poisson

START = datetime(2026, 3, 2, tzinfo=UTC)
HOUR = timedelta(hours=1)
DEFAULTS = SpikeParams()
KEY = SeriesKey("AC-X3", "east", "complaint")


def _diurnal(peak: float, hour: int) -> float:
    """Complaints an hour at UTC hour index `hour`: quietest at 03:00 Beijing time, busiest at 15:00, never under
    0.2 an hour."""
    local = (hour + 8) % 24
    shape = 0.05 + 0.95 * ((1 - math.cos(2 * math.pi * (local - 3) / 24)) / 2) ** 1.5
    return max(0.2, peak * shape)


DAYS, SERIES = 60, 50
SURGE_SERIES = 7
SURGE_PEAK = 12.0
SURGE_FROM = 45 * 24 + 5  # day 45, 05:00 UTC = 13:00 Beijing time, about 11 complaints an hour
SURGE_HOURS = 4
SURGE_FACTOR = 4


@cache
def _sixty_days() -> tuple[list[tuple[int, SeriesKey, SpikeEvent]], int, float, float]:
    """Every event of sixty days of Poisson traffic, fixed seed, with one series surging fourfold for four hours;
    also the tickets drawn and the lowest and highest hourly rates used."""
    rng = random.Random(20260302)
    keys = [SeriesKey(f"line-{n:02d}", ("east", "north", "south")[n % 3], "complaint") for n in range(SERIES)]
    peaks = [math.exp(rng.uniform(0.0, math.log(20.0))) for _ in keys]
    peaks[SURGE_SERIES] = SURGE_PEAK
    states: dict[SeriesKey, SeriesState] = {}
    found: list[tuple[int, SeriesKey, SpikeEvent]] = []
    tickets, lowest, highest = 0, math.inf, 0.0
    for hour in range(DAYS * 24):
        counts = {}
        for n, key in enumerate(keys):
            rate = _diurnal(peaks[n], hour)
            if n == SURGE_SERIES and SURGE_FROM <= hour < SURGE_FROM + SURGE_HOURS:
                rate *= SURGE_FACTOR
            else:
                lowest, highest = min(lowest, rate), max(highest, rate)
            count = poisson(rng, rate)
            tickets += count
            if count:  # quiet hours are skipped, as the caller may
                counts[key] = count
        result = evaluate_hour(states, START + hour * HOUR, counts, DEFAULTS)
        states.update(result.states)
        found += [(hour, key, event) for key, event in result.events.items()]
    return found, tickets, lowest, highest


def test_sixty_days_of_steady_diurnal_traffic_raise_no_alarm() -> None:
    found, tickets, lowest, highest = _sixty_days()

    assert [(hour, key) for hour, key, _ in found if key.product != f"line-{SURGE_SERIES:02d}"] == []
    assert tickets > 100_000
    assert lowest == pytest.approx(0.2) and 19.0 < highest <= 20.0


def test_a_fourfold_surge_is_caught_in_its_first_hour_with_one_event() -> None:
    found, *_ = _sixty_days()

    surged = [(hour, event) for hour, key, event in found if key.product == f"line-{SURGE_SERIES:02d}"]

    assert [hour for hour, _ in surged] == [SURGE_FROM]
    event = surged[0][1]
    assert event.hour_start == START + SURGE_FROM * HOUR
    assert event.count > event.bound
    assert event.baseline == pytest.approx(_diurnal(SURGE_PEAK, SURGE_FROM), rel=0.25)


def _reference_bound(mean: float, p: float) -> int:
    """The quantile straight from its definition: each tail summed from directly computed probabilities."""

    def tail_above(k: int) -> float:
        return math.fsum(math.exp(j * math.log(mean) - mean - math.lgamma(j + 1)) for j in range(k + 1, k + 1 + 400))

    k = 0
    while tail_above(k) > p:
        k += 1
    return k


@pytest.mark.parametrize(
    ("mean", "p", "bound"),
    [
        (1.0, 0.001, 5),  # P(X > 4) = 0.0037, P(X > 5) = 0.00059
        (10.0, 0.01, 18),  # P(X > 17) = 0.0143, P(X > 18) = 0.0072
        (0.5, 0.01, 3),  # P(X > 2) = 0.0144, P(X > 3) = 0.0018
        (4.0, 0.4, 4),
        (0.0, 0.01, 0),
    ],
)
def test_poisson_bound_matches_the_table(mean: float, p: float, bound: int) -> None:
    assert poisson_upper_bound(mean, p) == bound


@settings(max_examples=150, deadline=None)
@given(mean=st.floats(0.01, 60.0), p=st.floats(1e-9, 0.49))
def test_poisson_bound_is_the_exact_quantile(mean: float, p: float) -> None:
    assert poisson_upper_bound(mean, p) == _reference_bound(mean, p)


def test_poisson_bound_of_a_large_mean_neither_underflows_nor_drifts() -> None:
    bound = poisson_upper_bound(10_000.0, 0.0013499)  # three standard deviations above

    assert 10_290 <= bound <= 10_310
    assert poisson_upper_bound(10_000.0, 0.4999) == 10_000
    with pytest.raises(ValueError, match="tail probability"):
        poisson_upper_bound(3.0, 0.0)


def _warm(level: int, params: SpikeParams = DEFAULTS, hours: int | None = None) -> tuple[SeriesState, int]:
    """A series observed at `level` complaints every hour through its warm-up; the next hour's index."""
    state = SeriesState.new(params)
    hours = params.warmup_hours if hours is None else hours
    for hour in range(hours):
        state, event = observe(state, START + hour * HOUR, level, params)
        assert event is None
    return state, hours


def test_a_few_complaints_at_night_are_no_spike_below_the_minimum_count() -> None:
    lenient = SpikeParams(p=0.01, min_count=5)
    state, hour = _warm(0, lenient)

    after, event = observe(state, START + hour * HOUR, 4, lenient)  # above Poisson(0.5)'s 99 % bound of 3

    assert event is None and not after.in_spike
    _, event = observe(state, START + hour * HOUR, 4, SpikeParams(p=0.01, min_count=4))
    assert event == SpikeEvent(START + hour * HOUR, 4, 0.0, 3)


def test_no_hour_is_judged_before_the_warm_up_is_over() -> None:
    state, hour = _warm(2, hours=DEFAULTS.warmup_hours - 1)

    during, event = observe(state, START + hour * HOUR, 500, DEFAULTS)
    assert event is None and not during.in_spike

    _, event = observe(during, START + (hour + 1) * HOUR, 500, DEFAULTS)
    assert event is not None and event.count == 500


def test_a_spike_ends_after_the_calm_hours_and_only_then_can_a_new_one_start() -> None:
    state, hour = _warm(3)
    events = []
    # spike, two calm hours (fewer than end_after_hours=3), spike again, three calm hours, spike again
    for count in (60, 60, 3, 3, 60, 60, 3, 3, 3, 60):
        state, event = observe(state, START + hour * HOUR, count, DEFAULTS)
        events.append(event is not None)
        hour += 1

    assert events == [True, False, False, False, False, False, False, False, False, True]
    assert state.in_spike and state.spike_started_at == START + (hour - 1) * HOUR


def test_a_surge_does_not_raise_the_baseline_enough_to_hide_the_next_one() -> None:
    """A quick baseline (two-day half-life) after a day at four times the usual count: the capped update keeps the
    next day's surge above the bound; learning the surge as it came would hide it (bound 43 above 40)."""
    quick = SpikeParams(half_life_hours=48)
    state, hour = _warm(10, quick, hours=24 * 10)
    starts = []
    for count in [40] * 24 + [10] * 3 + [40]:
        state, event = observe(state, START + hour * HOUR, count, quick)
        if event is not None:
            starts.append(hour)
        hour += 1

    assert starts == [24 * 10, 24 * 11 + 3]
    assert state.baseline(START + (hour - 1) * HOUR) < poisson_upper_bound(10, quick.p)


def test_skipped_hours_fold_in_as_zeros_and_a_spike_ends_in_the_gap() -> None:
    state, hour = _warm(4)
    state, event = observe(state, START + hour * HOUR, 80, DEFAULTS)
    assert event is not None

    later = advance(state, START + (hour + 1 + 30) * HOUR, DEFAULTS)

    assert later.hours_seen == state.hours_seen + 30
    assert later.last_hour == START + (hour + 30) * HOUR
    assert not later.in_spike and later.spike_started_at is None
    assert later.baseline(START + hour * HOUR) == pytest.approx(state.baseline(START + hour * HOUR) * (1 - 1 / 9))


@settings(max_examples=60, deadline=None)
@given(
    level=st.integers(0, 15),
    steps=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 90)), min_size=1, max_size=25),
    season=st.sampled_from([1, 24, 168]),
)
def test_skipping_quiet_hours_gives_what_observing_each_zero_gives(
    level: int, steps: list[tuple[int, int]], season: int
) -> None:
    params = SpikeParams(season_hours=season, warmup_hours=max(season, 48), half_life_hours=72)
    lazy, hour = _warm(level, params)
    eager = lazy
    lazy_events, eager_events = [], []
    for gap, count in steps:
        for _ in range(gap):
            eager, event = observe(eager, START + hour * HOUR, 0, params)
            eager_events.append(event)
            hour += 1
        lazy, event = observe(lazy, START + hour * HOUR, count, params)
        lazy_events.append(event)
        eager, event = observe(eager, START + hour * HOUR, count, params)
        eager_events.append(event)
        hour += 1

    lazy_found, eager_found = [e for e in lazy_events if e], [e for e in eager_events if e]
    assert [(e.hour_start, e.count, e.bound) for e in lazy_found] == [
        (e.hour_start, e.count, e.bound) for e in eager_found
    ]
    assert [e.baseline for e in lazy_found] == pytest.approx([e.baseline for e in eager_found], rel=1e-9)
    assert (lazy.hours_seen, lazy.in_spike, lazy.spike_started_at, lazy.last_hour, lazy.calm_hours) == (
        eager.hours_seen,
        eager.in_spike,
        eager.spike_started_at,
        eager.last_hour,
        eager.calm_hours,
    )
    assert lazy.ewma == pytest.approx(eager.ewma, rel=1e-9, abs=1e-12)


@settings(max_examples=80, deadline=None)
@given(
    level=st.integers(1, 20),
    run=st.lists(st.tuples(st.integers(1_000, 5_000), st.integers(0, 2)), min_size=1, max_size=30),
)
def test_one_continuous_spike_is_announced_once(level: int, run: list[tuple[int, int]]) -> None:
    """Huge hours broken only by dips at the usual level shorter than `end_after_hours` (3) are one spike: exactly
    one event, in its first hour."""
    state, hour = _warm(level)
    first = hour
    announced = []
    for huge, dip in run:
        for count in [huge] + [level] * dip:
            state, event = observe(state, START + hour * HOUR, count, DEFAULTS)
            if event is not None:
                announced.append(hour)
            hour += 1

    assert announced == [first]
    assert state.in_spike and state.spike_started_at == START + first * HOUR


def test_many_series_at_once_start_new_ones_and_end_quiet_spikes_on_time() -> None:
    quiet, surging, newcomer = (SeriesKey(f"line-{n}", "east", "complaint") for n in range(3))
    state, hour = _warm(5)
    states = {quiet: state, surging: state}
    at = START + hour * HOUR

    first = evaluate_hour(states, at, {surging: 90, newcomer: 2}, DEFAULTS)

    assert set(first.states) == {surging, newcomer}  # the quiet series is folded in later, not now
    assert list(first.events) == [surging] and first.events[surging].count == 90
    assert first.states[newcomer].hours_seen == 1
    states.update(first.states)
    for offset in range(1, 4):
        result = evaluate_hour(states, at + offset * HOUR, {}, DEFAULTS)
        assert set(result.states) == {surging}
        states.update(result.states)
    assert not states[surging].in_spike
    assert evaluate_hour(states, at + 4 * HOUR, {}, DEFAULTS).states == {}


def test_hours_must_be_whole_utc_hours_moving_forward() -> None:
    state, hour = _warm(1)
    at = START + hour * HOUR

    with pytest.raises(ValueError, match="not after"):
        observe(state, at - HOUR, 1, DEFAULTS)
    with pytest.raises(ValueError, match="start of an hour"):
        observe(state, at + timedelta(minutes=30), 1, DEFAULTS)
    with pytest.raises(ValueError, match="time zone"):
        observe(state, at.replace(tzinfo=None), 1, DEFAULTS)
    with pytest.raises(ValueError, match="at least 0"):
        observe(state, at, -1, DEFAULTS)
    with pytest.raises(ValueError, match="slots"):
        observe(state, at, 1, SpikeParams(season_hours=168))
    beijing = at.astimezone(timezone(timedelta(hours=8)))
    assert observe(state, beijing, 1, DEFAULTS)[0].hours_seen == state.hours_seen + 1


@pytest.mark.parametrize(
    ("changes", "pointer"),
    [
        ({"p": 0.0}, "/p"),
        ({"p": 0.5}, "/p"),
        ({"p": float("nan")}, "/p"),
        ({"min_count": 0}, "/min_count"),
        ({"min_count": True}, "/min_count"),
        ({"half_life_hours": 0}, "/half_life_hours"),
        ({"half_life_hours": 24 * 90 + 1}, "/half_life_hours"),
        ({"half_life_hours": 12.5}, "/half_life_hours"),
        ({"warmup_hours": 0}, "/warmup_hours"),
        ({"warmup_hours": 23}, "/warmup_hours"),
        ({"end_after_hours": 0}, "/end_after_hours"),
        ({"baseline_floor": 0}, "/baseline_floor"),
        ({"season_hours": 12}, "/season_hours"),
    ],
)
def test_settings_out_of_range_are_refused_with_their_field(changes: dict[str, object], pointer: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        SpikeParams(**changes)  # type: ignore[arg-type]

    assert [error.pointer for error in refused.value.errors] == [pointer]


def test_every_bad_setting_is_named_at_once() -> None:
    with pytest.raises(InvalidInput) as refused:
        SpikeParams(p=1.0, min_count=0, warmup_hours=0)

    assert [error.pointer for error in refused.value.errors] == ["/p", "/min_count", "/warmup_hours"]
    assert SpikeParams(half_life_hours=1, warmup_hours=24).alpha == pytest.approx(1 - 2**-24)
