"""Legal hold contract (法律保全): a held file is kept from every retention deletion."""

from __future__ import annotations

from pydantic import ConfigDict, Field, StrictBool

from app.schemas.common import Input


class LegalHoldIn(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"legal_hold": True}]})

    legal_hold: StrictBool = Field(description="true: hold the file; false: release it to retention again.")
