"""The background jobs of this service, built from its services in this one place."""

from __future__ import annotations

from app.web.wiring import Services
from app.workers.runner import PeriodicJob

IDEMPOTENCY_PURGE_SECONDS = 300.0  # expired Idempotency-Key records are deleted within minutes; nobody waits on it
TICKET_AUTO_CLOSE_SECONDS = 60.0  # tickets wait days to complete: within a minute of falling due is on time
SURVEY_INVITATIONS_SECONDS = 30.0  # invitations wait hours after a completion: half a minute late is on time
REPORT_ROLLUPS_SECONDS = 30.0  # reports read hours: an event counted within a minute or so is current
CHURN_SCORES_SECONDS = 60.0  # a churn warning leads to a call within the day: a minute late is on time
COMPLAINT_SPIKES_SECONDS = 60.0  # a spike is judged while its hour is under way: a minute after it passes the bound
DISPATCH_BACKLOG_SECONDS = 30.0  # capacity freed by people is served at once; shifts starting, within half a minute
ATTACHMENT_SCANS_SECONDS = 1.0  # an upload waits for its scan before anyone may download it: within a second or so
ATTACHMENT_RETENTION_SECONDS = 300.0  # retention counts hours and days: within minutes of falling due is on time


def jobs(services: Services) -> list[PeriodicJob]:
    """Every periodic job `aftersales serve` (with AFTERSALES_RUN_WORKERS_IN_PROCESS) and `aftersales worker` run.

    Each is `PeriodicJob(name, interval_seconds, run)`, where `run` does one pass and answers how many items it
    handled: the task reminder scan (due soon / overdue), the SLA timer scan (warnings, breaches, escalation), the
    re-derivation of open tickets' SLA timers after a policy or calendar change, the webhook dispatcher (outbox
    fan-out and delivery, polled at least every second so events leave promptly), the purge of expired
    idempotency keys, the auto-close of tickets left resolved for their type's days, the satisfaction survey
    invitations (completions read from the outbox, invitations sent when due), the churn scores (customers whose
    facts changed, read from the outbox, and scores older than a day, re-scored; a crossing warns), the report
    rollups (ticket events read from the outbox, each counted once into the hourly rollups), and the complaint
    spike watch (each completed hour folded into every series' baseline, the hour under way judged so far), and the
    dispatch backlog (waiting tickets tried again as shifts start and optional skills relax), the attachment scans
    (pending uploads given to the virus scanner, failed scans retried later), and attachment retention (abandoned
    uploads and expired attached files deleted, with their bytes when no other file has them)."""
    poll = services.settings.worker_poll_seconds
    return [
        PeriodicJob("task_reminders", poll, services.tasks.remind),
        PeriodicJob("sla_timers", poll, services.sla.scan),
        PeriodicJob("sla_rederive", poll, services.sla.rederive),
        PeriodicJob("webhook_dispatch", min(poll, 1.0), services.webhooks.dispatch),
        PeriodicJob("idempotency_key_purge", IDEMPOTENCY_PURGE_SECONDS, services.idempotency.purge_expired),
        PeriodicJob("ticket_auto_close", TICKET_AUTO_CLOSE_SECONDS, services.ticket_auto_close.run),
        PeriodicJob("survey_invitations", SURVEY_INVITATIONS_SECONDS, services.surveys.run),
        PeriodicJob("churn_scores", CHURN_SCORES_SECONDS, services.churn.run),
        PeriodicJob("report_rollups", REPORT_ROLLUPS_SECONDS, services.reports.run),
        PeriodicJob("complaint_spikes", COMPLAINT_SPIKES_SECONDS, services.complaint_spikes.run),
        PeriodicJob("dispatch_backlog", DISPATCH_BACKLOG_SECONDS, services.availability.serve_backlog),
        PeriodicJob("attachment_scans", ATTACHMENT_SCANS_SECONDS, services.attachments.scan),
        PeriodicJob("attachment_retention", ATTACHMENT_RETENTION_SECONDS, services.attachment_retention.run),
    ]
