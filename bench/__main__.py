"""`python -m bench`: a throwaway database, the service and the baseline as subprocesses, the order, ticket,
after-sales and inbound-event loads, the in-process workflow cost, the task reminder scan, webhook delivery by
`aftersales worker` processes, one table of figures."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import sys
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.domain.principal import Role
from bench import (
    after_sales_bench,
    inbound_bench,
    load,
    reminder_bench,
    report,
    ticket_bench,
    webhook_bench,
    workflow_cost,
)
from bench.after_sales_bench import Race
from bench.baseline_app import DATABASE_URL_ENV
from bench.database import throwaway_database
from bench.load import Budget, Result
from bench.query_plans import Plan
from bench.reminder_bench import ReminderFigures
from bench.scenarios import bearer_headers, read_orders, seed_reference_data, upsert_orders
from bench.server import HOST, Server, clean_environment, free_port, serving
from bench.webhook_bench import DeliveryFigures

WARMUP_SECONDS = 3.0

log = logging.getLogger("bench")


@dataclass(frozen=True, slots=True)
class Figures:
    orders: list[Result]  # upsert, get, baseline get
    intake: list[Result]  # create ticket, baseline create
    refunds: Result
    inbound: Result
    race: Race
    lists: list[Result]
    plans: list[Plan]
    reminders: ReminderFigures
    deliveries: list[DeliveryFigures]  # one worker, two workers


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--requests",
        type=int,
        default=int(os.environ.get("AFTERSALES_BENCH_REQUESTS", "3000")),
        help="requests per scenario (env AFTERSALES_BENCH_REQUESTS; default 3000)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=float(os.environ.get("AFTERSALES_BENCH_SECONDS", "15")),
        help="time cap per scenario (env AFTERSALES_BENCH_SECONDS; default 15)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=int(os.environ.get("AFTERSALES_BENCH_CONCURRENCY", "32")),
        help="concurrent workers (env AFTERSALES_BENCH_CONCURRENCY; default 32)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=int(os.environ.get("AFTERSALES_BENCH_WARMUP", "200")),
        help=f"unmeasured requests before each scenario, at most {WARMUP_SECONDS:.0f} s "
        "(env AFTERSALES_BENCH_WARMUP; default 200)",
    )
    parser.add_argument(
        "--tickets",
        type=int,
        default=int(os.environ.get("AFTERSALES_BENCH_TICKETS", "1000000")),
        help="bulk-loaded tickets for the list pages, measured at a tenth of it and at all of it "
        "(env AFTERSALES_BENCH_TICKETS; default 1000000; e.g. 100000 for a quick run)",
    )
    parser.add_argument(
        "--tasks",
        type=int,
        default=int(os.environ.get("AFTERSALES_BENCH_TASKS", "100000")),
        help="open tasks the reminder scan runs over (env AFTERSALES_BENCH_TASKS; default 100000)",
    )
    parser.add_argument(
        "--webhook-events",
        type=int,
        default=int(os.environ.get("AFTERSALES_BENCH_WEBHOOK_EVENTS", "20000")),
        help="events delivered to a local receiver, once by one worker and once by two "
        "(env AFTERSALES_BENCH_WEBHOOK_EVENTS; default 20000)",
    )
    options = parser.parse_args(argv)
    if min(options.tasks, options.webhook_events) < reminder_bench.DUE_BATCH:
        parser.error(f"--tasks and --webhook-events must be at least {reminder_bench.DUE_BATCH}")
    if min(options.requests, options.concurrency, options.warmup) < 1 or options.seconds <= 0:
        parser.error("--requests, --seconds, --concurrency and --warmup must be positive")
    if options.tickets < 1000:
        parser.error("--tickets must be at least 1000")
    return options


async def benchmark(options: argparse.Namespace) -> Figures:
    secret = secrets.token_urlsafe(48)
    inbound_secret = inbound_bench.new_secret()
    service_port, baseline_port = free_port(), free_port()
    service_url, baseline_url = f"http://{HOST}:{service_port}", f"http://{HOST}:{baseline_port}"
    limits = httpx.Limits(max_connections=options.concurrency, max_keepalive_connections=options.concurrency)
    log.info("creating and migrating a throwaway database")
    async with (
        throwaway_database() as database_url,
        _serve_service(service_port, database_url, secret, inbound_secret) as service,
        _serve_baseline(baseline_port, database_url) as baseline,
        httpx.AsyncClient(limits=limits, timeout=30.0) as client,
    ):
        headers = bearer_headers(secret)
        await seed_reference_data(client, service_url, headers)
        budget = Budget(options.requests, options.seconds, options.concurrency)
        warmup = Budget(options.warmup, WARMUP_SECONDS, options.concurrency)
        created: list[str] = []
        upserts = await load.measure(
            "upsert order",
            service,
            upsert_orders(client, service_url, headers, "WARM", []),
            upsert_orders(client, service_url, headers, "BENCH", created),
            warmup,
            budget,
        )
        if not created:
            raise RuntimeError(f"no order was created; first error: {upserts.first_error}")
        service_reads = read_orders(client, f"{service_url}/v1/orders", created, headers)
        baseline_reads = read_orders(client, f"{baseline_url}/orders", created, {})
        orders = [
            upserts,
            await load.measure("get order", service, service_reads, service_reads, warmup, budget),
            await load.measure("baseline get", baseline, baseline_reads, baseline_reads, warmup, budget),
        ]
        intake = await ticket_bench.intake(
            client, service, service_url, baseline, baseline_url, headers, warmup, budget
        )
        manager = bearer_headers(secret, "bench-manager", Role.MANAGER)
        refunds = await after_sales_bench.refund_flows(client, service, service_url, headers, manager, warmup, budget)
        inbound = await load.measure(
            "inbound event",
            service,
            inbound_bench.customer_events(client, service_url, inbound_secret, "WARM"),
            inbound_bench.customer_events(client, service_url, inbound_secret, "BENCH"),
            warmup,
            budget,
        )
        log.info("racing partial refunds for one order")
        race = await after_sales_bench.partial_refund_race(service_url, headers)
        # One client: the latency a caller waits for, not the queue behind 31 others on one process.
        lists, plans = await ticket_bench.list_pages(
            client,
            service,
            service_url,
            database_url,
            bearer_headers(secret, ticket_bench.AGENT, Role.AGENT),
            options.tickets,
            Budget(options.warmup, WARMUP_SECONDS, 1),
            Budget(options.requests, options.seconds, 1),
        )
        log.info("scanning %s open tasks for reminders", f"{options.tasks:,}")
        reminders = await reminder_bench.measure(database_url, options.tasks)
        deliveries = []
        for workers in (1, 2):
            log.info("delivering %s webhook events with %d worker(s)", f"{options.webhook_events:,}", workers)
            deliveries.append(await webhook_bench.measure(database_url, options.webhook_events, workers))
        return Figures(orders, intake, refunds, inbound, race, lists, plans, reminders, deliveries)


def _serve_service(
    port: int, database_url: str, secret: str, inbound_secret: str
) -> AbstractAsyncContextManager[Server]:
    """The real command, logging only warnings (info-level access logs would cost the service throughput), its
    background jobs left to separate workers as in production."""
    return serving(
        "service",
        [str(Path(sys.executable).parent / "aftersales"), "serve", "--host", HOST, "--port", str(port)],
        clean_environment(
            {
                "AFTERSALES_DATABASE_URL": database_url,
                "AFTERSALES_ENV": "development",
                "AFTERSALES_LOG_LEVEL": "WARNING",
                "AFTERSALES_JWT_SECRET": secret,
                "AFTERSALES_INBOUND_SECRETS": inbound_bench.inbound_secrets(inbound_secret),
                "AFTERSALES_RUN_WORKERS_IN_PROCESS": "false",
            }
        ),
        probe_url=f"http://{HOST}:{port}/readyz",
        probe_status=200,
    )


def _serve_baseline(port: int, database_url: str) -> AbstractAsyncContextManager[Server]:
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


def _log_progress() -> None:
    """Progress of the bench's own steps on stderr; the servers and alembic keep their own logging."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("bench: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def main(argv: list[str]) -> int:
    options = parse_args(argv)
    _log_progress()
    cpus, (load_average, _, _) = os.cpu_count(), os.getloadavg()
    log.info("timing workflow actions in-process")
    costs = workflow_cost.measure()
    try:
        figures = asyncio.run(benchmark(options))
    except KeyboardInterrupt:
        return 130
    except RuntimeError as exc:
        log.error("FAILED %s", exc)
        return 1
    results = [*figures.orders, *figures.intake, figures.refunds, figures.inbound, *figures.lists]
    print(
        f"{cpus} CPUs shared by load generator, servers and PostgreSQL (load average {load_average:.2f} at start); "
        "one server process each"
    )
    print(
        f"concurrency {options.concurrency} (list pages: 1); per scenario at most {options.requests} requests "
        f"or {options.seconds:g} s, after {options.warmup} warm-up requests; list pages at "
        f"{options.tickets // 10:,} and {options.tickets:,} bulk tickets"
    )
    print(report.table(results))
    print(report.ratio(figures.orders[1], figures.orders[2]))
    print(report.ratio(figures.intake[0], figures.intake[1], report.CREATE_RATIO_TARGET))
    print(report.refund_flows(figures.refunds))
    print(report.race(figures.race))
    print(report.list_p99(figures.lists))
    print("\n".join(report.action_costs(costs)))
    print("\n".join(webhook_bench.lines(figures.deliveries)))
    print(f"inbound events: {figures.inbound.rate:.1f}/s (signed customer.upserted, verified, stored and applied)")
    print(f"list query plans at {options.tickets:,} bulk tickets:")
    print("\n".join(report.plans(figures.plans)))
    print("\n".join(reminder_bench.lines(figures.reminders)))
    for line in report.error_lines(results):
        log.error(line)
    race_failures = report.race_failures(figures.race)
    for line in race_failures:
        log.error(line)
    unindexed = [plan.label for plan in [*figures.plans, figures.reminders.plan] if not plan.indexes]
    if unindexed:
        log.error("FAILED list queries without an index: %s", ", ".join(unindexed))
    return 1 if race_failures or unindexed or any(report.over_budget(r) for r in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
