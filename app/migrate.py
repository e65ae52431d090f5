"""Applies alembic migrations from inside the running event loop."""

from __future__ import annotations

import warnings
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations

_SCRIPT_LOCATION = str(Path(migrations.__file__).parent)

# Full-text search objects are created by migrations but are not on the metadata.
_UNMANAGED_TABLES = {"product_search"}
_UNMANAGED_COLUMNS = {("product", "search_vector")}


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, _compare_to: object
) -> bool:
    """What autogenerate compares: everything but the database-specific search objects."""
    if type_ == "table" and (
        name in _UNMANAGED_TABLES or (name or "").startswith("product_search_")
    ):
        return False
    if type_ == "column" and reflected:
        table = getattr(getattr(obj, "table", None), "name", None)
        return (table, name) not in _UNMANAGED_COLUMNS
    return not (type_ == "index" and name == "ix_product_search_vector")


async def drift(engine: AsyncEngine) -> list[object]:
    """Differences between the migrated database and the models (empty when in step)."""
    import app.models  # noqa: F401 - registers every table on the metadata
    from app.columns import metadata

    def _compare(connection: Connection) -> list[object]:
        context = MigrationContext.configure(
            connection,
            opts={"include_object": include_object, "compare_type": True},
        )
        with warnings.catch_warnings():
            # Expression indexes (lower(name)) are not reflected; the migration owns them.
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
            warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression")
            return list(compare_metadata(context, metadata))

    async with engine.connect() as connection:
        return await connection.run_sync(_compare)


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
