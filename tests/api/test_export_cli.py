"""`aftersales export`: the same bytes as the endpoint answers an admin, every page written, a count on stderr, and
bad names, zones and ranges refused before anything is written."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from app.cli import cli
from app.domain.principal import Role
from app.services import exports
from app.settings import get_settings
from tests.factories import open_ticket, seed_service_desk


async def _export(app, *args: str) -> Result:
    env = {"AFTERSALES_DATABASE_URL": app.state.services.database.url}

    def invoke() -> Result:
        get_settings.cache_clear()
        try:
            return CliRunner().invoke(cli, ["export", *args], env=env)
        finally:
            get_settings.cache_clear()

    return await asyncio.to_thread(invoke)  # the command runs its own event loop


async def test_the_command_writes_what_the_endpoint_answers(client, auth, app, tmp_path: Path, monkeypatch):
    await seed_service_desk(client, auth)
    monkeypatch.setattr(exports, "PAGE", 2)  # several pages, each counted by the bar
    for title in ("净化器异响", "=1+1", "漏水"):
        await open_ticket(client, auth, title=title)
    start, end = str(datetime.now(UTC).date()), str(datetime.now(UTC).date() + timedelta(days=1))
    target = tmp_path / "tickets.csv"

    args = ("--from", start, "--to", end, "--tz", "Asia/Shanghai", "--output", str(target))

    result = await _export(app, "tickets", *args)

    assert result.exit_code == 0, result.output
    assert "3 rows written" in result.output
    params = {"from": start, "to": end, "tz": "Asia/Shanghai"}
    answered = await client.get("/v1/exports/tickets.csv", params=params, headers=auth(Role.ADMIN))
    assert target.read_bytes() == answered.content
    assert answered.content.decode("utf-8-sig").count("\r\n") == 4  # the header and three tickets


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("nothing", "--from", "2026-01-01", "--to", "2026-01-02"), "NAME"),
        (("tickets", "--from", "2026-01-01", "--to", "2026-01-02", "--tz", "Mars/Olympus"), "--tz"),
        (("tickets", "--from", "2026-02-01", "--to", "2026-01-01"), "--to"),
        (("tickets", "--from", "2026-13-01", "--to", "2026-01-01"), "--from"),
    ],
)
async def test_bad_input_is_refused_before_anything_is_written(app, tmp_path: Path, args, named):
    target = tmp_path / "out.csv"

    result = await _export(app, *args, "--output", str(target))

    assert result.exit_code == 2, result.output
    assert named in result.output
    assert not target.exists()
