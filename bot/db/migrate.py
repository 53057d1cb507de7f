"""Alembic, driven from code so `run` migrates without a separate step."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from bot.db.engine import ensure_sqlite_folder

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    return config


def upgrade_database(database_url: str, revision: str = "head") -> None:
    """Bring the schema to `revision`. Must be called with no event loop running in this thread."""
    ensure_sqlite_folder(database_url)
    command.upgrade(alembic_config(database_url), revision)
