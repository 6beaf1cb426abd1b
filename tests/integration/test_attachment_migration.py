"""Migration 0025 on both databases: a ticket and its comment written in the old metadata-only attachment shape are
read afterwards in the one shape readers know, as legacy references (no id, the old URL kept for staff only)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from fastapi import FastAPI
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from app.domain.principal import Role
from app.main import create_app
from app.persistence.migrations import alembic_config, upgrade_to_head
from app.persistence.tables import customers, tickets, timeline
from tests.conftest import client_for, make_settings
from tests.databases import create_postgres_database, drop_postgres_database, sqlite_url

OLD = {"name": "故障.jpg", "content_type": "image/jpeg", "size": 2048, "sha256": "ab" * 32, "url": "https://x/f.jpg"}
NOW = datetime.now(UTC)


@pytest.fixture(params=["sqlite", "postgres"])
async def at_0024(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database of its own, migrated to the revision before attachment links."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path)
    else:
        url = await create_postgres_database()
    try:
        await asyncio.to_thread(command.upgrade, alembic_config(url), "0024")
        yield url
    finally:
        if request.param == "postgres":
            await drop_postgres_database(url)


async def _write_old_rows(url: str) -> tuple[uuid.UUID, uuid.UUID]:
    ticket_id, entry_id = uuid.uuid4(), uuid.uuid4()
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            stamp = {"version": 1, "created_at": NOW, "updated_at": NOW}
            await conn.execute(
                insert(customers).values(
                    id=uuid.uuid4(), customer_no="C-1", name="张伟", level="regular", contact_channels=[], **stamp
                )
            )
            await conn.execute(
                insert(tickets).values(
                    id=ticket_id,
                    number="T-2026-000001",
                    customer_no="C-1",
                    channel="app",
                    type="repair",
                    priority="normal",
                    status="new",
                    title="异响",
                    description="开机异响",
                    tags=[],
                    warranty_status="unknown",
                    contact={"name": None, "phone": None, "email": None},
                    attachments=[OLD],
                    escalation_level=0,
                    urge_count=0,
                    created_by="agent-1",
                    **stamp,
                )
            )
            await conn.execute(
                insert(timeline).values(
                    id=entry_id,
                    subject_id=ticket_id,
                    at=NOW,
                    actor="agent-1",
                    kind="comment",
                    action="comment",
                    remark="见附件",
                    payload={"attachments": [OLD]},
                    public=True,
                    remark_public=True,
                )
            )
    finally:
        await engine.dispose()
    return ticket_id, entry_id


def _headers(app: FastAPI, role: Role, customer_no: str | None = None) -> dict[str, str]:
    token = app.state.services.tokens.issue(
        subject=f"{role.value}-1",
        roles=[role],
        customer_no=customer_no,
        business_lines=(),
        now=NOW,
        ttl=timedelta(hours=1),
    )
    return {"Authorization": f"Bearer {token}"}


async def test_old_metadata_attachments_become_legacy_references_readers_understand(at_0024: str) -> None:
    ticket_id, _entry_id = await _write_old_rows(at_0024)

    await asyncio.to_thread(upgrade_to_head, at_0024)

    legacy = {**{k: v for k, v in OLD.items() if k != "url"}, "id": None, "external_url": OLD["url"]}
    engine = create_async_engine(at_0024)
    try:
        async with engine.connect() as conn:
            stored = (await conn.execute(select(tickets.c.attachments).where(tickets.c.id == ticket_id))).scalar_one()
            payload = (await conn.execute(select(timeline.c.payload))).scalar_one()
    finally:
        await engine.dispose()
    assert stored == [legacy]
    assert payload == {"attachments": [legacy]}
    app = create_app(make_settings(at_0024))
    async with client_for(app) as http:
        staff = _headers(app, Role.AGENT)
        customer = _headers(app, Role.CUSTOMER, "C-1")
        read = (await http.get(f"/v1/tickets/{ticket_id}", headers=staff)).json()
        as_customer = (await http.get(f"/v1/tickets/{ticket_id}", headers=customer)).json()
        entries = (await http.get(f"/v1/tickets/{ticket_id}/timeline", headers=staff)).json()["items"]
    assert read["attachments"] == [legacy]
    assert as_customer["attachments"] == [{**legacy, "external_url": None}]  # never shown to customers
    assert entries[0]["attachments"] == [legacy]
