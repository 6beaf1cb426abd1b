"""Synonym group rows ↔ SynonymGroup entities, with one row per term (its key keeps a term in one group)."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import Row, bindparam, delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.kb_synonyms import SynonymGroup
from app.domain.pagination import Page, PageRequest
from app.persistence.keyset import fetch_page
from app.persistence.tables import kb_synonym_groups, kb_synonym_terms

_LOCK = text("SELECT pg_advisory_xact_lock(:lock_id)")
_LOCK_ID = zlib.crc32(b"aftersales.kb_synonyms")
_GET = select(kb_synonym_groups).where(kb_synonym_groups.c.id == bindparam("id"))
_TERMS_OF = delete(kb_synonym_terms).where(kb_synonym_terms.c.group_id == bindparam("id"))
_ALL = select(kb_synonym_groups.c.terms)


def _group(row: Row[Any]) -> SynonymGroup:
    m = row._mapping
    return SynonymGroup(m["id"], tuple(m["terms"]), m["version"], m["created_at"], m["updated_at"])


class SqlSynonymRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def lock(self) -> None:
        """PostgreSQL: an advisory transaction lock (a new term has no row to lock yet); SQLite serialises writers."""
        if self._conn.dialect.name == "postgresql":
            await self._conn.execute(_LOCK, {"lock_id": _LOCK_ID})

    async def get(self, group_id: UUID, *, for_update: bool = False) -> SynonymGroup | None:
        stmt = _GET.with_for_update() if for_update else _GET
        row = (await self._conn.execute(stmt, {"id": group_id})).first()
        return _group(row) if row else None

    async def holders(self, terms: Sequence[str]) -> dict[str, UUID]:
        stmt = select(kb_synonym_terms).where(kb_synonym_terms.c.term.in_(list(terms)))
        return {row.term: row.group_id for row in await self._conn.execute(stmt)}

    async def add(self, group: SynonymGroup) -> None:
        values = {"id": group.id, "terms": list(group.terms), "version": group.version}
        values.update(created_at=group.created_at, updated_at=group.updated_at)
        await self._conn.execute(insert(kb_synonym_groups), values)
        await self._add_terms(group)

    async def update(self, group: SynonymGroup) -> None:
        values = {"terms": list(group.terms), "version": group.version, "updated_at": group.updated_at}
        await self._conn.execute(update(kb_synonym_groups).where(kb_synonym_groups.c.id == group.id), values)
        await self._conn.execute(_TERMS_OF, {"id": group.id})
        await self._add_terms(group)

    async def delete(self, group_id: UUID) -> None:
        await self._conn.execute(_TERMS_OF, {"id": group_id})
        await self._conn.execute(delete(kb_synonym_groups).where(kb_synonym_groups.c.id == group_id))

    async def list(self, page: PageRequest) -> Page[SynonymGroup]:
        key = [kb_synonym_groups.c.created_at, kb_synonym_groups.c.id]
        rows, next_key = await fetch_page(self._conn, select(kb_synonym_groups), key, page)
        return Page([_group(row) for row in rows], next_key)

    async def all_terms(self) -> list[tuple[str, ...]]:
        return [tuple(row.terms) for row in await self._conn.execute(_ALL)]

    async def _add_terms(self, group: SynonymGroup) -> None:
        await self._conn.execute(insert(kb_synonym_terms), [{"term": t, "group_id": group.id} for t in group.terms])
