"""The `sla` block of a ticket or an after-sales order: staff read each metric's target, deadline and state; the
customer reads only the promise (预计…前回复), never a target."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from app.domain.sla_clock import MetricState, Phase
from app.domain.unit_of_work import Rederivation
from app.schemas.common import Output
from app.services.sla import SubjectSla


class SlaMetricOut(Output):
    metric: str = Field(
        description="first_reply, next_reply, periodic_update, resolution (tickets), review, refund_completion "
        "(after-sales orders) or state:<status>."
    )
    target_seconds: int = Field(description="The target, in business seconds when `business`.")
    business: bool = Field(description="Counted in the business hours of `calendar`, else every second counts.")
    calendar: str | None
    due_at: datetime | None = Field(description="The deadline while the clock runs; null while paused or finished.")
    remaining_seconds: int = Field(description="Target time left (negative once breached), in the target's time.")
    paused: bool = Field(description="Stopped while the subject waits, e.g. on the customer.")
    breached: bool
    breached_at: datetime | None = Field(description="The deadline that was missed (not when it was noticed).")
    failed_by: int = Field(description="Seconds late, in the target's time; 0 when on time.")
    fulfilled_at: datetime | None
    warn_at: datetime | None = Field(description="When the warning falls, once known.")

    @classmethod
    def of(cls, state: MetricState) -> SlaMetricOut:
        """Built without validation: every value comes from a derived state of the right types, and a page answers
        a few of these per ticket."""
        return cls.model_construct(
            metric=state.metric,
            target_seconds=state.target_seconds or 0,
            business=bool(state.business),
            calendar=state.calendar,
            due_at=state.due_at,
            remaining_seconds=state.remaining_seconds or 0,
            paused=state.phase is Phase.PAUSED,
            breached=state.breached,
            breached_at=state.breached_at,
            failed_by=state.failed_by,
            fulfilled_at=state.fulfilled_at,
            warn_at=state.warn_at,
        )


class SlaOut(Output):
    """The subject's SLA clocks as of the response. The customer's view has only `promise`."""

    policy: str | None = Field(description="The key of the SLA policy the clocks run on; null when none matches.")
    metrics: list[SlaMetricOut] = Field(
        description="The targeted metrics of the current cycle that run or have finished; empty for the customer."
    )
    none_reason: str | None = Field(description="Why there is no policy (`no policy matches`); null otherwise.")
    promise: str | None = Field(
        description="What the customer is promised next, in Accept-Language, e.g. 预计 3月2日 10:00 前回复; null "
        "when nothing is promised (paused, late or no target)."
    )

    @classmethod
    def of(cls, sla: SubjectSla, *, customer: bool, language: str) -> SlaOut:
        promise = sla.promise(language)
        if customer:
            return cls(policy=None, metrics=[], none_reason=None, promise=promise)
        return cls(
            policy=sla.policy_key,
            metrics=[SlaMetricOut.of(state) for state in sla.metrics],
            none_reason=sla.none_reason,
            promise=promise,
        )


class SlaRederivationOut(Output):
    """A re-derivation of open tickets' timers, requested by a policy or calendar change, and how far it got."""

    id: UUID
    reason: str = Field(
        description="The change that requested it, `<event type>:<key>`, e.g. `sla_policy.updated:standard`."
    )
    requested_at: datetime
    done: int = Field(description="Open tickets' timers derived again so far.")
    finished_at: datetime | None = Field(description="When every open ticket's timer was walked; null while running.")
    superseded_by: UUID | None = Field(
        description="The newer request that walks every timer again instead of finishing this one; null otherwise."
    )

    @classmethod
    def of(cls, request: Rederivation) -> SlaRederivationOut:
        return cls(
            id=request.id,
            reason=request.reason,
            requested_at=request.requested_at,
            done=request.done,
            finished_at=request.finished_at,
            superseded_by=request.superseded_by,
        )
