"""`python -m bench`: a throwaway database, the service and the baseline as subprocesses, three loads, one table."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import httpx

from bench import load, report
from bench.baseline_app import DATABASE_URL_ENV
from bench.database import throwaway_database
from bench.load import Budget, Result, Send
from bench.scenarios import bearer_headers, read_orders, seed_reference_data, upsert_orders
from bench.server import HOST, Server, clean_environment, free_port, serving

WARMUP_SECONDS = 3.0


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
    options = parser.parse_args(argv)
    if min(options.requests, options.concurrency, options.warmup) < 1 or options.seconds <= 0:
        parser.error("--requests, --seconds, --concurrency and --warmup must be positive")
    return options


async def benchmark(options: argparse.Namespace) -> list[Result]:
    secret = secrets.token_urlsafe(48)
    service_port, baseline_port = free_port(), free_port()
    service_url, baseline_url = f"http://{HOST}:{service_port}", f"http://{HOST}:{baseline_port}"
    limits = httpx.Limits(max_connections=options.concurrency, max_keepalive_connections=options.concurrency)
    _progress("creating and migrating a throwaway database")
    async with (
        throwaway_database() as database_url,
        _serve_service(service_port, database_url, secret) as service,
        _serve_baseline(baseline_port, database_url) as baseline,
        httpx.AsyncClient(limits=limits, timeout=30.0) as client,
    ):
        headers = bearer_headers(secret)
        await seed_reference_data(client, service_url, headers)
        budget = Budget(options.requests, options.seconds, options.concurrency)
        warmup = Budget(options.warmup, WARMUP_SECONDS, options.concurrency)
        created: list[str] = []
        upserts = await _measure(
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
        return [
            upserts,
            await _measure("get order", service, service_reads, service_reads, warmup, budget),
            await _measure("baseline get", baseline, baseline_reads, baseline_reads, warmup, budget),
        ]


def _serve_service(port: int, database_url: str, secret: str) -> AbstractAsyncContextManager[Server]:
    """The real command, logging only warnings: info-level access logs would cost the service throughput."""
    return serving(
        "service",
        [str(Path(sys.executable).parent / "aftersales"), "serve", "--host", HOST, "--port", str(port)],
        clean_environment(
            {
                "AFTERSALES_DATABASE_URL": database_url,
                "AFTERSALES_ENV": "development",
                "AFTERSALES_LOG_LEVEL": "WARNING",
                "AFTERSALES_JWT_SECRET": secret,
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


async def _measure(scenario: str, target: Server, warm: Send, send: Send, warmup: Budget, budget: Budget) -> Result:
    """Warm connections, pools and caches first, so the measured run sees steady state."""
    _progress(f"running {scenario}")
    await load.run(scenario, warm, warmup)
    result = await load.run(scenario, send, budget)
    target.ensure_running()
    return result


def _progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    options = parse_args(argv)
    try:
        results = asyncio.run(benchmark(options))
    except KeyboardInterrupt:
        return 130
    except RuntimeError as exc:
        print(f"bench: FAILED {exc}", file=sys.stderr)
        return 1
    print(
        f"concurrency {options.concurrency}; per scenario at most {options.requests} requests "
        f"or {options.seconds:g} s, after {options.warmup} warm-up requests"
    )
    print(report.table(results))
    print(report.ratio(results[1], results[2]))
    for line in report.error_lines(results):
        print(f"bench: {line}", file=sys.stderr)
    return 1 if any(report.over_budget(r) for r in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
