"""Alembic, driven from code: upgrade to head, and tell which revision a database is at."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.persistence.database import Database

# Beside the package in a checkout; in the working directory where the package is installed (the image).
_CANDIDATES = (Path(__file__).resolve().parents[2] / "migrations", Path.cwd() / "migrations")
MIGRATIONS_DIR = next((path for path in _CANDIDATES if (path / "env.py").exists()), _CANDIDATES[0])


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    """Apply every pending migration (blocking; the async env runs its own event loop)."""
    command.upgrade(alembic_config(database_url), "head")


@cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


class DatabaseSchemaProbe:
    def __init__(self, database: Database) -> None:
        self._database = database

    def head_revision(self) -> str:
        return head_revision()

    async def current_revision(self) -> str | None:
        async with self._database.engine.connect() as conn:
            try:
                return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            except DBAPIError:
                return None  # no alembic_version table: never migrated
