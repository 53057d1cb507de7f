"""Engines and sessions, made in `post_init` and disposed in `post_shutdown`."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 5000
READER_CONNECTIONS = 2


def ensure_sqlite_folder(database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
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
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def make_read_engine(database_url: str, writer: AsyncEngine) -> AsyncEngine:
    """For lookups on the hot path. SQLite: a small pool of read-only connections that, in
    WAL mode, read beside the one writer instead of queueing behind a batch it is writing.
    Other databases (and an in-memory SQLite, which a second pool could not see) read
    through the writer's pool."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return writer
    engine = create_async_engine(database_url, pool_size=READER_CONNECTIONS, max_overflow=0,
                                 pool_timeout=60)
    event.listen(engine.sync_engine, "connect", _tune_sqlite_reader)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)
