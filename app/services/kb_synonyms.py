"""同义词 use cases: admins write synonym groups; search reads them through an in-process snapshot, dropped on every
write in this process and re-read at most REFRESH_SECONDS after a write in another one, so that a search pays no
statement for them."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from uuid import UUID

from app.domain.clock import Clock
from app.domain.errors import NotFound
from app.domain.ids import new_id
from app.domain.kb_synonyms import SynonymGroup, Thesaurus, folded_terms, term_taken
from app.domain.pagination import Page, PageRequest
from app.domain.preconditions import Precondition
from app.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory

REFRESH_SECONDS = 5.0


def group_not_found(group_id: UUID) -> NotFound:
    return NotFound(f"No synonym group {group_id}", code="synonym_group_not_found")


class SynonymService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._refresh, self._monotonic = refresh_seconds, monotonic
        self._cached: tuple[Thesaurus, float] | None = None

    async def create(self, terms: list[str]) -> SynonymGroup:
        folded = folded_terms(terms)
        now = self._clock.now()
        group = SynonymGroup(new_id(), folded, 1, now, now)
        async with self._uow.write() as uow:
            await _check_free(uow, folded, None)
            await uow.kb_synonyms.add(group)
            await uow.commit()
        self.forget()
        return group

    async def get(self, group_id: UUID) -> SynonymGroup:
        async with self._uow.read() as uow:
            group = await uow.kb_synonyms.get(group_id)
        if group is None:
            raise group_not_found(group_id)
        return group

    async def list(self, page: PageRequest) -> Page[SynonymGroup]:
        async with self._uow.read() as uow:
            return await uow.kb_synonyms.list(page)

    async def replace(self, group_id: UUID, terms: list[str], precondition: Precondition) -> SynonymGroup:
        folded = folded_terms(terms)
        async with self._uow.write() as uow:
            group = await _locked(uow, group_id)
            precondition.check(group.version)
            await _check_free(uow, folded, group_id)
            if folded != group.terms:
                group = replace(group, terms=folded, version=group.version + 1, updated_at=self._clock.now())
                await uow.kb_synonyms.update(group)
                await uow.commit()
        self.forget()
        return group

    async def delete(self, group_id: UUID, precondition: Precondition) -> None:
        async with self._uow.write() as uow:
            group = await _locked(uow, group_id)
            precondition.check(group.version)
            await uow.kb_synonyms.delete(group_id)
            await uow.commit()
        self.forget()

    async def thesaurus(self) -> Thesaurus:
        """The groups in force, from the snapshot while it is fresh."""
        cached = self._cached
        if cached is not None and self._monotonic() - cached[1] < self._refresh:
            return cached[0]
        async with self._uow.read() as uow:
            thesaurus = Thesaurus.of(await uow.kb_synonyms.all_terms())
        self._cached = (thesaurus, self._monotonic())
        return thesaurus

    def forget(self) -> None:
        """Drop the snapshot: the next search reads the groups again."""
        self._cached = None


async def _locked(uow: UnitOfWork, group_id: UUID) -> SynonymGroup:
    await uow.kb_synonyms.lock()
    group = await uow.kb_synonyms.get(group_id, for_update=True)
    if group is None:
        raise group_not_found(group_id)
    return group


async def _check_free(uow: UnitOfWork, terms: tuple[str, ...], own: UUID | None) -> None:
    """A 409 naming the first term another group holds."""
    await uow.kb_synonyms.lock()
    holders = await uow.kb_synonyms.holders(terms)
    for term in terms:
        holder = holders.get(term)
        if holder is not None and holder != own:
            raise term_taken(term, holder)
