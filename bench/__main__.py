"""`python -m bench`: a throwaway database, the service and the baseline as subprocesses, the chosen scenarios
(all by default), one table of figures: req/s, p50/p99, the server's own CPU per request and the load generator's
own CPU, then each scenario's ratios and verdicts and the servers' memory."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from bench import (
    after_sales_bench,
    attachments_bench,
    dispatch_bench,
    dispatch_day_bench,
    dispatch_decision_bench,
    inbound_bench,
    kb_bench,
    keyword_bench,
    load,
    order_bench,
    reminder_bench,
    report,
    risk_bench,
    sla_bench,
    spike_bench,
    spike_eval_bench,
    survey_bench,
    ticket_bench,
    webhook_bench,
    workers_bench,
    workflow_cost,
    wrk,
)
from bench.database import throwaway_database
from bench.harness import WARMUP_SECONDS, Generator, Harness, serve_baseline, serve_service
from bench.load import PythonLoad
from bench.scenarios import bearer_headers, seed_reference_data
from bench.server import HOST, free_port

log = logging.getLogger("bench")


async def _refunds(h: Harness) -> None:
    h.lines.append(report.refund_flows(await after_sales_bench.refund_flows(h)))


async def _inbound(h: Harness) -> None:
    url, secret = h.service_url, h.inbound_secret
    warm = PythonLoad(inbound_bench.customer_events(h.client, url, secret, "WARM"))
    events = PythonLoad(inbound_bench.customer_events(h.client, url, secret, "BENCH"))
    result = await h.measure("inbound event", h.service, warm, events)
    h.lines.append(f"inbound events: {result.rate:.1f}/s (signed customer.upserted, verified, stored and applied)")


async def _race(h: Harness) -> None:
    log.info("racing partial refunds for one order")
    found = await after_sales_bench.partial_refund_race(h.service_url, bearer_headers(h.secret))
    h.lines.append(report.race(found))
    h.failures += report.race_failures(found)


async def _workflow(h: Harness) -> None:
    log.info("timing workflow actions in-process")
    h.lines += report.action_costs(workflow_cost.measure())


async def _reminders(h: Harness) -> None:
    log.info("scanning %s open tasks for reminders", f"{h.options.tasks:,}")
    figures = await reminder_bench.measure(h.database_url, h.options.tasks)
    h.lines += reminder_bench.lines(figures)
    if not figures.plan.indexes:
        h.failures.append("FAILED the reminder scan reads no index")


async def _sla(h: Harness) -> None:
    log.info("the SLA clock over bulk-loaded open tickets (up to %s)", f"{max(h.options.tickets, 100_000):,}")
    figures = await sla_bench.measure(h)
    h.lines += sla_bench.lines(figures)
    h.failures += sla_bench.failures(figures)


async def _webhooks(h: Harness) -> None:
    deliveries = []
    for workers in (1, 2):
        log.info("delivering %s webhook events with %d worker(s)", f"{h.options.webhook_events:,}", workers)
        deliveries.append(await webhook_bench.measure(h.database_url, h.options.webhook_events, workers))
    h.lines += webhook_bench.lines(deliveries)


async def _keywords(h: Harness) -> None:
    log.info("timing the high-risk keyword flag in-process against 5,000 keywords")
    figures = keyword_bench.run()
    h.lines += keyword_bench.lines(figures)
    h.failures += keyword_bench.failures(figures)


async def _spikes(h: Harness) -> None:
    log.info("complaint spikes: 10,000 series in-process, then the job at %s tickets", f"{h.options.tickets:,}")
    pure = spike_bench.measure()
    h.lines += spike_bench.lines(pure)
    h.failures += spike_bench.failures(pure)
    figures = await spike_eval_bench.measure(h.options.tickets)  # its own throwaway database
    h.lines += spike_eval_bench.lines(figures)
    h.failures += spike_eval_bench.failures(figures)


async def _surveys(h: Harness) -> None:
    log.info("answering bulk-loaded survey links")
    h.lines += survey_bench.lines(await survey_bench.measure(h))


async def _risk(h: Harness) -> None:
    log.info("complaint intake with the risk checks on and off")
    pairs = await risk_bench.measure(h)
    h.lines += risk_bench.lines(pairs)
    h.failures += risk_bench.failures(pairs)


async def _dispatch(h: Harness) -> None:
    log.info("intake with dispatch on and off, alternating pairs")
    pairs = await dispatch_bench.measure(h)
    h.lines += dispatch_bench.lines(pairs)
    h.failures += dispatch_bench.failures(pairs)
    log.info("timing dispatch decisions in-process: 500 agents, 200 rules")
    decisions = await dispatch_decision_bench.measure()  # its own throwaway database
    h.lines += dispatch_decision_bench.lines(decisions)
    h.failures += dispatch_decision_bench.failures(decisions)


async def _dispatch_day(h: Harness) -> None:
    log.info("simulating a working day of dispatch in-process: 20,000 tickets, 50 agents")
    day = await dispatch_day_bench.measure()  # its own throwaway database
    h.lines += dispatch_day_bench.lines(day)
    h.failures += dispatch_day_bench.failures(day)


async def _attachments(h: Harness) -> None:
    log.info("streaming 1 GB videos into the service and downloading by signed links: local store, then S3 (moto)")
    stores = await attachments_bench.measure(h)
    h.lines += attachments_bench.lines(stores)
    h.failures += attachments_bench.failures(stores)


async def _kb(h: Harness) -> None:
    log.info(
        "knowledge base search at %s articles on SQLite and PostgreSQL", " and ".join(f"{n:,}" for n in kb_bench.SIZES)
    )
    figures = await kb_bench.measure()  # its own databases
    h.lines += kb_bench.lines(figures)
    h.failures += kb_bench.failures(figures)


@dataclass(frozen=True, slots=True)
class Scenario:
    about: str
    run: Callable[[Harness], Awaitable[None]]


SCENARIOS = {
    "orders": Scenario("upsert order; get order beside the baseline's", order_bench.orders),
    "create": Scenario("POST /v1/tickets beside the baseline's four statements", ticket_bench.intake),
    "get": Scenario(
        "GET one ticket at a tenth of --tickets, beside the baseline's; loaded and alone", ticket_bench.reads
    ),
    "refund": Scenario("whole refund flows per second (Python client: dependent calls)", _refunds),
    "inbound": Scenario("signed inbound CRM events (Python client: per-request signatures)", _inbound),
    "race": Scenario("100 concurrent partial refunds on one order: exactly what fits", _race),
    "lists": Scenario(
        "every list page at a tenth of --tickets and at all, one client, baseline pages, plans", ticket_bench.list_pages
    ),
    "workers": Scenario(
        "create and GET against `aftersales serve --workers 1` and `--workers 2`", workers_bench.workers
    ),
    "workflow": Scenario("in-process cost of a ticket workflow action", _workflow),
    "reminders": Scenario("the task reminder scan over --tasks open tasks", _reminders),
    "webhooks": Scenario("webhook deliveries by one and by two `aftersales worker`", _webhooks),
    "sla": Scenario(
        "SLA idle scan at 10k/100k/--tickets open tickets, breaches, re-derivation, create with SLA on/off", _sla
    ),
    "keywords": Scenario("in-process cost of the high-risk keyword flag per message, 5,000 keywords", _keywords),
    "spikes": Scenario(
        "complaint spikes: one hour judged over 10,000 series in-process, and the job's pass at --tickets", _spikes
    ),
    "surveys": Scenario("answers to public survey links, each link once", _surveys),
    "risk": Scenario("complaint intake with the risk checks on (5,000 keywords) and off, alternating pairs", _risk),
    "dispatch": Scenario("intake with dispatch on/off in pairs; one decision at 500 agents and 200 rules", _dispatch),
    "dispatch-day": Scenario(
        "a simulated working day of dispatch: 20,000 tickets, 50 agents, 32 clients", _dispatch_day
    ),
    "attachments": Scenario(
        "a 1 GB upload streamed (MB/s, server RSS growth), downloads by signed link; local store and S3 (moto)",
        _attachments,
    ),
    "kb": Scenario(
        "knowledge base search p50/p99 at 10k and 100k articles on SQLite and PostgreSQL; publish and re-index cost",
        _kb,
    ),
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    names = "\n".join(f"  {name:<10} {scenario.about}" for name, scenario in SCENARIOS.items())
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        epilog=f"scenarios (in the order they run):\n{names}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--only",
        type=_scenario_names,
        default=list(SCENARIOS),
        help="comma-separated scenarios to run, e.g. `lists` or `create,refund` (default: all; names below)",
    )
    parser.add_argument(
        "--generator",
        choices=("auto", "wrk", "python"),
        default=os.environ.get("AFTERSALES_BENCH_GENERATOR", "auto"),
        help="load generator for the HTTP scenarios: wrk (installed with apt-get when missing and root), the "
        "Python client, or auto: wrk when it can be had, else the Python client (env AFTERSALES_BENCH_GENERATOR)",
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=int(os.environ.get("AFTERSALES_BENCH_REQUESTS", "3000")),
        help="at most this many requests per run (env AFTERSALES_BENCH_REQUESTS; default 3000)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=float(os.environ.get("AFTERSALES_BENCH_SECONDS", "15")),
        help="time cap per run (env AFTERSALES_BENCH_SECONDS; default 15; wrk rounds it to whole seconds)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=int(os.environ.get("AFTERSALES_BENCH_CONCURRENCY", "32")),
        help="connections in flight (env AFTERSALES_BENCH_CONCURRENCY; default 32)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=int(os.environ.get("AFTERSALES_BENCH_WARMUP", "200")),
        help=f"unmeasured requests before each run, at most {WARMUP_SECONDS:.0f} s "
        "(env AFTERSALES_BENCH_WARMUP; default 200)",
    )
    parser.add_argument(
        "--tickets",
        type=int,
        default=int(os.environ.get("AFTERSALES_BENCH_TICKETS", "1000000")),
        help="bulk-loaded tickets: GET one at a tenth of it, list pages at a tenth and at all of it "
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


def _scenario_names(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown scenario {', '.join(unknown) or '(none)'}; one of {', '.join(SCENARIOS)}"
        )
    return [name for name in SCENARIOS if name in names]  # the usual order: later scenarios build on earlier rows


async def benchmark(options: argparse.Namespace, wrk_path: str | None) -> Harness:
    secret = secrets.token_urlsafe(48)
    inbound_secret = inbound_bench.new_secret()
    service_port, baseline_port = free_port(), free_port()
    service_url, baseline_url = f"http://{HOST}:{service_port}", f"http://{HOST}:{baseline_port}"
    limits = httpx.Limits(max_connections=options.concurrency, max_keepalive_connections=options.concurrency)
    log.info("creating and migrating a throwaway database")
    async with (
        throwaway_database() as database_url,
        serve_service(service_port, database_url, secret, inbound_secret) as service,
        serve_baseline(baseline_port, database_url) as baseline,
        httpx.AsyncClient(limits=limits, timeout=30.0) as client,
    ):
        log.info("service pid %d on %s, baseline pid %d on %s", service.pid, service_url, baseline.pid, baseline_url)
        await seed_reference_data(client, service_url, bearer_headers(secret))
        h = Harness(
            options,
            database_url,
            client,
            Generator(client, wrk_path),
            service,
            service_url,
            baseline,
            baseline_url,
            secret,
            inbound_secret,
        )
        for name in options.only:
            await SCENARIOS[name].run(h)
        h.lines += report.memory(h.servers)
        return h


def _generator(options: argparse.Namespace) -> tuple[str | None, str]:
    """wrk's path (None: the Python client) and the header line that says which generator drives the load."""
    if options.generator == "python":
        return None, "load generator: the Python client (httpx), as asked (--generator python)"
    path, about = wrk.locate(install=True)
    if path is None:
        if options.generator == "wrk":
            raise RuntimeError(f"--generator wrk: {about}")
        return None, (
            f"load generator: THE PYTHON CLIENT (httpx), {about}: it shares this machine's CPU with the servers and "
            "can cap them; see the gen cores column"
        )
    return path, (
        f"load generator: {about}, -t{min(wrk.MAX_THREADS, options.concurrency)} -c{options.concurrency} "
        "(one-client runs -t1 -c1); refund flows and inbound events: the Python client"
    )


def _log_progress() -> None:
    """Progress of the bench's own steps on stderr; the servers and alembic keep their own logging."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("bench: %(message)s"))
    for name in ("bench", "bench.wrk"):
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.INFO)
        logging.getLogger(name).propagate = False


def main(argv: list[str]) -> int:
    options = parse_args(argv)
    _log_progress()
    cpus, (load_average, _, _) = os.cpu_count() or 1, os.getloadavg()
    try:
        wrk_path, generator_line = _generator(options)
        h = asyncio.run(benchmark(options, wrk_path))
    except KeyboardInterrupt:
        return 130
    except RuntimeError as exc:
        log.error("FAILED %s", exc)
        return 1
    python_limit = min(load.THREAD_SHARE_LIMIT, load.MACHINE_SHARE_LIMIT * cpus)
    wrk_limit = min(load.THREAD_SHARE_LIMIT * wrk.MAX_THREADS, load.MACHINE_SHARE_LIMIT * cpus)
    print(
        f"{cpus} CPUs shared by load generator, servers and PostgreSQL (load average {load_average:.2f} at start); "
        f"scenarios: {', '.join(options.only)}"
    )
    print(generator_line)
    print(
        "server CPU: user + system of the server's processes (workers included) from /proc, idle to idle around each "
        "run, per request served (answered, or in flight when wrk stopped); a generator is saturated above "
        f"{load.THREAD_SHARE_LIMIT:g} core per thread or "
        f"{load.MACHINE_SHARE_LIMIT:.0%} of the CPUs, whichever is less (here {python_limit:.2f} core for the Python "
        f"client, {wrk_limit:.2f} for wrk -t{wrk.MAX_THREADS}), and then no throughput ratio is printed"
    )
    print(
        f"concurrency {options.concurrency} (one-client runs and list pages: 1); per run at most {options.requests} "
        f"requests or {options.seconds:g} s, after {options.warmup} warm-up requests; bulk tickets "
        f"{options.tickets // 10:,} and {options.tickets:,}"
    )
    if h.results:
        print("\n".join(report.table(h.results)))
    print("\n".join(h.lines))
    for line in report.error_lines(h.results):
        log.error(line)
    for line in h.failures:
        log.error(line)
    return 1 if h.failures or any(report.over_budget(r) for r in h.results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
