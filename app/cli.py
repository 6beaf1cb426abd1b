"""The `aftersales` command: serve, worker, migrate, token, demo, create-api-key, export, attachments verify/move."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
import uvicorn

from app.domain.clock import SystemClock
from app.domain.principal import Principal, Role
from app.settings import get_settings

if TYPE_CHECKING:
    from rich.progress import Progress

    from app.integrations.storage import BlobStore
    from app.integrations.storage.maintenance import Outcome, Tally

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


@cli.command("export")
def export(
    name: Annotated[str, typer.Argument(help="What to export: tickets, after-sales, tasks or survey-answers.")],
    from_: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First local day, included.")],
    to: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last local day, included.")],
    tz: Annotated[str, typer.Option(help="IANA time zone of the days and of the times written.")] = "UTC",
    output: Annotated[Path | None, typer.Option(help="The file to write (default: NAME-FROM-TO.csv).")] = None,
) -> None:
    """Write a CSV export: the bytes `GET /v1/exports/NAME.csv` answers an admin, with a progress bar on stderr."""
    from rich.console import Console
    from rich.progress import Progress

    from app.domain.errors import DomainError
    from app.domain.exports import RECORD_EXPORTS
    from app.domain.reports import ReportQuery, check_range
    from app.web.wiring import build_services

    spec = RECORD_EXPORTS.get(name)
    if spec is None:
        raise typer.BadParameter(f"one of {', '.join(RECORD_EXPORTS)}", param_hint="NAME")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise typer.BadParameter("an IANA time zone name, e.g. Asia/Shanghai", param_hint="--tz") from exc
    start, end = from_.date(), to.date()
    target = output or Path(f"{name}-{start.isoformat()}-{end.isoformat()}.csv")
    principal = Principal("cli", frozenset({Role.ADMIN}))

    async def run() -> int:
        services = build_services(get_settings())
        try:
            check_range(start, end, services.reports.max_days)
            query = ReportQuery(start, end, zone)
            total = await services.exports.count(principal, spec, query)
            with Progress(console=Console(stderr=True)) as bar, target.open("wb") as out:
                task = bar.add_task(f"{name} → {target}", total=total)
                chunks = await services.exports.records(principal, spec, query, lambda n: bar.advance(task, n))
                async for chunk in chunks:
                    out.write(chunk)
            return total
        finally:
            await services.aclose()

    try:
        rows = asyncio.run(run())
    except DomainError as exc:
        named = "".join(f"; --{error.pointer}: {error.detail}" for error in exc.errors)
        raise typer.BadParameter(f"{exc.detail}{named}") from exc
    typer.echo(f"{rows} rows written to {target}", err=True)


attachments = typer.Typer(help="The attachment store: recheck and migrate stored files.", no_args_is_help=True)
cli.add_typer(attachments, name="attachments")


class StorageBackend(StrEnum):
    LOCAL = "local"
    S3 = "s3"


@attachments.command("verify")
def verify_attachments(
    after: Annotated[str | None, typer.Option(help="Recheck only the digests after this one (resume).")] = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            help="File holding the last digest checked: read to resume (when --after is not given), rewritten every "
            "second, removed when the run completes."
        ),
    ] = None,
) -> None:
    """Recheck that every stored file still hashes to its SHA-256, and (on a whole run) that every file an attachment
    record names is stored; exit 1 on any mismatch or missing file."""
    from app.integrations.storage import is_digest, open_blob_store
    from app.integrations.storage.maintenance import Outcome, count, verify

    if after is None and checkpoint is not None and checkpoint.exists():
        after = checkpoint.read_text().strip() or None
    if after is not None and not is_digest(after):
        raise typer.BadParameter(f"{after!r} is not a SHA-256 (64 lowercase hex digits)", param_hint="--after")
    store = open_blob_store(get_settings())
    saved = _Checkpoint(checkpoint, after)

    async def run() -> Tally:
        try:
            with _progress() as progress:
                task = progress.add_task("verify", total=await count(store, after=after))

                def done(sha256: str, outcome: Outcome, size: int) -> None:
                    _report(progress, sha256, outcome)
                    progress.update(task, advance=1)
                    saved.advance(sha256)

                tally = await verify(store, after=after, progress=done)
            if after is None:  # a whole run: also every file the records name
                for sha256 in await _recorded_but_not_stored(store):
                    tally.add(sha256, Outcome.MISSING)
                    typer.echo(f"MISSING {sha256} (named by an attachment record)")
            return tally
        finally:
            await store.aclose()

    try:
        tally = asyncio.run(run())
    except KeyboardInterrupt:
        saved.write()
        typer.echo(f"interrupted; resume with --after {saved.last}" if saved.last else "interrupted")
        raise typer.Exit(130) from None
    saved.finish()
    _summary(tally, "checked")
    if tally.problems:
        raise typer.Exit(1)


@attachments.command("move")
def move_attachments(
    to: Annotated[StorageBackend, typer.Option(help="The backend to copy every stored file to.")],
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Files copied at once.")] = 4,
) -> None:
    """Copy every stored file from the configured backend to the other (configured by the same settings), each
    checked against its SHA-256 on arrival. Files already there are skipped, so a stopped run is resumed by running
    it again. Database rows name files by digest: nothing else changes."""
    from app.integrations.storage import open_blob_store
    from app.integrations.storage.maintenance import count, move

    settings = get_settings()
    if to == settings.storage_backend:
        raise typer.BadParameter(f"{to} is already the configured backend (AFTERSALES_STORAGE_BACKEND)")
    try:
        target = open_blob_store(settings, to.value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    source = open_blob_store(settings)

    async def run() -> Tally:
        try:
            with _progress() as progress:
                task = progress.add_task(f"{source.name} → {target.name}", total=await count(source))

                def done(sha256: str, outcome: Outcome, size: int) -> None:
                    _report(progress, sha256, outcome)
                    progress.update(task, advance=1)

                return await move(source, target, concurrency=concurrency, progress=done)
        finally:
            await source.aclose()
            await target.aclose()

    tally = asyncio.run(run())
    _summary(tally, "moved")
    if tally.problems:
        typer.echo("Fix or remove the files above, then run this again; nothing else needs to be copied twice.")
        raise typer.Exit(1)
    switch = "AFTERSALES_STORAGE_BACKEND=s3 (with the AFTERSALES_S3_* settings used here)"
    if to is StorageBackend.LOCAL:
        switch = f"AFTERSALES_STORAGE_BACKEND=local and AFTERSALES_STORAGE_DIR={settings.storage_dir}"
    typer.echo(
        f"Every file is in {to}. Run this once more right before switching, for files uploaded meanwhile; then set "
        f"{switch} and restart the service and workers. The {source.name} copies are left in place."
    )


class _Checkpoint:
    """The last digest `verify` finished, kept in a file (replaced whole, so it is never half-written)."""

    def __init__(self, path: Path | None, last: str | None) -> None:
        self.path, self.last = path, last
        self._written_at = 0.0

    def advance(self, sha256: str) -> None:
        self.last = sha256
        if time.monotonic() - self._written_at >= 1:
            self.write()
            self._written_at = time.monotonic()

    def write(self) -> None:
        if self.path is not None and self.last is not None:
            partial = self.path.with_name(self.path.name + ".partial")
            partial.write_text(self.last + "\n")
            os.replace(partial, self.path)

    def finish(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def _progress() -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


async def _recorded_but_not_stored(store: BlobStore) -> list[str]:
    """Digests that live attachment rows name and the store does not hold (deleted or lost behind the service)."""
    from app.persistence.attachments import SqlAttachmentRepository
    from app.persistence.database import Database

    database = Database(get_settings().database_url, pool_size=1)
    try:
        async with database.engine.connect() as conn:
            named = SqlAttachmentRepository(conn).live_digests()
            return [sha256 async for sha256 in named if not await store.exists(sha256)]
    finally:
        await database.dispose()


def _report(progress: Progress, sha256: str, outcome: Outcome) -> None:
    from app.integrations.storage.maintenance import Outcome

    if outcome in (Outcome.MISMATCH, Outcome.MISSING):
        progress.console.print(f"{outcome.value.upper()} {sha256}", markup=False)


def _summary(tally: Tally, verb: str) -> None:
    counts = ", ".join(f"{n} {outcome.value}" for outcome, n in tally.counts.items() if n)
    total = sum(tally.counts.values())
    typer.echo(f"{total} file{'' if total == 1 else 's'} {verb}" + (f": {counts}" if counts else ""))


def main() -> None:
    cli()
