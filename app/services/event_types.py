"""Every event type this service writes to its outbox, so webhook subscriptions can be checked and listed."""

from __future__ import annotations

from functools import cache

from app.services.attachments import EVENT_TYPES as ATTACHMENT_TYPES
from app.services.business_calendars import EVENT_TYPES as BUSINESS_CALENDAR_TYPES
from app.services.churn import EVENT_TYPES as CHURN_TYPES
from app.services.complaint_spikes import EVENT_TYPES as COMPLAINT_SPIKE_TYPES
from app.services.reference_events import UPSERTED_TYPES
from app.services.risk import EVENT_TYPES as RISK_TYPES
from app.services.sla import EVENT_TYPES as SLA_CLOCK_TYPES
from app.services.sla_policies import EVENT_TYPES as SLA_POLICY_TYPES
from app.services.surveys import EVENT_TYPES as SURVEY_TYPES
from app.workflows.after_sales import AFTER_SALES_WORKFLOWS, REQUESTS
from app.workflows.engine import Workflow
from app.workflows.task import TASK
from app.workflows.ticket import TICKET


def _of(aggregate: str, workflow: Workflow[object], *extra: str) -> set[str]:
    return {f"{aggregate}.{name}" for name in ("created", *extra, *(t.action for t in workflow.transitions))}


@cache
def event_types() -> frozenset[str]:
    types = _of("ticket", TICKET, "commented", "update") | _of("task", TASK)  # type: ignore[arg-type]
    for workflow in AFTER_SALES_WORKFLOWS.values():
        types |= _of("after_sales", workflow, "review_needed", "escalate")  # type: ignore[arg-type]
    types |= set(REQUESTS.values())
    types |= {f"approval.{outcome}" for outcome in ("requested", "approved", "rejected", "cancelled")}
    types.add("notification.created")
    types |= UPSERTED_TYPES
    types |= BUSINESS_CALENDAR_TYPES
    types |= SLA_POLICY_TYPES
    types |= SLA_CLOCK_TYPES
    types |= SURVEY_TYPES
    types |= CHURN_TYPES
    types |= RISK_TYPES
    types |= COMPLAINT_SPIKE_TYPES
    types |= ATTACHMENT_TYPES
    return frozenset(types)
