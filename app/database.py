"""Engine, sessions and transactions on SQLite (aiosqlite) and PostgreSQL (asyncpg).

Reads use short sessions (one per dataloader batch: an `AsyncSession` cannot be
shared by resolvers running concurrently). Writes go through `transaction()`,
which on SQLite starts with `BEGIN IMMEDIATE` so that two writers queue on the
database lock instead of failing half-way with SQLITE_BUSY.

On PostgreSQL a transaction can still be chosen as a deadlock victim or fail to
serialise; it is then rolled back whole, and running it again is safe:
`retrying` does so for a whole unit of work (a mutation, an upkeep job),
`run_transaction` for one transaction. Writers lock rows in one order
(`app.inventory.locking`), so this is the last line of defence, not the plan.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import DomainError, ErrorCode, fail
from app.settings import Settings

# aiosqlite's debug log echoes every statement with its parameters (emails, password
# hashes): never let it through, whatever LOG_LEVEL says.
logging.getLogger("aiosqlite").setLevel(logging.INFO)

T = TypeVar("T")

_AFTER_COMMIT = "commerce.after_commit"
_CHANGED = "commerce.changed"
_SIGNALS = "commerce.signals"

log = logging.getLogger("commerce.database")

# deadlock_detected, serialization_failure: the server rolled the transaction back.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
RETRY_ATTEMPTS = 4
# First pause before a retry, doubled each time and jittered so victims do not collide again.
RETRY_BACKOFF_SECONDS = 0.02

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
        self._change_listeners: list[Callable[[str], Awaitable[None]]] = []
        self._signal_handlers: dict[str, list[Callable[[list[Any]], Awaitable[None]]]] = {}
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

    def on_change(self, listener: Callable[[str], Awaitable[None]]) -> None:
        """`listener(topic)` runs after every commit of a transaction that `changed` the topic."""
        self._change_listeners.append(listener)

    def on_signal(self, channel: str, handler: Callable[[list[Any]], Awaitable[None]]) -> None:
        """`handler(items)` runs after every commit of a transaction that `signal`led items on
        `channel` (all of them, in the order signalled). Handlers must return quickly: they
        run before the request that committed answers."""
        self._signal_handlers.setdefault(channel, []).append(handler)

    def session(self) -> AsyncSession:
        """A session for reading; use as `async with db.session() as s:`."""
        return self._read()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed on success, rolled back on any exception.
        What was registered with `after_commit` runs once it has committed."""
        async with AsyncExitStack() as stack:
            if self._write_lock is not None:
                await stack.enter_async_context(self._write_lock)
            session = await stack.enter_async_context(self._write())
            await stack.enter_async_context(session.begin())
            yield session
        for hook in session.info.pop(_AFTER_COMMIT, []):
            await hook()
        for topic in sorted(session.info.pop(_CHANGED, ())):
            for listener in self._change_listeners:
                await listener(topic)
        for channel, items in session.info.pop(_SIGNALS, {}).items():
            for handler in self._signal_handlers.get(channel, ()):
                await handler(items)

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self)

    async def run_transaction(self, work: Callable[[AsyncSession], Awaitable[T]], what: str) -> T:
        """`work` in one write transaction, run again from the start if it is rolled back
        as a deadlock victim or a serialisation failure."""

        async def attempt() -> T:
            async with self.transaction() as session:
                return await work(session)

        return await retrying(attempt, what)

    async def dispose(self) -> None:
        await self.engine.dispose()


class UnitOfWork:
    """The one write transaction of a whole operation (a mutation), opened by its first
    write and ended by whoever made the unit: committed when the operation succeeded,
    rolled back when it failed. Work done before the first write (a password hash, say)
    holds no transaction open."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._stack: AsyncExitStack | None = None
        self._session: AsyncSession | None = None

    async def session(self) -> AsyncSession:
        if self._session is None:
            stack = AsyncExitStack()
            self._session = await stack.enter_async_context(self._db.transaction())
            self._stack = stack
        return self._session

    async def end(self, error: BaseException | None = None) -> None:
        """Commits (no `error`) or rolls back; a failing commit raises here."""
        stack, self._stack, self._session = self._stack, None, None
        if stack is None:
            return
        if error is None:
            await stack.aclose()
        else:
            await stack.__aexit__(type(error), error, error.__traceback__)


def after_commit(session: AsyncSession, hook: Callable[[], Awaitable[None]]) -> None:
    """Run `hook` once the transaction `session` belongs to has committed (and never if
    it rolls back): cache invalidation and anything else other processes must not see
    before the data is there."""
    session.info.setdefault(_AFTER_COMMIT, []).append(hook)


def changed(session: AsyncSession, topic: str) -> None:
    """Record that the transaction `session` belongs to changes `topic` (a cache family, such
    as what the storefront shows). However many writes say so, the database's change
    listeners hear of each topic once, after the commit (never after a rollback)."""
    session.info.setdefault(_CHANGED, set()).add(topic)


def signal(session: AsyncSession, channel: str, item: Any) -> None:
    """Tell the database's handlers of `channel` (`Database.on_signal`) about `item` once the
    transaction `session` belongs to has committed; never if it rolls back. A domain that
    must hand work to a service it does not know (mail delivery) signals it this way."""
    session.info.setdefault(_SIGNALS, {}).setdefault(channel, []).append(item)


def sqlstate(exc: BaseException) -> str | None:
    """The PostgreSQL error code behind a database error (None for other errors)."""
    if not isinstance(exc, DBAPIError):
        return None
    # SQLAlchemy's asyncpg adapter copies the code; the driver's own error is its cause.
    for error in (exc.orig, getattr(exc.orig, "__cause__", None)):
        code = getattr(error, "sqlstate", None)
        if isinstance(code, str):
            return code
    return None


def is_retryable(exc: BaseException) -> bool:
    """True when the database rolled the whole transaction back because of other
    transactions (deadlock, serialisation failure): the same work may succeed if run again.

    SQLite never says so: its writers are queued in the process (`Database.transaction`).
    """
    return sqlstate(exc) in RETRYABLE_SQLSTATES


async def retrying(run: Callable[[], Awaitable[T]], what: str) -> T:
    """`run()`, run again after a short jittered pause when it fails with a retryable error
    (`is_retryable`), up to RETRY_ATTEMPTS times in all; the last error propagates.

    `run` must open its own transactions, so that nothing of a failed attempt remains.
    """
    attempt = 1
    while True:
        try:
            return await run()
        except DBAPIError as exc:
            if attempt >= RETRY_ATTEMPTS or not is_retryable(exc):
                raise
            pause = RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
            log.warning(
                "%s: transaction rolled back (SQLSTATE %s), attempt %d of %d; retrying in %.0f ms",
                what, sqlstate(exc), attempt, RETRY_ATTEMPTS, pause * 1000,
            )  # fmt: skip
            await asyncio.sleep(pause)
            attempt += 1


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


def upsert(session: AsyncSession) -> Any:
    """INSERT ... ON CONFLICT, as this session's database spells it."""
    assert session.bind is not None
    return pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert


def written(row: Any, **values: Any) -> None:
    """Tells a loaded row what a statement of ours (a conditional UPDATE ... RETURNING)
    has already written to it, so that the session does not write it again."""
    for name, value in values.items():
        set_committed_value(row, name, value)
