"""同义词 of knowledge base search: groups of terms that mean the same to a customer (退货 ↔ 退回, refund ↔ 退款, a
common misspelling ↔ the word), configured by admins and used on the query side only: a query span that is one of a
group's terms also finds what the group's other terms find. Articles are indexed as written, so a change of a group
applies to the next search, with no re-indexing.

A term is folded by the search tokenizer (full-width, case, Traditional) and must be one run of it: one Latin/digit
word or one run of Chinese characters, the unit a query is cut into. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from app.domain.errors import Conflict, FieldError, InvalidInput
from app.domain.kb_tokens import Span, fold, runs
from app.domain.pagination import Page, PageRequest

MIN_TERMS, MAX_TERMS = 2, 20
MAX_TERM = 32


@dataclass(frozen=True, slots=True)
class SynonymGroup:
    id: UUID
    terms: tuple[str, ...]
    """Folded, distinct, in the order sent."""
    version: int
    created_at: datetime
    updated_at: datetime


def folded_terms(sent: Sequence[str]) -> tuple[str, ...]:
    """The group's terms folded; raises InvalidInput naming each refused term by its pointer (`/terms/2`)."""
    errors: list[FieldError] = []
    if not MIN_TERMS <= len(sent) <= MAX_TERMS:
        errors.append(FieldError("/terms", f"a group holds {MIN_TERMS} to {MAX_TERMS} terms, not {len(sent)}"))
    folded: list[str] = []
    first_at: dict[str, int] = {}
    for index, term in enumerate(sent):
        pointer = f"/terms/{index}"
        word = fold(term)
        cut = runs(word)
        if not 1 <= len(term) <= MAX_TERM:
            errors.append(FieldError(pointer, f"a term is 1 to {MAX_TERM} characters"))
        elif not cut:
            errors.append(FieldError(pointer, "holds no letter, digit or Chinese character"))
        elif len(cut) > 1 or cut[0] != word:
            errors.append(
                FieldError(pointer, f"must be one word or one Chinese run, as a query is cut: {' '.join(cut)!r}")
            )
        elif len(word) > MAX_TERM:
            errors.append(FieldError(pointer, f"is longer than {MAX_TERM} characters once folded"))
        elif word in first_at:
            errors.append(FieldError(pointer, f"repeats /terms/{first_at[word]}: both read {word!r} once folded"))
        else:
            first_at[word] = index
            folded.append(word)
    if errors:
        raise InvalidInput("The synonym group cannot be used as sent", code="validation_failed", errors=errors)
    return tuple(folded)


def term_taken(term: str, group_id: UUID) -> Conflict:
    return Conflict(
        f"The term {term!r} is in synonym group {group_id} already: a term belongs to one group",
        code="synonym_term_taken",
        extra={"term": term, "group_id": str(group_id)},
    )


@dataclass(frozen=True, slots=True)
class Thesaurus:
    """Every group's terms by term: what a query span expands to."""

    by_term: Mapping[str, tuple[str, ...]]

    @classmethod
    def of(cls, groups: Iterable[tuple[str, ...]]) -> Thesaurus:
        return cls({term: terms for terms in groups for term in terms})

    def others(self, span: Span) -> tuple[Span, ...]:
        """The spans a query span also searches as: its group's other terms (none when it is in no group)."""
        return tuple(Span(term) for term in self.by_term.get(span.text, ()) if term != span.text)


NO_SYNONYMS = Thesaurus({})


class SynonymRepository(Protocol):
    async def lock(self) -> None:
        """Hold the synonyms' write lock to the end of the transaction: term checks of concurrent writers queue."""
        ...

    async def get(self, group_id: UUID, *, for_update: bool = False) -> SynonymGroup | None: ...
    async def holders(self, terms: Sequence[str]) -> dict[str, UUID]:
        """Which group holds each of `terms` that any group holds."""
        ...

    async def add(self, group: SynonymGroup) -> None: ...
    async def update(self, group: SynonymGroup) -> None: ...
    async def delete(self, group_id: UUID) -> None: ...
    async def list(self, page: PageRequest) -> Page[SynonymGroup]:
        """Newest first."""
        ...

    async def all_terms(self) -> list[tuple[str, ...]]:
        """Every group's terms: what search expands queries with."""
        ...
