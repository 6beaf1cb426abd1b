"""Ticket metrics as cells of hourly rollups (docs/reports.md has every formula).

A ticket's contribution to the rollups is a pure function of its history: its creation, its status changes and
who spoke (agent replies, customer messages), oldest first. The rollup job adds, per event, the contribution of the
history through the event minus that of the history before it; a re-derive adds whole contributions. Both are this
one function, so they cannot disagree.

Durations go to mergeable histograms: fixed log-scale buckets (eight per doubling), so that the hours of any
period add up bucket by bucket and a percentile is read off the sum. A percentile is the upper edge of the bucket
holding the nearest-rank sample: at most 9 % (2^(1/8)) above the exact sample, and the same from any roll-up."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from app.domain.conversation import Speaker
from app.domain.events import line_event_type

BUCKETS_PER_DOUBLING = 8
FINISHED = frozenset({"completed", "closed"})
"""A ticket done with the customer's issue: the end of its full resolution time."""
CANCELLED = "cancelled"
RESOLVED = "pending_follow_up"
"""The status a resolution moves a ticket to (待回访)."""
ENDED = FINISHED | {CANCELLED}
"""A customer's message to a ticket in one of these owes no reply (the SLA's next reply does not start either)."""


class Measure(StrEnum):
    CREATED = "created"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    REOPENED = "reopened"
    FIRST_RESOLUTION = "first_resolution"
    FULL_RESOLUTION = "full_resolution"
    FIRST_REPLY = "first_reply"
    NEXT_REPLY = "next_reply"


COUNTS = (Measure.CREATED, Measure.RESOLVED, Measure.CLOSED, Measure.CANCELLED, Measure.REOPENED)
TIMES = (Measure.FIRST_REPLY, Measure.NEXT_REPLY, Measure.FIRST_RESOLUTION, Measure.FULL_RESOLUTION)
BACKLOG_IN, BACKLOG_OUT = (Measure.CREATED, Measure.REOPENED), (Measure.CLOSED, Measure.CANCELLED)
"""The backlog (open tickets) grows by creations and reopenings and shrinks by closings and cancellations."""


@dataclass(frozen=True, slots=True)
class Step:
    """One line of a ticket's timeline as metrics read it: its creation (`kind` "created"), an action (a status
    change when `from_status` differs from `to_status`), a comment, or any other line (which adds nothing); `voice`
    says whether it is an agent's public reply or the customer speaking (app/domain/conversation.py)."""

    id: UUID
    at: datetime
    kind: str
    from_status: str | None = None
    to_status: str | None = None
    action: str | None = None
    voice: Speaker | None = None

    @property
    def event_type(self) -> str:
        """The type of the outbox event written with this line."""
        return line_event_type("ticket", self.kind, self.action)


@dataclass(frozen=True, slots=True)
class Cell:
    """Where one count goes: the UTC hour, the measure, and for times the histogram bucket (0 for counts)."""

    hour: datetime
    measure: Measure
    bucket: int = 0


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def bucket_of(seconds: float) -> int:
    """Bucket 0 holds [0 s, 1 s); bucket b ≥ 1 holds [2^((b-1)/8) s, 2^(b/8) s)."""
    if seconds < 1:
        return 0
    bucket = math.floor(BUCKETS_PER_DOUBLING * math.log2(seconds)) + 1
    # log2 rounds: keep the bucket's own bounds exact.
    while seconds < upper_edge(bucket - 1):
        bucket -= 1
    while seconds >= upper_edge(bucket):
        bucket += 1
    return bucket


def upper_edge(bucket: int) -> float:
    return 1.0 if bucket <= 0 else 2 ** (bucket / BUCKETS_PER_DOUBLING)


def percentile(histogram: Mapping[int, int], p: float) -> float | None:
    """The nearest-rank p-quantile of the histogram's samples, as the upper edge of its bucket; None when empty."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(p * total))
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return round(upper_edge(bucket), 1)
    return round(upper_edge(max(histogram)), 1)


def _is_change(step: Step) -> bool:
    return step.kind != "created" and step.from_status is not None and step.to_status != step.from_status


def contribution(history: Sequence[Step]) -> Counter[Cell]:
    """What a ticket with this history (oldest first) adds to the rollups:

    - created: 1 at its creation;
    - resolved: 1 at each move into pending_follow_up; closed: 1 at each move into completed or closed;
      cancelled: 1 at a move into cancelled; reopened: 1 at each move out of completed or closed;
    - first resolution: created → its first resolution, at that resolution;
    - full resolution: created → its last move into completed or closed, at that move, while it is not reopened;
    - first reply: created → its first public agent reply, at that reply;
    - next reply: from the first customer message after an agent reply (further messages meanwhile do not restart
      it; none while the ticket is completed, closed or cancelled) → the next public agent reply, at that reply."""
    cells: Counter[Cell] = Counter()
    created = next((step.at for step in history if step.kind == "created"), None)
    if created is None:
        return cells
    cells[Cell(hour_of(created), Measure.CREATED)] += 1
    for measure, start, end in _replies(history, created):
        cells[Cell(hour_of(end), measure, bucket_of(max(0.0, (end - start).total_seconds())))] += 1
    first_resolution: Step | None = None
    final: Step | None = None
    for step in history:
        if not _is_change(step):
            continue
        measure = _counted(step)
        if measure is not None:
            cells[Cell(hour_of(step.at), measure)] += 1
        if step.to_status == RESOLVED and first_resolution is None:
            first_resolution = step
        if step.to_status in FINISHED:
            final = step
        elif step.from_status in FINISHED:
            final = None
    for measure, step in ((Measure.FIRST_RESOLUTION, first_resolution), (Measure.FULL_RESOLUTION, final)):
        if step is not None:
            seconds = max(0.0, (step.at - created).total_seconds())
            cells[Cell(hour_of(step.at), measure, bucket_of(seconds))] += 1
    return cells


def _replies(history: Sequence[Step], created: datetime) -> list[tuple[Measure, datetime, datetime]]:
    """The reply waits of a history: (first or next reply, its start, the reply that ended it)."""
    waits: list[tuple[Measure, datetime, datetime]] = []
    replied = False
    waiting: datetime | None = None
    status: str | None = None
    for step in history:
        status = step.to_status or status
        if step.voice is Speaker.AGENT:
            if not replied:
                waits.append((Measure.FIRST_REPLY, created, step.at))
            elif waiting is not None:
                waits.append((Measure.NEXT_REPLY, waiting, step.at))
            replied, waiting = True, None
        elif step.voice is Speaker.CUSTOMER and replied and waiting is None and status not in ENDED:
            waiting = step.at
    return waits


def _counted(step: Step) -> Measure | None:
    if step.to_status == RESOLVED:
        return Measure.RESOLVED
    if step.to_status in FINISHED and step.from_status not in FINISHED:
        return Measure.CLOSED
    if step.to_status == CANCELLED:
        return Measure.CANCELLED
    if step.from_status in FINISHED:
        return Measure.REOPENED
    return None


def change_by(history: Sequence[Step], event_id: UUID, event_type: str) -> Counter[Cell]:
    """What the event `event_id` changed: the contribution of the history recorded up to it (each event's timeline
    line is written just before it, with an earlier time-ordered id, the ticket locked meanwhile) minus that without
    its own line. An event with no line of its own (an SLA warning, a risk flag, an idle reminder) changes nothing:
    the last line before it then belongs to another event, whose type differs. Negative counts withdraw: a
    reopening withdraws the full resolution time it had ended."""
    through = [step for step in history if step.id < event_id]
    if not through or through[-1].event_type != event_type:
        return Counter()
    change = contribution(through)
    change.subtract(contribution(through[:-1]))
    return Counter({cell: n for cell, n in change.items() if n})


def merged(counters: Iterable[Mapping[Cell, int]]) -> Counter[Cell]:
    total: Counter[Cell] = Counter()
    for counter in counters:
        total.update(counter)
    return total
