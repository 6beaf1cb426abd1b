"""客诉激增 (complaint spike): one kind of complaint suddenly arriving far more often than usual, per series (product,
region, ticket type), judged hour by hour so a supervisor hears of it before it grows (seed 002).

The baseline of a series is an EWMA (exponentially weighted moving average) of its hourly counts, kept per hour of
the day (`season_hours` 24: 24 slots, the 10:00 slot learns only from 10:00 hours) so the day's own rhythm, quiet
nights and busy mornings, is never taken for a spike; `season_hours` 168 learns each hour of the week, 1 keeps one
plain EWMA. A sample's weight halves every `half_life_hours` of elapsed time, so a slot seen once per season moves by
alpha = 1 - 2^(-season_hours / half_life_hours) per observation (24 / 336 hours: alpha ≈ 0.048). Until a slot has
seen 1/alpha observations it is their plain mean (the EWMA's start-up, unbiased by an empty first value).

An hour is *over* when its count is at least `min_count` (so 0 → 2 at night is never a spike) and above the bound,
the 1 - p quantile of Poisson(max(baseline, baseline_floor)), computed exactly from the Poisson probabilities (no
normal approximation: most series see a handful of complaints an hour). No hour is judged during the series' first
`warmup_hours`. The first over hour starts a spike and yields one `SpikeEvent`; further over hours extend it silently;
`end_after_hours` hours in a row that are not over end it, and only then can a new spike (and event) begin.

Spikes do not poison the baseline: after warm-up every update is capped at the hour's bound (a winsorised EWMA), so a
surge moves its slot at most to the bound, and a lasting new level is learned slowly instead of silencing alarms.

Hours without complaints are zeros. The caller may skip them: the next observation (or `advance`) folds the missing
hours in O(season) whatever the gap's length, with the same arithmetic as observing each zero, so a series untouched
for a week reads exactly as if it had been evaluated every hour. Pure: no clock, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from app.domain.errors import FieldError, InvalidInput

HOUR = timedelta(hours=1)
SEASONS = (1, 24, 168)
"""Slots of the baseline: none (one EWMA), the hours of the day, the hours of the week."""

P_MIN, P_MAX = 1e-12, 0.5
"""The tail probability p: below 1e-12 the Poisson sums in floating point cannot tell the bound apart."""
HALF_LIFE_HOURS_MIN, HALF_LIFE_HOURS_MAX = 1, 24 * 90
WARMUP_HOURS_MAX = 24 * 365
END_AFTER_HOURS_MAX = 24 * 7
MIN_COUNT_MAX = 1_000_000
BASELINE_FLOOR_MAX = 1_000.0


@dataclass(frozen=True, slots=True, order=True)
class SeriesKey:
    """One series of complaints: `product` is the product line or the SKU (the deployment picks one), `region` and
    `ticket_type` as on the ticket; an unknown value is the caller's empty string."""

    product: str
    region: str
    ticket_type: str


@dataclass(frozen=True, slots=True)
class SpikeParams:
    """How spikes are judged. Defaults: p 1e-6 (10,000 series checked hourly: at most about one false alarm in
    four days), at least 5 complaints in the hour, a two-week half-life, a week of warm-up (every hour of the day seen
    seven times), a spike ends after 3 calm hours, and a baseline never taken below 0.5 an hour. Invalid values
    raise InvalidInput naming each field (`/p`, `/min_count`, …)."""

    p: float = 1e-6
    min_count: int = 5
    half_life_hours: int = 24 * 14
    warmup_hours: int = 24 * 7
    end_after_hours: int = 3
    baseline_floor: float = 0.5
    season_hours: int = 24

    def __post_init__(self) -> None:
        errors = spike_params_errors(self)
        if errors:
            raise InvalidInput("The complaint spike settings cannot be used as sent", errors=errors)

    @property
    def alpha(self) -> float:
        """The weight of one new observation of a slot once its start-up is over."""
        return _weights(self.season_hours, self.half_life_hours)[0]


def spike_params_errors(params: SpikeParams) -> list[FieldError]:
    """Every problem of the settings, each a JSON pointer to its field."""
    errors: list[FieldError] = []
    if not _is_number(params.p) or not P_MIN <= params.p < P_MAX:
        errors.append(FieldError("/p", f"must be a probability from {P_MIN:g} up to (not including) {P_MAX:g}"))
    errors += _whole("/min_count", params.min_count, 1, MIN_COUNT_MAX)
    errors += _whole("/half_life_hours", params.half_life_hours, HALF_LIFE_HOURS_MIN, HALF_LIFE_HOURS_MAX)
    errors += _whole("/end_after_hours", params.end_after_hours, 1, END_AFTER_HOURS_MAX)
    if params.season_hours not in SEASONS or isinstance(params.season_hours, bool):
        errors.append(FieldError("/season_hours", "must be 1 (no rhythm), 24 (hours of the day) or 168 (of the week)"))
    warmup = _whole("/warmup_hours", params.warmup_hours, 1, WARMUP_HOURS_MAX)
    if not warmup and params.season_hours in SEASONS and params.warmup_hours < params.season_hours:
        warmup.append(
            FieldError("/warmup_hours", f"must cover one season ({params.season_hours} hours): every slot seen once")
        )
    errors += warmup
    if not _is_number(params.baseline_floor) or not 0 < params.baseline_floor <= BASELINE_FLOOR_MAX:
        errors.append(FieldError("/baseline_floor", f"must be above 0 and at most {BASELINE_FLOOR_MAX:g}"))
    return errors


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _whole(pointer: str, value: object, low: int, high: int) -> list[FieldError]:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return [FieldError(pointer, f"must be a whole number from {low:,} to {high:,}")]
    return []


@dataclass(frozen=True, slots=True)
class SeriesState:
    """What a series keeps between hours: its baseline slots (`ewma`, expected complaints per hour, one per hour of
    the season), how many hours it has been observed (gaps included, as zeros), whether a spike is on and since when,
    the last hour folded in, and how many calm hours in a row the current spike has had."""

    ewma: tuple[float, ...]
    hours_seen: int = 0
    in_spike: bool = False
    spike_started_at: datetime | None = None
    last_hour: datetime | None = None
    calm_hours: int = 0

    @classmethod
    def new(cls, params: SpikeParams) -> SeriesState:
        """A series seen for the first time: nothing learned, warm-up ahead."""
        return cls((0.0,) * params.season_hours)

    def baseline(self, hour_start: datetime) -> float:
        """The expected count of the hour starting at `hour_start`, as learned so far (before any gap is folded)."""
        return self.ewma[_hour_index(hour_start) % len(self.ewma)]


@dataclass(frozen=True, slots=True)
class SpikeEvent:
    """A spike started (risk.spike_detected): the first over hour, its count, the baseline it was judged against
    and the bound it exceeded."""

    hour_start: datetime
    count: int
    baseline: float
    bound: int


@dataclass(frozen=True, slots=True)
class HourEvaluation:
    """One hour over many series: the states that changed (to be stored) and the spikes that started."""

    states: dict[SeriesKey, SeriesState]
    events: dict[SeriesKey, SpikeEvent]


def poisson_upper_bound(mean: float, p: float) -> int:
    """The 1 - p quantile of Poisson(mean): the smallest k with P(X > k) <= p.

    Exact up to floating point: the tail above the mode is summed term by term (pmf(j) = pmf(j-1) * mean / j, the
    mode's own term from lgamma so that no large mean underflows) until what remains is negligible beside p. The
    answer is never below the mode, because for p < 1/2 the quantile is at least the median, which is at least
    floor(mean)."""
    if not 0 < p < P_MAX:
        raise ValueError(f"the tail probability is above 0 and below {P_MAX:g}, not {p!r}")
    if mean <= 0:
        return 0
    mode = math.floor(mean)
    term = math.exp(mode * math.log(mean) - mean - math.lgamma(mode + 1))
    terms: list[float] = []
    j = mode
    negligible = p * 1e-9
    while True:
        j += 1
        term *= mean / j
        terms.append(term)
        ratio = mean / (j + 1)
        # What lies beyond j is below the geometric series term * ratio / (1 - ratio).
        if term * ratio / (1.0 - ratio) < negligible:
            break
    tail = 0.0
    for offset in range(len(terms) - 1, -1, -1):
        tail += terms[offset]  # now P(X > mode + offset)
        if tail > p:
            return mode + offset + 1
    return mode


def advance(state: SeriesState, until: datetime, params: SpikeParams) -> SeriesState:
    """`state` as of the start of hour `until`: every hour after `last_hour` and before `until` folded in as a zero,
    in O(season) however long the gap. A state never observed, or already there, comes back as it is."""
    _check_season(state, params)
    if state.last_hour is None:
        return state
    last = _hour_index(state.last_hour)
    gap = _hour_index(until) - last - 1
    if gap <= 0:
        return state
    slots, in_spike, started, calm = _fold(state, last, gap, params)
    return SeriesState(tuple(slots), state.hours_seen + gap, in_spike, started, until - HOUR, calm)


def observe(
    state: SeriesState, hour_start: datetime, count: int, params: SpikeParams
) -> tuple[SeriesState, SpikeEvent | None]:
    """Fold in the complaints of the hour starting at `hour_start` (any hours skipped since the last one count as
    zeros). The event comes only with the hour that starts a spike. Hours go forward: an hour already folded in is
    refused with ValueError, as is a negative count or a start that is not a whole UTC hour."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"a complaint count is a whole number of at least 0, not {count!r}")
    _check_season(state, params)
    index = _hour_index(hour_start)
    hours_seen = state.hours_seen
    if state.last_hour is None:
        slots, in_spike, started, calm = list(state.ewma), state.in_spike, state.spike_started_at, state.calm_hours
    else:
        last = _hour_index(state.last_hour)
        if index <= last:
            raise ValueError(f"hour {hour_start.isoformat()} is not after the last one folded in, {state.last_hour}")
        slots, in_spike, started, calm = _fold(state, last, index - last - 1, params)
        hours_seen += index - last - 1
    season = params.season_hours
    alpha, start_up = _weights(season, params.half_life_hours)
    slot = index % season
    baseline = slots[slot]
    bound = _bound_if_over(count, baseline, params) if hours_seen >= params.warmup_hours else None
    learned = count if bound is None else min(count, bound)
    seen = _slot_observations(hours_seen, index - 1, slot, season) + 1
    slots[slot] = baseline + (1.0 / seen if seen <= start_up else alpha) * (learned - baseline)
    event = None
    if bound is not None:
        if not in_spike:
            event = SpikeEvent(hour_start, count, baseline, bound)
            in_spike, started = True, hour_start
        calm = 0
    elif in_spike:
        calm += 1
        if calm >= params.end_after_hours:
            in_spike, started, calm = False, None, 0
    return SeriesState(tuple(slots), hours_seen + 1, in_spike, started, hour_start, calm), event


def _fold(
    state: SeriesState, last: int, gap: int, params: SpikeParams
) -> tuple[list[float], bool, datetime | None, int]:
    """The slots and the spike after `gap` zero hours following hour index `last`: each slot gets as many zeros as
    gap hours fall in it, in one step. While a slot is in its start-up a zero is one more value of its plain mean
    (n zeros after s values scale it by s / (s + n)); after it, each zero scales it by 1 - alpha."""
    slots = list(state.ewma)
    in_spike, started, calm = state.in_spike, state.spike_started_at, state.calm_hours
    if gap <= 0:
        return slots, in_spike, started, calm
    season = params.season_hours
    alpha, start_up = _weights(season, params.half_life_hours)
    keep = 1.0 - alpha
    whole, rest = divmod(gap, season)
    first = last + 1
    if state.hours_seen >= start_up * season:  # every slot past its start-up: plain decay
        if whole:
            factor = keep**whole
            slots = [value * factor for value in slots]
        for offset in range(rest):
            slots[(first + offset) % season] *= keep
    else:
        for slot in range(season):
            zeros = whole + (1 if (slot - first) % season < rest else 0)
            if zeros and slots[slot]:
                seen = _slot_observations(state.hours_seen, last, slot, season)
                as_mean = max(0, min(seen + zeros, start_up) - seen)
                if as_mean:
                    slots[slot] *= seen / (seen + as_mean)
                slots[slot] *= keep ** (zeros - as_mean)
    if in_spike:
        calm += gap
        if calm >= params.end_after_hours:
            in_spike, started, calm = False, None, 0
    return slots, in_spike, started, calm


def evaluate_hour(
    states: Mapping[SeriesKey, SeriesState],
    hour_start: datetime,
    counts: Mapping[SeriesKey, int],
    params: SpikeParams,
) -> HourEvaluation:
    """One hour of many series: each series in `counts` is observed (a series without a state starts one), and each
    series in a spike without complaints this hour is observed as a zero so its spike ends on time. Every other
    series is left alone: its quiet hours are folded in when it is next observed, to the same result."""
    changed: dict[SeriesKey, SeriesState] = {}
    events: dict[SeriesKey, SpikeEvent] = {}
    for key, count in counts.items():
        state = states.get(key) or SeriesState.new(params)
        changed[key], event = observe(state, hour_start, count, params)
        if event is not None:
            events[key] = event
    for key, state in states.items():
        if state.in_spike and key not in counts:
            changed[key], _ = observe(state, hour_start, 0, params)
    return HourEvaluation(changed, events)


def _bound_if_over(count: int, baseline: float, params: SpikeParams) -> int | None:
    """The bound when the hour is over it (and has at least min_count complaints), else None.

    Most hours are settled without the quantile: a count at or below the mean is never above it, and a count whose
    own probability exceeds 2p has a tail above p, so it is not above the quantile either."""
    if count < params.min_count:
        return None
    mean = max(baseline, params.baseline_floor)
    if count <= mean:
        return None
    if math.exp(count * math.log(mean) - mean - math.lgamma(count + 1)) > 2 * params.p:
        return None
    bound = poisson_upper_bound(mean, params.p)
    return bound if count > bound else None


@cache
def _weights(season_hours: int, half_life_hours: int) -> tuple[float, int]:
    """alpha, and how many first observations of a slot are averaged plainly (weight 1/n while 1/n >= alpha)."""
    alpha = 1.0 - 2.0 ** (-season_hours / half_life_hours)
    return alpha, math.floor(1.0 / alpha + 1e-9)


def _slot_observations(hours_seen: int, last_index: int, slot: int, season: int) -> int:
    """How many of the `hours_seen` hours ending at `last_index` fell in `slot` (the hours seen are contiguous)."""
    whole, rest = divmod(hours_seen, season)
    return whole + (1 if (last_index - slot) % season < rest else 0)


def _check_season(state: SeriesState, params: SpikeParams) -> None:
    if len(state.ewma) != params.season_hours:
        raise ValueError(
            f"the state has {len(state.ewma)} slots but the settings {params.season_hours}: a changed season starts "
            "every series anew"
        )


def _hour_index(moment: datetime) -> int:
    """Hours since the epoch of a whole hour (in any zone a whole number of hours from UTC); else refused."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment.isoformat()} has no time zone")
    hours, rest = divmod(moment.timestamp(), 3600)
    if rest:
        raise ValueError(f"{moment.isoformat()} is not the start of an hour")
    return int(hours)
