"""Applies alembic migrations from inside the running event loop."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations

_SCRIPT_LOCATION = str(Path(migrations.__file__).parent)


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", _SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as connection:
        await connection.run_sync(lambda c: command.upgrade(_config(c), revision))


async def pending(engine: AsyncEngine) -> list[str]:
    """Revisions not yet applied, oldest first."""

    def _pending(connection: Connection) -> list[str]:
        current = set(MigrationContext.configure(connection).get_current_heads())
        script = ScriptDirectory.from_config(_config())
        return [
            rev.revision
            for rev in reversed(list(script.walk_revisions()))
            if not current or rev.revision not in _applied(script, current)
        ]

    async with engine.connect() as connection:
        return await connection.run_sync(_pending)


def _applied(script: ScriptDirectory, heads: set[str]) -> set[str]:
    applied: set[str] = set()
    for head in heads:
        applied.update(rev.revision for rev in script.iterate_revisions(head, "base"))
    return applied
