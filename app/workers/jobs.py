"""The background jobs of this service, built from its services in this one place."""

from __future__ import annotations

from app.web.wiring import Services
from app.workers.runner import PeriodicJob


def jobs(services: Services) -> list[PeriodicJob]:
    """Every periodic job `aftersales serve` (with AFTERSALES_RUN_WORKERS_IN_PROCESS) and `aftersales worker` run.

    Each is `PeriodicJob(name, interval_seconds, run)`, where `run` does one pass and answers how many items it
    handled: the task reminder scan (due soon / overdue) now, the webhook dispatcher (outbox delivery) next."""
    return [PeriodicJob("task_reminders", services.settings.worker_poll_seconds, services.tasks.remind)]
