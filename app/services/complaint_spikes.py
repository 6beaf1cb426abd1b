"""Complaint spikes (客诉激增) in the service: the settings document, staff's list of spikes, and the job that folds
each completed hour's ticket counts into every series' baseline (app/domain/complaint_spikes.py) and announces each
spike once: the outbox event `risk.spike_detected` (webhooks) and a notification to every active manager.

The job's cursor is the first hour not folded in yet; a pass holds its row, so passes of several workers take turns
and no hour is folded twice. The first pass (and the first after a start-over, see SpikeSettings.starts_over_from)
begins `warmup_hours` back: it learns from the tickets already there and judges from the current hour on, replaying
no more history than the warm-up needs. After an outage every missed hour is folded, FOLD_BATCH hours a transaction.

Within the hour: at every pass the current hour's count so far is judged against its slot's bound (counts only grow
within an hour), without being learned, so a surge is announced minutes after it passes the bound. The series keeps
the spike's id; the fold of that hour, which meets the same spike (the same baseline, a count at least as high),
completes the spike's count and announces nothing."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from app.domain.clock import Clock, rfc3339
from app.domain.complaint_spike_watch import SeriesCount, Spike, SpikeFilter, SpikeSettings, TrackedSeries
from app.domain.complaint_spikes import HOUR, SeriesKey, SpikeEvent, evaluate_hour, observe
from app.domain.events import OutboxEvent
from app.domain.ids import new_id
from app.domain.notifications import NotificationKind, Subject
from app.domain.pagination import Page, PageRequest
from app.domain.preconditions import Precondition
from app.domain.principal import Principal, Role
from app.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from app.services.notifications import notify
from app.services.tasks import SYSTEM

SPIKE_DETECTED = "risk.spike_detected"
EVENT_TYPES = frozenset({SPIKE_DETECTED})
AGGREGATE = "complaint_spike"
FOLD_BATCH = 24
"""Hours folded per transaction while catching up: a day of counts is one range read and one write of the series
it touched, and keeps SQLite's write lock for tens of milliseconds."""
TYPE_WORDS = {
    "complaint": ("投诉", "complaint"),
    "repair": ("报修", "repair"),
    "installation": ("安装", "installation"),
    "consultation": ("咨询", "consultation"),
    "after_sales_request": ("售后申请", "after-sales request"),
    "other": ("其他", "other"),
}
"""Ticket types in the notification's title, in each of its languages."""


def hour_of(at: datetime) -> datetime:
    """The start of the UTC hour `at` falls in."""
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class ComplaintSpikeService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def settings(self) -> SpikeSettings:
        async with self._uow.read() as uow:
            return await uow.complaint_spikes.settings()

    async def set_settings(
        self, principal: Principal, settings: SpikeSettings, precondition: Precondition
    ) -> SpikeSettings:
        """Replace the settings, the stored document locked while If-Match is checked (ETag "0" before the first
        save). A change that starts over waits for a pass in flight (the cursor's lock), ends the open spikes now and
        drops the learned baselines; the next pass learns the warm-up's hours again."""
        async with self._uow.write() as uow:
            spikes = uow.complaint_spikes
            current = await spikes.settings(for_update=True)
            precondition.check(current.version)
            now = self._clock.now()
            if settings.starts_over_from(current):
                cursor = await spikes.cursor(now)
                await spikes.end_open_spikes(now)
                await spikes.forget_series()
                await spikes.save_cursor(replace(cursor, next_hour=None), now)
            saved = await spikes.save_settings(replace(settings, version=current.version), principal.subject, now)
            await uow.commit()
        return saved

    async def list(self, principal: Principal, where: SpikeFilter, page: PageRequest) -> Page[Spike]:
        where = replace(where, business_lines=principal.business_line_scope)
        async with self._uow.read() as uow:
            return await uow.complaint_spikes.list(where, page)

    async def run(self) -> int:
        """One pass of the job: every completed hour since the cursor folded in (FOLD_BATCH a transaction), then the
        current hour judged so far; answers how many hours it folded. Switched off, it folds nothing."""
        folded = 0
        while True:
            async with self._uow.write() as uow:
                now = self._clock.now()
                cursor = await uow.complaint_spikes.cursor(now)
                settings = await uow.complaint_spikes.settings()
                if not settings.enabled:
                    return folded
                current = hour_of(now)
                start = cursor.next_hour or current - settings.params.warmup_hours * HOUR
                end = max(start, min(current, start + FOLD_BATCH * HOUR))
                caught_up = start <= end == current
                watch = _Pass(uow, settings, now)
                await watch.run(start, end, judge_current=caught_up)
                await uow.complaint_spikes.save_cursor(replace(cursor, next_hour=end), now)
                await uow.commit()
            folded += round((end - start) / HOUR)
            if caught_up or end == start:
                return folded


@dataclass
class _Pass:
    """One transaction of the job: the series it touches, loaded once, changed hour by hour, written once."""

    uow: UnitOfWork
    settings: SpikeSettings
    now: datetime
    tracked: dict[SeriesKey, TrackedSeries] = field(default_factory=dict)
    changed: set[SeriesKey] = field(default_factory=set)
    supervisors: list[str] | None = None

    async def run(self, start: datetime, end: datetime, *, judge_current: bool) -> None:
        spikes = self.uow.complaint_spikes
        until = end + HOUR if judge_current else end  # the hour under way: every ticket it has so far
        dimension = self.settings.product_dimension
        counts = await spikes.counts(dimension, start, until)
        self.tracked = await spikes.series(dimension, start, until)
        by_hour: dict[datetime, list[SeriesCount]] = {}
        for count in counts:
            by_hour.setdefault(count.hour_start, []).append(count)
        hour = start
        while hour < end:
            await self._fold(hour, by_hour.get(hour, []))
            hour += HOUR
        if judge_current:
            await self._judge_so_far(end, by_hour.get(end, []))
        await spikes.save_series([self.tracked[key] for key in sorted(self.changed)], self.now)

    async def _fold(self, hour: datetime, counts: list[SeriesCount]) -> None:
        """The completed hour learned by every series it counts (and by each series in a spike, as a zero when it
        has none, so that spikes end on time); then every open spike whose series is calm again ends."""
        lines = {count.key: count.business_line for count in counts}
        states = {key: series.state for key, series in self.tracked.items()}
        found = evaluate_hour(states, hour, {count.key: count.count for count in counts}, self.settings.params)
        for key, state in found.states.items():
            before = self.tracked.get(key)
            series = TrackedSeries(key, state, before.open_spike_id if before else None)
            event = found.events.get(key)
            if event is not None and series.open_spike_id is not None:
                await self.uow.complaint_spikes.confirm_spike(series.open_spike_id, event.count)
            elif event is not None:
                series = replace(series, open_spike_id=await self._announce(key, event, lines.get(key)))
            self._keep(series)
        for series in list(self.tracked.values()):
            if series.open_spike_id is not None and not series.state.in_spike:
                await self.uow.complaint_spikes.end_spike(series.open_spike_id, hour + HOUR)
                self._keep(replace(series, open_spike_id=None))

    async def _judge_so_far(self, hour: datetime, counts: list[SeriesCount]) -> None:
        """The hour under way: a series whose count so far is already over its slot's bound starts its spike now.
        The count is judged as `observe` would judge the whole hour, and the state it would learn is thrown away."""
        for count in counts:
            series = self.tracked.get(count.key)
            if series is None or series.open_spike_id is not None:
                continue  # a series seen for the first time is in its warm-up; an announced spike is announced
            _, event = observe(series.state, hour, count.count, self.settings.params)
            if event is not None:
                spike_id = await self._announce(count.key, event, count.business_line)
                if spike_id is not None:
                    self._keep(replace(series, open_spike_id=spike_id))

    def _keep(self, series: TrackedSeries) -> None:
        self.tracked[series.key] = series
        self.changed.add(series.key)

    async def _announce(self, key: SeriesKey, event: SpikeEvent, business_line: str | None) -> UUID | None:
        """Record the spike, write its event and tell the supervisors; None when the series already has a spike
        recorded for that hour (a spike ended by a start-over is not announced again)."""
        spike = Spike(
            id=new_id(),
            key=key,
            started_at=event.hour_start,
            count=event.count,
            baseline=event.baseline,
            bound=event.bound,
            created_at=self.now,
            business_line=business_line,
        )
        if not await self.uow.complaint_spikes.add_spike(spike):
            return None
        payload = spike_event(spike, self.settings, self.now)
        await self.uow.outbox.add(OutboxEvent(new_id(), SPIKE_DETECTED, AGGREGATE, spike.id, self.now, payload))
        if self.supervisors is None:
            self.supervisors = await self.uow.agents.active_with_role(Role.MANAGER)
        await notify(
            self.uow,
            recipients=self.supervisors,
            kind=NotificationKind.COMPLAINT_SPIKE,
            subject=Subject(AGGREGATE, spike.id, key.product[:32] or "-"),
            title=_title(spike),
            now=self.now,
            actor=SYSTEM.subject,
            data=payload,
            dedupe_key=f"{AGGREGATE}:{spike.id}",
        )
        return spike.id


def spike_event(spike: Spike, settings: SpikeSettings, now: datetime) -> dict[str, Any]:
    """`risk.spike_detected`: which series, since which hour, how many tickets against what was expected and the
    bound they passed, and whether the hour was still under way when it was judged."""
    return {
        "spike_id": str(spike.id),
        "product": spike.key.product,
        "product_dimension": settings.product_dimension.value,
        "region": spike.key.region,
        "ticket_type": spike.key.ticket_type,
        "business_line": spike.business_line,
        "started_at": rfc3339(spike.started_at),
        "count": spike.count,
        "baseline": round(spike.baseline, 3),
        "bound": spike.bound,
        "p": settings.params.p,
        "hour_complete": now >= spike.started_at + HOUR,
        "detected_at": rfc3339(now),
    }


def _title(spike: Spike) -> dict[str, str]:
    zh, en = TYPE_WORDS.get(spike.key.ticket_type, (spike.key.ticket_type, spike.key.ticket_type))
    product, region = spike.key.product or "未知产品", spike.key.region or "未知地区"
    product_en, region_en = spike.key.product or "an unknown product", spike.key.region or "an unknown region"
    hour = spike.started_at.strftime("%H:%M UTC")
    return {
        "zh-CN": f"客诉激增：{product}（{region}）{zh}工单自 {hour} 起已达 {spike.count} 单，"
        f"通常约 {spike.baseline:.1f} 单/小时",
        "en": f"Complaint spike: {spike.count} {en} tickets for {product_en} in {region_en} since {hour}, "
        f"against about {spike.baseline:.1f} an hour",
    }
