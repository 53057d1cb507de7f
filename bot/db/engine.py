"""Engines and sessions, made in `post_init` and disposed in `post_shutdown`."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 5000
# A lookup blocks the event loop while it waits: it gives up soon and the caller copes.
SQLITE_READER_BUSY_TIMEOUT_MS = 200
T = TypeVar("T")
# What a database that is away or locked raises; callers keep their data and try again.
DATABASE_ERRORS = (OperationalError, DBAPIError, OSError, ConnectionError)


def _is_sqlite_file(url) -> bool:
    return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")


def ensure_sqlite_folder(database_url: str) -> None:
    url = make_url(database_url)
    if _is_sqlite_file(url):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _tune_sqlite(dbapi_connection, _record) -> None:
    # WAL lets readers run beside the writer; busy_timeout waits out a briefly locked file.
    # The driver's own deferred BEGIN is switched off: see _begin_immediate.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin_immediate(connection) -> None:
    """Take the write lock when a transaction starts. A deferred transaction that reads and
    then writes fails at once with "database is locked" when another connection wrote in
    between, without waiting for the busy timeout; an immediate one waits its turn."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(database_url: str, **options) -> AsyncEngine:
    ensure_sqlite_folder(database_url)
    if make_url(database_url).get_backend_name() == "sqlite":
        # SQLite has one writer at a time. One connection makes this process's transactions
        # queue in the pool, in order, instead of contending for the file lock; the busy
        # timeout then only waits out other processes.
        if "poolclass" not in options:
            options.update(pool_size=1, max_overflow=0, pool_timeout=60)
        engine = create_async_engine(database_url, **options)
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
        return engine
    return create_async_engine(database_url, pool_pre_ping=True, **options)


def _tune_sqlite_reader(dbapi_connection, _record) -> None:
    # Autocommit: each lookup is one statement on its own snapshot, with no BEGIN to send.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_READER_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


class Reader:
    """Lookups by key on the hot path (a user, a draft): `await reader.run(work)` with
    `work(session)` a plain synchronous function.

    SQLite file: a read-only connection used in the event loop's own thread. A lookup by
    key takes microseconds, far less than handing it to the driver's thread and back, which
    under load waits for the busy loop several times per query; and in WAL mode a reader
    never waits for the writer. Other databases (and an in-memory SQLite, which a second
    connection could not see): the given async sessions."""

    def __init__(self, database_url: str, sessions: async_sessionmaker) -> None:
        self._sessions = sessions
        self._engine = None
        url = make_url(database_url)
        if _is_sqlite_file(url):
            self._engine = create_engine(url.set(drivername="sqlite"), pool_size=1,
                                         max_overflow=0)
            event.listen(self._engine, "connect", _tune_sqlite_reader)
            self._local = sessionmaker(self._engine, expire_on_commit=False)

    async def run(self, work: Callable[[Session], T]) -> T:
        if self._engine is None:
            async with self._sessions() as session:
                return await session.run_sync(work)
        with self._local() as session:
            return work(session)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)
