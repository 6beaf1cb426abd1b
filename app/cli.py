"""The `aftersales` command: serve, worker, migrate, token, demo, create-api-key."""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from typing import Annotated

import typer
import uvicorn

from app.domain.clock import SystemClock
from app.domain.principal import Role
from app.settings import get_settings

cli = typer.Typer(help="After-sales workflow service.", no_args_is_help=True, add_completion=False)

DEMO_USERS = {
    Role.CUSTOMER: ("customer-zhang", "C-10001"),
    Role.AGENT: ("agent-wang", None),
    Role.REVIEWER: ("reviewer-chen", None),
    Role.MANAGER: ("manager-liu", None),
    Role.ADMIN: ("admin", None),
    Role.INTEGRATION: ("erp-sync", None),
}


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default AFTERSALES_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default AFTERSALES_PORT).")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default AFTERSALES_WORKERS).")] = None,
) -> None:
    """Serve the API."""
    settings = get_settings()
    uvicorn.run(
        "app.main:app_from_env",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        http="app.web.http_server:HeadTimedHttpProtocol",  # bounds the request head (slowloris)
        timeout_keep_alive=settings.keep_alive_seconds,
        limit_concurrency=settings.max_connections,
    )


@cli.command()
def worker() -> None:
    """Run the background jobs until SIGTERM or SIGINT, then let the runs in flight finish and exit."""
    import structlog

    from app.web.logging import configure_logging
    from app.web.wiring import build_services
    from app.workers.jobs import jobs
    from app.workers.runner import JobRunner

    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    log = structlog.get_logger("aftersales")

    async def run() -> None:
        services = build_services(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        runner = JobRunner(jobs(services))
        try:
            runner.start()
            log.info("worker_started", jobs=[job.name for job in runner.jobs])
            await stop.wait()
            log.info("worker_stopping")
            await runner.stop()
        finally:
            await services.aclose()
        log.info("worker_stopped")

    asyncio.run(run())


@cli.command()
def migrate() -> None:
    """Apply database migrations up to the newest."""
    from app.persistence.migrations import head_revision, upgrade_to_head

    upgrade_to_head(get_settings().database_url)
    typer.echo(f"database at revision {head_revision()}")


@cli.command()
def token(
    sub: Annotated[str, typer.Option(help="Subject (user id).")],
    role: Annotated[list[Role], typer.Option(help="Role; repeat for several.")],
    customer_no: Annotated[str | None, typer.Option(help="Customer number (customer role).")] = None,
    business_line: Annotated[list[str] | None, typer.Option(help="Business line; repeat for several.")] = None,
    ttl: Annotated[int | None, typer.Option(help="Lifetime in seconds (default AFTERSALES_TOKEN_TTL_SECONDS).")] = None,
) -> None:
    """Print a signed bearer JWT for development and tests."""
    from app.web.wiring import token_codec

    settings = get_settings()
    try:
        typer.echo(
            token_codec(settings).issue(
                subject=sub,
                roles=role,
                customer_no=customer_no,
                business_lines=business_line or (),
                now=SystemClock().now(),
                ttl=timedelta(seconds=ttl or settings.token_ttl_seconds),
            )
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


@cli.command()
def demo() -> None:
    """Load demo data (idempotent) and print a token for each role."""
    from app.demo import load_demo
    from app.web.wiring import build_services, token_codec

    settings = get_settings()

    async def run() -> None:
        services = build_services(settings)
        try:
            await load_demo(services, SystemClock().now())
        finally:
            await services.aclose()

    asyncio.run(run())
    codec, now = token_codec(settings), SystemClock().now()
    typer.echo(f"Demo data loaded. Tokens (valid for {settings.token_ttl_seconds // 3600} h):")
    for role, (subject, customer_no) in DEMO_USERS.items():
        jwt = codec.issue(
            subject=subject,
            roles=[role],
            customer_no=customer_no,
            now=now,
            ttl=timedelta(seconds=settings.token_ttl_seconds),
        )
        typer.echo(f"  {role.value:<12} {jwt}")
    typer.echo(f"API docs: http://{settings.host}:{settings.port}{settings.docs_url}")


@cli.command("create-api-key")
def create_api_key(
    name: Annotated[str, typer.Option(help="What the key is for, e.g. erp-sync.")],
    role: Annotated[list[Role], typer.Option(help="Role; repeat for several.")] = [Role.INTEGRATION],  # noqa: B006
) -> None:
    """Issue an API key and print it once."""
    from app.domain.errors import DomainError
    from app.web.wiring import build_services

    async def run() -> str:
        services = build_services(get_settings())
        try:
            return (await services.api_keys.create("cli", name, frozenset(role))).plaintext
        finally:
            await services.aclose()

    try:
        typer.echo(asyncio.run(run()))
    except DomainError as exc:
        raise typer.BadParameter(exc.detail) from exc


def main() -> None:
    cli()
