"""Alembic environment: async engine, batch mode so ALTERs also work on SQLite."""
import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from bot.db.engine import make_engine
from bot.db.models import Base

config = context.config
target_metadata = Base.metadata
MIGRATION_LOCK_KEY = 0x6D696772  # "migr"


def _configure_and_run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Several processes may start at once on a new database: one migrates, the others
            # wait here, then find the schema current. (SQLite: see bot.db.migrate.)
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": MIGRATION_LOCK_KEY})
        context.run_migrations()


async def _run_online() -> None:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    engine = make_engine(url, poolclass=NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_configure_and_run)
    await engine.dispose()


def _run_offline() -> None:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
else:
    asyncio.run(_run_online())
