"""Engines and sessions, made in `post_init` and disposed in `post_shutdown`."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 5000
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
    # SQLite's own lower() knows only ASCII: searching staff cases in Russian or Uzbek
    # Cyrillic needs Python's, as PostgreSQL's lower() already is.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value):
    return value.lower() if isinstance(value, str) else value


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


class Transactions:
    """`await transactions.run(work)` runs `work(session)`, plain synchronous SQLAlchemy, in
    one transaction: for the inbox, which every update passes through twice.

    On a SQLite file it runs in a thread of its own with the standard sqlite3 driver: one
    hand-over per transaction. Through aiosqlite each statement costs four hand-overs between
    threads, about a millisecond together, and an update's bookkeeping took ~17 ms (measured
    with `bench/`'s defaults). Elsewhere (PostgreSQL) `work` runs on the async engine, whose
    driver answers in the event loop."""

    def __init__(self, database_url: str, sessions: async_sessionmaker) -> None:
        self._sessions = sessions
        self._thread: ThreadPoolExecutor | None = None
        url = make_url(database_url)
        if _is_sqlite_file(url):
            engine = create_engine(url.set(drivername="sqlite"), pool_size=1, max_overflow=0)
            event.listen(engine, "connect", _tune_sqlite)
            event.listen(engine, "begin", _begin_immediate)
            self._engine = engine
            self._local = sessionmaker(engine, expire_on_commit=False)
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")

    async def run(self, work: Callable[[Session], T]) -> T:
        if self._thread is None:
            async with self._sessions.begin() as session:
                return await session.run_sync(work)
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._in_thread, work)

    def _in_thread(self, work: Callable[[Session], T]) -> T:
        with self._local.begin() as session:
            return work(session)

    def close(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._engine.dispose()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)
