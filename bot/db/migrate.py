"""Alembic, driven from code so `run` migrates without a separate step."""
from __future__ import annotations

import asyncio
import contextlib
import fcntl
import re
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bot.db.engine import ensure_sqlite_folder, make_engine

MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)


def alembic_config(database_url: str):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    return config


def head_revisions() -> frozenset[str]:
    """The newest revisions, read from the migration files without importing Alembic: one,
    or several while branches added side by side are not yet chained."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revisions.update(_REVISION.findall(source))
        parents.update(_DOWN_REVISION.findall(source))
    return frozenset(revisions - parents)


async def _current_revisions(database_url: str) -> frozenset[str] | None:
    engine = make_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return frozenset(result.scalars())
    except Exception:  # no database or no version table yet: Alembic will create them
        return None
    finally:
        await engine.dispose()


@contextlib.contextmanager
def _sqlite_migration_lock(database_url: str):
    """Processes starting at once on one SQLite file migrate one after another. (PostgreSQL
    takes an advisory lock inside the migration's transaction: see migrations/env.py.)"""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        yield
        return
    with open(f"{url.database}.migrate-lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade_database(database_url: str, revision: str = "head") -> None:
    """Bring the schema to `revision`. Must be called with no event loop running in this thread.

    A database already at the newest revision is left alone without loading Alembic, which
    keeps the bot's start fast."""
    ensure_sqlite_folder(database_url)
    if revision == "head":
        heads = head_revisions()
        if asyncio.run(_current_revisions(database_url)) == heads:
            return
        revision = "heads" if len(heads) > 1 else revision
    from alembic import command

    with _sqlite_migration_lock(database_url):
        command.upgrade(alembic_config(database_url), revision)
