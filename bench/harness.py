"""What every scenario works with: the servers, the load generator, the budgets, and where its figures go."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import inbound_bench, load
from bench.baseline_app import DATABASE_URL_ENV
from bench.load import Budget, Load, PythonLoad, Result
from bench.server import HOST, REPO_ROOT, Server, clean_environment, serving
from bench.traffic import Traffic, python_send
from bench.wrk import WrkLoad

WARMUP_SECONDS = 3.0
WORKER_STOP_SECONDS = 40.0  # the worker lets passes in flight finish for up to 30 s


@dataclass(frozen=True, slots=True)
class Generator:
    """wrk when it is there, else the Python client, for every scenario that can be declared as `Traffic`."""

    client: httpx.AsyncClient
    wrk: str | None

    def load(self, base_url: str, traffic: Traffic) -> Load:
        if self.wrk is None:
            return PythonLoad(python_send(self.client, base_url, traffic))
        return WrkLoad(self.wrk, base_url, traffic)


@dataclass(slots=True)
class Harness:
    options: argparse.Namespace
    database_url: str
    client: httpx.AsyncClient
    generator: Generator
    service: Server
    service_url: str
    baseline: Server
    baseline_url: str
    secret: str
    inbound_secret: str
    results: list[Result] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # the scenarios' own figures, printed below the table
    failures: list[str] = field(default_factory=list)  # FAILED lines: the run's exit code is 1
    servers: list[Server] = field(default_factory=list)  # every server measured, for its memory
    bulk_tickets: int = 0  # rows bulk-loaded into tickets so far

    @property
    def budget(self) -> Budget:
        return Budget(self.options.requests, self.options.seconds, self.options.concurrency)

    @property
    def warmup(self) -> Budget:
        return Budget(self.options.warmup, WARMUP_SECONDS, self.options.concurrency)

    async def measure(
        self,
        scenario: str,
        target: Server,
        warm: Load,
        run: Load,
        budget: Budget | None = None,
        warmup: Budget | None = None,
    ) -> Result:
        result = await load.measure(scenario, target, warm, run, warmup or self.warmup, budget or self.budget)
        self.results.append(result)
        if target not in self.servers:
            self.servers.append(target)
        return result

    async def measure_traffic(
        self, scenario: str, target: Server, base_url: str, warm: Traffic, run: Traffic, concurrency: int | None = None
    ) -> Result:
        """A scenario declared as traffic, by the bench's generator; at the bench's concurrency unless told."""
        budget, warmup = self.budget, self.warmup
        if concurrency is not None:
            budget = Budget(budget.requests, budget.seconds, concurrency)
            warmup = Budget(warmup.requests, warmup.seconds, concurrency)
        return await self.measure(
            scenario,
            target,
            self.generator.load(base_url, warm),
            self.generator.load(base_url, run),
            budget,
            warmup,
        )


def serve_service(
    port: int,
    database_url: str,
    secret: str,
    inbound_secret: str,
    workers: int = 1,
    name: str = "service",
    settings: Mapping[str, str] | None = None,
) -> AbstractAsyncContextManager[Server]:
    """The real command, logging only warnings (info-level access logs would cost the service throughput), its
    background jobs left to separate workers as in production; `settings` adds to (or overrides) the bench's."""
    command = [str(Path(sys.executable).parent / "aftersales"), "serve", "--host", HOST, "--port", str(port)]
    return serving(
        name,
        [*command, "--workers", str(workers)],
        clean_environment(
            {
                "AFTERSALES_DATABASE_URL": database_url,
                "AFTERSALES_ENV": "development",
                "AFTERSALES_LOG_LEVEL": "WARNING",
                "AFTERSALES_JWT_SECRET": secret,
                "AFTERSALES_INBOUND_SECRETS": inbound_bench.inbound_secrets(inbound_secret),
                "AFTERSALES_RUN_WORKERS_IN_PROCESS": "false",
                # Every bench request comes from one address: the survey answers measure the answer, not the
                # per-address limit (each link is answered once, well within its own).
                "AFTERSALES_SURVEY_RATE_LIMIT_PER_ADDRESS": "0",
                **(settings or {}),
            }
        ),
        probe_url=f"http://{HOST}:{port}/readyz",
        probe_status=200,
    )


@asynccontextmanager
async def run_worker(database_url: str, settings: Mapping[str, str] | None = None) -> AsyncIterator[Server]:
    """`aftersales worker` as production runs it beside the API processes: every background job, at the default
    poll, logging only warnings and errors; `settings` adds to the bench's (the storage its API process uses)."""
    env = {
        "AFTERSALES_DATABASE_URL": database_url,
        "AFTERSALES_ENV": "development",
        "AFTERSALES_LOG_LEVEL": "WARNING",
        **(settings or {}),
    }
    command = [str(Path(sys.executable).parent / "aftersales"), "worker"]
    process = await asyncio.create_subprocess_exec(*command, env=clean_environment(env), cwd=REPO_ROOT)
    try:
        yield Server("aftersales worker", process)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), WORKER_STOP_SECONDS)
            except TimeoutError:
                process.kill()
                await process.wait()


def serve_baseline(port: int, database_url: str) -> AbstractAsyncContextManager[Server]:
    """Ready once an unknown order answers 404: that answer needs a finished database query."""
    return serving(
        "baseline",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "bench.baseline_app:create_app",
            "--host",
            HOST,
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        clean_environment({DATABASE_URL_ENV: database_url}),
        probe_url=f"http://{HOST}:{port}/orders/no-such-order",
        probe_status=404,
    )
