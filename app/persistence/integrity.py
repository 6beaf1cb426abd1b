"""What a database integrity error means to the caller: a duplicate (unique violation, 409), a reference to
something that does not exist (foreign-key violation, 422), or another broken constraint (422). Both databases
report these differently (PostgreSQL: SQLSTATE and the key's columns; SQLite: extended error names and a message),
so they are read here, once, and never shown raw: a problem names the table and columns, not values or SQL."""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError

from app.domain.errors import Conflict, DomainError, FieldError, InvalidInput
from app.persistence.tables import metadata

_PG_KEY_COLUMNS = re.compile(r"Key \(([^)]*)\)=")
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)$")
_STATEMENT_TABLE = re.compile(r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)\"?", re.I)


def integrity_problem(error: IntegrityError) -> DomainError:
    """The domain error an integrity error stands for."""
    kind, table, columns = _reading(error)
    if kind == "unique":
        names = ", ".join(columns) or "its key"
        return Conflict(
            f"A {table or 'record'} with the same {names} already exists",
            code="duplicate",
            extra={"resource": table, "fields": columns},
        )
    if kind == "foreign_key":
        names = " or ".join(columns) or "a reference"
        return InvalidInput(
            f"{names} refers to something that does not exist",
            code="unknown_reference",
            errors=[FieldError(f"/{column}", "refers to something that does not exist") for column in columns],
            extra={"resource": table, "fields": columns},
        )
    return InvalidInput(
        f"The change breaks a rule of the stored {table or 'data'}",
        code="constraint_violated",
        extra={"resource": table},
    )


def _reading(error: IntegrityError) -> tuple[str, str | None, list[str]]:
    """(kind, table, columns) from either driver; kind is unique, foreign_key or other."""
    driver = error.orig
    sqlstate = getattr(driver, "sqlstate", None)
    if sqlstate is not None:  # PostgreSQL through asyncpg: the original asyncpg error carries the details
        details = driver.__cause__ if driver is not None and driver.__cause__ is not None else driver
        match = _PG_KEY_COLUMNS.search(getattr(details, "detail", None) or "")
        columns = [c.strip().strip('"') for c in match.group(1).split(",")] if match else []
        kind = {"23505": "unique", "23503": "foreign_key"}.get(sqlstate, "other")
        return kind, getattr(details, "table_name", None), columns
    name, message = getattr(driver, "sqlite_errorname", ""), str(driver)
    table = _statement_table(error.statement)
    if name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"):
        match = _SQLITE_UNIQUE.search(message)
        qualified = [part.strip() for part in match.group(1).split(",")] if match else []
        return "unique", qualified[0].split(".")[0] if qualified else table, [q.split(".")[-1] for q in qualified]
    if name == "SQLITE_CONSTRAINT_FOREIGNKEY":
        return "foreign_key", table, _foreign_key_columns(table)  # SQLite does not say which key failed
    return "other", table, []


def _statement_table(statement: str | None) -> str | None:
    match = _STATEMENT_TABLE.match(statement or "")
    return match.group(1) if match else None


def _foreign_key_columns(table: str | None) -> list[str]:
    found = metadata.tables.get(table or "")
    return sorted({key.parent.name for key in found.foreign_keys}) if found is not None else []
