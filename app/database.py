"""Engine, sessions and transactions on SQLite (aiosqlite) and PostgreSQL (asyncpg).

Reads use short sessions (one per dataloader batch: an `AsyncSession` cannot be
shared by resolvers running concurrently). Writes go through `transaction()`,
which on SQLite starts with `BEGIN IMMEDIATE` so that two writers queue on the
database lock instead of failing half-way with SQLITE_BUSY.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import DomainError, ErrorCode, fail
from app.settings import Settings

# aiosqlite's debug log echoes every statement with its parameters (emails, password
# hashes): never let it through, whatever LOG_LEVEL says.
logging.getLogger("aiosqlite").setLevel(logging.INFO)

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)


@dataclass
class StatementCounter:
    """Counts SQL statements sent to the database (transaction control excluded)."""

    total: int = 0
    statements: list[str] = field(default_factory=list)
    keep_text: bool = False

    def add(self, statement: str) -> None:
        self.total += 1
        if self.keep_text:
            self.statements.append(statement)


# Per-request counter, set by the HTTP layer; lets logs and benchmarks attribute
# statements to one request even when requests run concurrently.
request_statements: contextvars.ContextVar[StatementCounter | None] = contextvars.ContextVar(
    "request_statements", default=None
)


class Database:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.counter = StatementCounter()
        _install_listeners(engine, self.counter)
        self._read = async_sessionmaker(
            engine, class_=AsyncSession, expire_on_commit=False, autoflush=False
        )
        # SQLite has one writer at a time: queue writers here rather than have them
        # spin on the file lock in driver threads (and time out under a rush).
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None
        write_engine = engine.execution_options(sqlite_begin="IMMEDIATE")
        self._write = async_sessionmaker(
            write_engine, class_=AsyncSession, expire_on_commit=False, autoflush=False
        )

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def session(self) -> AsyncSession:
        """A session for reading; use as `async with db.session() as s:`."""
        return self._read()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed on success, rolled back on any exception."""
        if self._write_lock is None:
            async with self._write() as session, session.begin():
                yield session
            return
        async with self._write_lock, self._write() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


def create_engine(settings: Settings, **kwargs: Any) -> AsyncEngine:
    # Bind parameters hold customers' emails, names and password hashes: they must not
    # reach the logs with a failed statement.
    kwargs.setdefault("hide_parameters", True)
    if settings.is_sqlite:
        return create_async_engine(settings.database_url, **kwargs)
    options: dict[str, Any] = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_pool_size,
        "pool_pre_ping": True,
        "pool_recycle": 1800,
    }
    options.update(kwargs)
    return create_async_engine(settings.database_url, **options)


def _install_listeners(engine: AsyncEngine, counter: StatementCounter) -> None:
    sync_engine = engine.sync_engine

    if engine.dialect.name == "sqlite":

        @event.listens_for(sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # SQLAlchemy emits BEGIN itself (below); the driver's own transaction
            # handling would skip BEGIN before SELECTs.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            for pragma in _SQLITE_PRAGMAS:
                cursor.execute(pragma)
            cursor.close()

        @event.listens_for(sync_engine, "begin")
        def _on_begin(conn: Connection) -> None:
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _count(
        _conn: Connection, _cursor: Any, statement: str, _params: Any, _ctx: Any, _many: bool
    ) -> None:
        if statement.startswith("BEGIN"):
            return
        counter.add(statement)
        per_request = request_statements.get()
        if per_request is not None:
            per_request.add(statement)


async def flush_unique(
    session: AsyncSession, *field: str, conflict: DomainError | None = None
) -> None:
    """Flush; a unique-constraint race lost to a concurrent writer becomes `conflict`
    (ALREADY_EXISTS by default), and the surrounding transaction rolls back."""
    try:
        await session.flush()
    except IntegrityError:
        raise conflict or fail(
            ErrorCode.ALREADY_EXISTS, "a value that must be unique is already used", *field
        ) from None
