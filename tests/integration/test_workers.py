"""Where the background jobs run: inside the API process (the default) or in `aftersales worker`."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from asgi_lifespan import LifespanManager

from app.main import create_app
from app.persistence.migrations import upgrade_to_head
from app.workers.runner import PeriodicJob
from tests.conftest import make_settings
from tests.databases import sqlite_url


def counting_jobs(runs: list[int], second_run: asyncio.Event):
    async def count() -> int:
        runs.append(1)
        if len(runs) >= 2:
            second_run.set()
        return 1

    return lambda _services: [PeriodicJob("count", 0.01, count)]


async def test_the_api_process_runs_the_jobs_and_stops_them_at_shutdown(tmp_path, monkeypatch):
    runs: list[int] = []
    second_run = asyncio.Event()
    monkeypatch.setattr("app.main.jobs", counting_jobs(runs, second_run))
    app = create_app(make_settings(sqlite_url(tmp_path), run_workers_in_process=True))

    async with LifespanManager(app), asyncio.timeout(5):
        await second_run.wait()
    after_shutdown = len(runs)
    await asyncio.sleep(0.05)

    assert len(runs) == after_shutdown


async def test_the_api_process_runs_no_jobs_when_told_not_to(tmp_path, monkeypatch):
    runs: list[int] = []
    monkeypatch.setattr("app.main.jobs", counting_jobs(runs, asyncio.Event()))
    app = create_app(make_settings(sqlite_url(tmp_path), run_workers_in_process=False))

    async with LifespanManager(app):
        await asyncio.sleep(0.05)

    assert runs == []


async def _log_line(stream: asyncio.StreamReader, event: str) -> dict:
    """The next JSON log line whose event is `event`."""
    async with asyncio.timeout(30):
        while True:
            line = await stream.readline()
            assert line, f"the worker's output ended before '{event}'"
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("event") == event:
                return entry


async def test_the_worker_command_runs_until_sigterm_then_exits_cleanly(tmp_path):
    url = sqlite_url(tmp_path)
    await asyncio.to_thread(upgrade_to_head, url)
    env = {**os.environ, "AFTERSALES_DATABASE_URL": url, "AFTERSALES_LOG_JSON": "true", "PYTHONUNBUFFERED": "1"}
    worker = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("aftersales")),
        "worker",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        started = await _log_line(worker.stdout, "worker_started")
        worker.send_signal(signal.SIGTERM)
        await _log_line(worker.stdout, "worker_stopped")
        async with asyncio.timeout(30):
            code = await worker.wait()
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()

    assert started["jobs"] == [
        "task_reminders",
        "sla_timers",
        "sla_rederive",
        "webhook_dispatch",
        "idempotency_key_purge",
        "ticket_auto_close",
        "survey_invitations",
        "churn_scores",
        "report_rollups",
        "complaint_spikes",
        "dispatch_backlog",
        "attachment_scans",
        "attachment_retention",
    ]
    assert code == 0
