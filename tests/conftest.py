"""Shared fixtures: a migrated database (SQLite and PostgreSQL) and the real Application."""
from __future__ import annotations

import asyncio
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from telegram import Update
from telegram.ext import Application

from bot.app import build_application
from bot.db.migrate import upgrade_database
from bot.runner import Dispatcher
from bot.settings import Settings, load_settings
from tests.support.botprocess import stop_leftovers
from tests.support.recording import RecordingRequest

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL",
                              "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
TEST_TOKEN = "123456:TEST-token-never-printed"


def run_in_thread(function, *args):
    """Run sync code that may start its own event loop (Alembic's env does) off this loop."""
    result: dict = {}

    def target() -> None:
        try:
            result["value"] = function(*args)
        except BaseException as exc:  # re-raised in the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result.get("value")


async def _reset_postgres() -> None:
    import asyncpg

    url = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(url, timeout=3)
    try:
        await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


def postgres_available() -> bool:
    try:
        run_in_thread(asyncio.run, _reset_postgres())
    except Exception:
        return False
    return True


def fresh_database(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    else:
        if not postgres_available():
            if os.environ.get("CI"):
                pytest.fail(f"PostgreSQL is unreachable at {POSTGRES_URL}: CI must test it")
            pytest.skip("PostgreSQL is not reachable")
        url = POSTGRES_URL
    run_in_thread(upgrade_database, url)
    return url


@pytest.fixture(autouse=True)
def no_bot_outlives_its_test():
    """A bot left running by a failed test would claim the next tests' updates and jobs from
    the shared PostgreSQL database: every test ends with none."""
    yield
    stop_leftovers()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    return fresh_database(request.param, tmp_path)


def make_settings(database_url: str, **overrides) -> Settings:
    values = dict(telegram_bot_token=TEST_TOKEN, telegram_api_url="http://telegram.invalid",
                  database_url=database_url, content_dir=ROOT / "content",
                  locales_dir=ROOT / "locales", default_locale="uz", _env_file=None)
    values.update(overrides)
    return load_settings(**values)


@dataclass
class Harness:
    """The real Application behind the real inbox and dispatcher, minus the network."""

    app: Application
    request: RecordingRequest
    dispatcher: Dispatcher
    loops: list[asyncio.Task]

    @property
    def bot(self):
        return self.app.bot

    @property
    def services(self):
        return self.app.bot_data["services"]

    async def feed(self, update: Update) -> None:
        """Deliver the update as Telegram would and return once it is handled."""
        handled = self.dispatcher.finished(update.update_id)
        await self.dispatcher.store([update.to_dict()])
        await asyncio.wait_for(handled, FEED_TIMEOUT)


FEED_TIMEOUT = 30


async def start_harness(settings: Settings, request: RecordingRequest | None = None) -> Harness:
    request = request or RecordingRequest()
    app = build_application(settings, request=request)
    await app.initialize()
    await app.post_init(app)
    request.clear()
    dispatcher = Dispatcher(app, app.bot_data["services"].inbox)
    return Harness(app, request, dispatcher, [asyncio.create_task(dispatcher.run())])


async def stop_harness(harness: Harness) -> None:
    await harness.dispatcher.drain()
    for task in harness.loops:
        task.cancel()
    await asyncio.gather(*harness.loops, return_exceptions=True)
    await harness.app.post_shutdown(harness.app)
    await harness.app.shutdown()


@pytest.fixture
async def harness(db_url) -> Harness:
    started = await start_harness(make_settings(db_url))
    yield started
    await stop_harness(started)
