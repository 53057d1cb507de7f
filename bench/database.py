"""The bot's database before and after: a fresh one for the run, rows per table afterwards."""
from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

# Every table the bot writes to (bot/db/models.py).
TABLES = ("users", "interactions", "requests", "request_messages", "flow_states",
          "staff_members", "audit_log")


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def _sqlite_path(url: str) -> Path:
    return Path(url.split(":///", 1)[1])


def _plain_postgres(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def reset_postgres(url: str) -> None:
    """An empty schema, as tests/conftest.py makes; the bot migrates it when it starts."""
    import asyncpg

    connection = await asyncpg.connect(_plain_postgres(url), timeout=5)
    try:
        await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


async def count_rows(url: str) -> dict[str, int | None]:
    """Rows per table now (None: no such table). Call it after the bot stopped, so its
    batched interaction log has been flushed."""
    if url.startswith("sqlite"):
        return await asyncio.to_thread(_count_sqlite, _sqlite_path(url))
    import asyncpg

    connection = await asyncpg.connect(_plain_postgres(url), timeout=5)
    try:
        counts: dict[str, int | None] = {}
        for table in TABLES:
            exists = await connection.fetchval("SELECT to_regclass($1)", f"public.{table}")
            counts[table] = (await connection.fetchval(f"SELECT count(*) FROM {table}")
                             if exists else None)
        return counts
    finally:
        await connection.close()


def _count_sqlite(path: Path) -> dict[str, int | None]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        present = {name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {table: (connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                        if table in present else None) for table in TABLES}
    finally:
        connection.close()


def database_bytes(url: str) -> int | None:
    """Size of the SQLite file with its journal; None for PostgreSQL."""
    if not url.startswith("sqlite"):
        return None
    path = _sqlite_path(url)
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal"))
               if p.exists())
