"""Synonym group contract: the terms that search as each other."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import ConfigDict, Field

from app.domain.kb_synonyms import MAX_TERM, MAX_TERMS, MIN_TERMS, SynonymGroup
from app.schemas.common import Input, Output

Term = Annotated[str, Field(min_length=1, max_length=MAX_TERM)]


class SynonymGroupIn(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"terms": ["退款", "退钱", "refund"]}]})

    terms: list[Term] = Field(
        min_length=MIN_TERMS,
        max_length=MAX_TERMS,
        description="Equivalent terms, each one word or one Chinese run; a term sits in one group at most.",
    )


class SynonymGroupOut(Output):
    id: UUID
    terms: list[str] = Field(description="The terms as search folds them (full-width, case, Traditional).")
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, group: SynonymGroup) -> SynonymGroupOut:
        return cls(
            id=group.id,
            terms=list(group.terms),
            version=group.version,
            created_at=group.created_at,
            updated_at=group.updated_at,
        )
