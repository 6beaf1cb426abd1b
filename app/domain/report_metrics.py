"""Ticket metrics as cells of hourly rollups (docs/reports.md has every formula).

A ticket's contribution to the rollups is a pure function of its history: its creation and its status changes,
oldest first. The rollup job adds, per event, the contribution of the history through the event minus that of the
history before it; a re-derive adds whole contributions. Both are this one function, so they cannot disagree.

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

BUCKETS_PER_DOUBLING = 8
FINISHED = frozenset({"completed", "closed"})
"""A ticket done with the customer's issue: the end of its full resolution time."""
CANCELLED = "cancelled"
RESOLVED = "pending_follow_up"
"""The status a resolution moves a ticket to (待回访)."""


class Measure(StrEnum):
    CREATED = "created"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    REOPENED = "reopened"
    FIRST_RESOLUTION = "first_resolution"
    FULL_RESOLUTION = "full_resolution"


COUNTS = (Measure.CREATED, Measure.RESOLVED, Measure.CLOSED, Measure.CANCELLED, Measure.REOPENED)
TIMES = (Measure.FIRST_RESOLUTION, Measure.FULL_RESOLUTION)
BACKLOG_IN, BACKLOG_OUT = (Measure.CREATED, Measure.REOPENED), (Measure.CLOSED, Measure.CANCELLED)
"""The backlog (open tickets) grows by creations and reopenings and shrinks by closings and cancellations."""


@dataclass(frozen=True, slots=True)
class Step:
    """One line of a ticket's history that metrics read: its creation (`kind` "created") or a status change."""

    id: UUID
    at: datetime
    kind: str
    from_status: str | None = None
    to_status: str | None = None


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
    - full resolution: created → its last move into completed or closed, at that move, while it is not reopened."""
    cells: Counter[Cell] = Counter()
    created = next((step.at for step in history if step.kind == "created"), None)
    if created is None:
        return cells
    cells[Cell(hour_of(created), Measure.CREATED)] += 1
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


def change_by(history: Sequence[Step], event_id: UUID) -> Counter[Cell]:
    """What the event `event_id` changed: the contribution of the history recorded up to it (each event's timeline
    line is written just before it, with an earlier time-ordered id) minus that without its own line. Negative
    counts withdraw: a reopening withdraws the full resolution time it had ended."""
    through = [step for step in history if step.id < event_id]
    if not through:
        return Counter()
    change = contribution(through)
    change.subtract(contribution(through[:-1]))
    return Counter({cell: n for cell, n in change.items() if n})


def merged(counters: Iterable[Mapping[Cell, int]]) -> Counter[Cell]:
    total: Counter[Cell] = Counter()
    for counter in counters:
        total.update(counter)
    return total
