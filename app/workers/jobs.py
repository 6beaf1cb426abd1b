"""The background jobs of this service, built from its services in this one place."""

from __future__ import annotations

from app.web.wiring import Services
from app.workers.runner import PeriodicJob

IDEMPOTENCY_PURGE_SECONDS = 300.0  # expired Idempotency-Key records are deleted within minutes; nobody waits on it
TICKET_AUTO_CLOSE_SECONDS = 60.0  # tickets wait days to complete: within a minute of falling due is on time
SURVEY_INVITATIONS_SECONDS = 30.0  # invitations wait hours after a completion: half a minute late is on time


def jobs(services: Services) -> list[PeriodicJob]:
    """Every periodic job `aftersales serve` (with AFTERSALES_RUN_WORKERS_IN_PROCESS) and `aftersales worker` run.

    Each is `PeriodicJob(name, interval_seconds, run)`, where `run` does one pass and answers how many items it
    handled: the task reminder scan (due soon / overdue), the SLA timer scan (warnings, breaches, escalation), the
    re-derivation of open tickets' SLA timers after a policy or calendar change, the webhook dispatcher (outbox
    fan-out and delivery, polled at least every second so events leave promptly), the purge of expired
    idempotency keys, the auto-close of tickets left resolved for their type's days, and the satisfaction survey
    invitations (completions read from the outbox, invitations sent when due)."""
    poll = services.settings.worker_poll_seconds
    return [
        PeriodicJob("task_reminders", poll, services.tasks.remind),
        PeriodicJob("sla_timers", poll, services.sla.scan),
        PeriodicJob("sla_rederive", poll, services.sla.rederive),
        PeriodicJob("webhook_dispatch", min(poll, 1.0), services.webhooks.dispatch),
        PeriodicJob("idempotency_key_purge", IDEMPOTENCY_PURGE_SECONDS, services.idempotency.purge_expired),
        PeriodicJob("ticket_auto_close", TICKET_AUTO_CLOSE_SECONDS, services.ticket_auto_close.run),
        PeriodicJob("survey_invitations", SURVEY_INVITATIONS_SECONDS, services.surveys.run),
    ]
