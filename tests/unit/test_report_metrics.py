"""Report metrics against a hand-computed fixture: what each ticket history adds to the hourly rollups, how an event's
change is the difference of two histories, percentiles from log-scale histograms, and local periods in a zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from app.domain.conversation import CUSTOMER_MESSAGES, REPLY_ACTIONS, Speaker, voice_of
from app.domain.errors import InvalidInput
from app.domain.report_metrics import Cell, Measure, Step, bucket_of, change_by, contribution, percentile, upper_edge
from app.domain.reports import Interval, ReportQuery, RollupRow, check_range, times, volume

T0 = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)  # a Monday
H = timedelta(hours=1)


def steps(*moves: tuple[timedelta, str | None, str | None]) -> list[Step]:
    """A history: created at T0, then each (offset, from, to) status change; ids increase as new_id()'s do."""
    out = [Step(UUID(int=1), T0, "created", None, "new")]
    for n, (offset, source, dest) in enumerate(moves, start=2):
        out.append(Step(UUID(int=n), T0 + offset, "action", source, dest, action=f"to_{dest}"))
    return out


def said(*lines: tuple[timedelta, str, Speaker | None]) -> list[Step]:
    """A history of talk: created at T0, then each (offset, kind, voice) line, a comment or an action."""
    out = [Step(UUID(int=1), T0, "created", None, "new")]
    for n, (offset, kind, voice) in enumerate(lines, start=2):
        out.append(Step(UUID(int=n), T0 + offset, kind, action="comment" if kind == "comment" else kind, voice=voice))
    return out


def event_after(history: list[Step], n: int) -> tuple[UUID, str]:
    """The id and type of the event written with the history's n-th line (1-based), just after it."""
    return UUID(int=n + 1), history[n - 1].event_type


def hour(offset: timedelta) -> datetime:
    return (T0 + offset).replace(minute=0, second=0, microsecond=0)


REOPENED = steps(
    (H, "new", "assigned"),
    (2 * H, "assigned", "in_progress"),
    (3 * H, "in_progress", "pending_follow_up"),  # first resolution: 3 h
    (4 * H, "pending_follow_up", "completed"),  # full resolution 4 h, withdrawn by the reopening
    (26 * H, "completed", "assigned"),
    (27 * H, "assigned", "in_progress"),
    (28 * H, "in_progress", "pending_follow_up"),
    (30 * H, "pending_follow_up", "closed"),  # full resolution: 30 h
)


def test_a_reopened_tickets_contribution_counts_every_move_and_its_final_resolution_only():
    assert contribution(REOPENED) == {
        Cell(hour(timedelta()), Measure.CREATED): 1,
        Cell(hour(3 * H), Measure.RESOLVED): 1,
        Cell(hour(28 * H), Measure.RESOLVED): 1,
        Cell(hour(4 * H), Measure.CLOSED): 1,
        Cell(hour(30 * H), Measure.CLOSED): 1,
        Cell(hour(26 * H), Measure.REOPENED): 1,
        Cell(hour(3 * H), Measure.FIRST_RESOLUTION, bucket_of(3 * 3600)): 1,
        Cell(hour(30 * H), Measure.FULL_RESOLUTION, bucket_of(30 * 3600)): 1,
    }


def test_the_reopening_event_withdraws_the_resolution_it_had_ended():
    # the reopening's timeline line has id 6; its event, recorded just after it, an id between 6 and 7
    change = change_by(REOPENED, *event_after(REOPENED, 6))

    assert change == {
        Cell(hour(26 * H), Measure.REOPENED): 1,
        Cell(hour(4 * H), Measure.FULL_RESOLUTION, bucket_of(4 * 3600)): -1,
    }


def test_the_changes_of_every_event_add_up_to_the_contribution():
    total: dict[Cell, int] = {}
    for n in range(1, len(REOPENED) + 1):
        for cell, count in change_by(REOPENED, *event_after(REOPENED, n)).items():
            total[cell] = total.get(cell, 0) + count

    assert {c: n for c, n in total.items() if n} == contribution(REOPENED)


def test_an_event_without_a_line_of_its_own_changes_nothing():
    # an SLA breach after the reopening: the last line before it is the reopening's, written with another event
    assert change_by(REOPENED, UUID(int=7), "sla.breached") == {}
    assert change_by(REOPENED, UUID(int=7), "ticket.commented") == {}


AGENT, CUSTOMER = Speaker.AGENT, Speaker.CUSTOMER
M = timedelta(minutes=1)
TALK = said(
    (10 * M, "comment", CUSTOMER),  # before the first reply: covered by first reply
    (20 * M, "comment", None),  # an internal note: no reply
    (45 * M, "comment", AGENT),  # first reply: 45 min
    (2 * H, "comment", CUSTOMER),  # a wait starts
    (2 * H + 30 * M, "urge", CUSTOMER),  # further messages do not restart it
    (5 * H, "request_info", AGENT),  # next reply: 3 h
    (6 * H, "request_info", AGENT),  # nobody was waiting: no sample
    (7 * H, "customer_reply", CUSTOMER),
    (7 * H + 20 * M, "resolve", AGENT),  # next reply: 20 min
)


def test_first_and_next_replies_by_hand():
    replies = {c: n for c, n in contribution(TALK).items() if c.measure in (Measure.FIRST_REPLY, Measure.NEXT_REPLY)}

    assert replies == {
        Cell(hour(45 * M), Measure.FIRST_REPLY, bucket_of(45 * 60)): 1,
        Cell(hour(5 * H), Measure.NEXT_REPLY, bucket_of(3 * 3600)): 1,
        Cell(hour(7 * H + 20 * M), Measure.NEXT_REPLY, bucket_of(20 * 60)): 1,
    }


def test_a_message_to_a_closed_ticket_owes_no_reply():
    history = [
        *said((H, "comment", AGENT)),
        Step(UUID(int=3), T0 + 2 * H, "action", "in_progress", "closed", action="close"),
        Step(UUID(int=4), T0 + 3 * H, "comment", action="comment", voice=CUSTOMER),
        Step(UUID(int=5), T0 + 4 * H, "comment", action="comment", voice=AGENT),
    ]

    assert Measure.NEXT_REPLY not in {c.measure for c in contribution(history)}
    assert Measure.NEXT_REPLY in {c.measure for c in contribution([*history[:2], *history[3:]])}  # not closed: owed


def test_who_speaks_in_a_timeline_line():
    assert voice_of("comment", "comment", True, {"speaker": "agent"}) is AGENT
    assert voice_of("comment", "comment", True, {"speaker": "customer"}) is CUSTOMER
    assert voice_of("comment", "comment", False, {"speaker": "agent"}) is None  # an internal note
    assert voice_of("comment", "comment", True, {}) is None
    assert {voice_of("action", a, True, {}) for a in REPLY_ACTIONS} == {AGENT}
    assert {voice_of("action", a, False, {}) for a in CUSTOMER_MESSAGES} == {CUSTOMER}
    assert voice_of("action", "claim", True, {}) is None
    assert voice_of("updated", "update", False, {"speaker": "agent"}) is None


def test_a_cancelled_ticket_leaves_the_backlog_without_a_resolution_time():
    history = steps((H, "new", "cancelled"))

    assert contribution(history) == {
        Cell(hour(timedelta()), Measure.CREATED): 1,
        Cell(hour(H), Measure.CANCELLED): 1,
    }


@pytest.mark.parametrize(
    ("seconds", "bucket"), [(0, 0), (0.5, 0), (1, 1), (2**0.125 - 1e-9, 1), (2**0.125, 2), (2, 9), (3600, 95)]
)
def test_buckets_are_eight_per_doubling_with_exact_edges(seconds, bucket):
    assert bucket_of(seconds) == bucket
    assert (upper_edge(bucket - 1) if bucket else 0) <= seconds < upper_edge(bucket)


def test_percentiles_are_the_upper_edge_of_the_nearest_rank_bucket():
    # ten samples: 1 h ×5, 2 h ×4, 10 h ×1 → p50 is the 5th (1 h), p90 the 9th (2 h)
    histogram = {bucket_of(3600): 5, bucket_of(7200): 4, bucket_of(36000): 1}

    assert percentile(histogram, 0.5) == round(upper_edge(bucket_of(3600)), 1) == 3756.0  # 2^(95/8) s
    assert percentile(histogram, 0.9) == round(upper_edge(bucket_of(7200)), 1) == 7512.1  # 2^(103/8) s
    assert percentile({}, 0.5) is None


def test_volume_counts_per_local_week_and_carries_the_backlog():
    shanghai = ZoneInfo("Asia/Shanghai")
    query = ReportQuery(date(2026, 3, 2), date(2026, 3, 15), shanghai, Interval.WEEK)
    # 2026-03-08 16:00Z is Monday 03-09 00:00 in Shanghai: the second week; 15:00Z is still the first.
    rows = [
        RollupRow(datetime(2026, 3, 8, 15, tzinfo=UTC), Measure.CREATED, 0, None, 3),
        RollupRow(datetime(2026, 3, 8, 16, tzinfo=UTC), Measure.CREATED, 0, None, 2),
        RollupRow(datetime(2026, 3, 9, 1, tzinfo=UTC), Measure.CLOSED, 0, None, 4),
        RollupRow(datetime(2026, 3, 9, 1, tzinfo=UTC), Measure.REOPENED, 0, None, 1),
    ]

    out = volume(query, rows, {None: 10})

    assert [(r.period, r.counts[Measure.CREATED], r.counts[Measure.CLOSED], r.backlog) for r in out] == [
        (date(2026, 3, 2), 3, 0, 13),
        (date(2026, 3, 9), 2, 4, 12),
    ]
    assert query.utc_start == datetime(2026, 3, 1, 16, tzinfo=UTC)
    assert query.utc_end == datetime(2026, 3, 15, 16, tzinfo=UTC)


def test_a_half_hour_zone_counts_each_hour_in_the_local_day_it_starts_in():
    kolkata = ReportQuery(date(2026, 3, 2), date(2026, 3, 2), ZoneInfo("Asia/Kolkata"))

    # local midnight is 18:30Z: the first whole hour starting after it is 19:00Z
    assert kolkata.utc_start == datetime(2026, 3, 1, 19, tzinfo=UTC)
    assert kolkata.period_of(datetime(2026, 3, 1, 18, tzinfo=UTC)) == date(2026, 3, 1)
    assert kolkata.period_of(datetime(2026, 3, 1, 19, tzinfo=UTC)) == date(2026, 3, 2)


def test_times_per_group_and_month():
    query = ReportQuery(date(2026, 3, 1), date(2026, 4, 30), ZoneInfo("UTC"), Interval.MONTH)
    rows = [
        RollupRow(datetime(2026, 3, 5, tzinfo=UTC), Measure.FIRST_RESOLUTION, bucket_of(3600), "app", 2),
        RollupRow(datetime(2026, 3, 9, tzinfo=UTC), Measure.FIRST_RESOLUTION, bucket_of(60), "app", 1),
        RollupRow(datetime(2026, 4, 1, tzinfo=UTC), Measure.FULL_RESOLUTION, bucket_of(7200), "", 1),
    ]

    out = {(r.period, r.group): r.times for r in times(query, rows)}

    march_app = out[(date(2026, 3, 1), "app")][Measure.FIRST_RESOLUTION]
    assert (march_app.count, march_app.p50_seconds, march_app.p90_seconds) == (3, 3756.0, 3756.0)
    assert out[(date(2026, 4, 1), None)][Measure.FULL_RESOLUTION].count == 1
    assert out[(date(2026, 4, 1), "app")][Measure.FIRST_RESOLUTION].p50_seconds is None


@pytest.mark.parametrize(("start", "end"), [(date(2026, 3, 2), date(2026, 3, 1)), (date(2025, 1, 1), date(2026, 3, 1))])
def test_inverted_and_overlong_ranges_name_the_end(start, end):
    with pytest.raises(InvalidInput) as refused:
        check_range(start, end, 366)

    assert refused.value.errors[0].pointer == "to"
