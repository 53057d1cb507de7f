"""Running the bot: updates arrive (long polling, or a webhook behind any load balancer), are
stored in the inbox before Telegram hears they arrived, and are handled by whichever process
claims them. Every process runs the same loops; the database decides who does what."""
from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import signal
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import text
from telegram import Update
from telegram.error import Conflict, TelegramError, TimedOut
from telegram.ext import Application

from bot.context import CURRENT_UNIT, UNITS, BotContext
from bot.db.engine import DATABASE_ERRORS
from bot.handlers.deadlines import send_claimed_reminder
from bot.handlers.broadcast import send_claimed_announcement
from bot.handlers.satisfaction import send_claimed_question
from bot.handlers.staff_relay import post_claimed_card, send_claimed_answer, update_claimed_card
from bot.services.announcements import ANNOUNCEMENT
from bot.services.container import Services
from bot.services.inbox import LEASE, Claimed, Inbox, Unit
from bot.services.deadlines import REMINDER
from bot.services.requests import ANSWER, CARD, CARD_UPDATE, SATISFACTION
from bot.settings import Settings

log = logging.getLogger(__name__)

MAX_CONCURRENT_UPDATES = 64
CLAIM_BATCH = 32
# How often an idle process looks for updates it was not told about: those another process
# stored, or whose holder died.
IDLE_POLL_SECONDS = 0.5
FINISH_RETRY_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)
DRAIN_SECONDS = 10.0
LONG_POLL_SECONDS = 25
JOB_TICK_SECONDS = 5.0
HEALTH_PATH = "/healthz"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class Dispatcher:
    """Has the Application handle claimed updates, many users at once, each user's in order.
    Updates are claimed with every commit of the inbox (see Inbox); an idle process also
    looks now and then for updates it was not told about (stored by another process, or
    left by one that died)."""

    def __init__(self, application: Application, inbox: Inbox,
                 concurrency: int = MAX_CONCURRENT_UPDATES) -> None:
        self._application = application
        self._inbox = inbox
        self._concurrency = concurrency
        self._units: dict[int, Unit] = application.bot_data.setdefault(UNITS, {})
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        self._stopping = False
        self._finishing = 0  # tasks whose update is being marked done: their place is free
        self._finished: dict[int, asyncio.Future] = {}
        inbox.room = lambda: self.room
        inbox.on_claimed = self.start

    @property
    def room(self) -> int:
        if self._stopping:
            return 0
        busy = len(self._tasks) - self._finishing
        return max(0, min(self._concurrency - busy, CLAIM_BATCH))

    def wake(self) -> None:
        self._wake.set()

    def start(self, claimed: list[Claimed]) -> None:
        for item in claimed:
            task = asyncio.create_task(self._handle(item))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def store(self, payloads: list[dict]) -> None:
        """Store updates; raises if the database cannot take them. Those ready start."""
        await self._inbox.put(payloads)

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), IDLE_POLL_SECONDS)
            if self.room <= 0:
                continue
            try:
                self.start(await self._inbox.claim(self.room))
            except DATABASE_ERRORS as exc:
                log.warning("could not claim updates, trying again: %s", exc)
                await asyncio.sleep(1)

    async def keep_leases(self) -> None:
        while True:
            await asyncio.sleep(LEASE.total_seconds() / 4)
            if self._tasks:
                try:
                    await self._inbox.extend_leases()
                except DATABASE_ERRORS as exc:
                    log.warning("could not extend leases: %s", exc)

    async def drain(self, timeout: float = DRAIN_SECONDS) -> None:
        """Stop claiming and let the updates in hand finish; what does not finish in time is
        taken by another process once its lease runs out."""
        self._stopping = True
        self.wake()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    def finished(self, update_id: int) -> asyncio.Future:
        """For tests and tools: done when this process has finished the update."""
        return self._finished.setdefault(update_id, asyncio.get_running_loop().create_future())

    async def _handle(self, claimed: Claimed) -> None:
        unit = claimed.unit
        self._units[unit.update_id] = unit
        CURRENT_UNIT.set(unit)  # this task's own context: what the bot sends goes to the unit
        try:
            update = Update.de_json(claimed.payload, self._application.bot)
            await self._application.process_update(update)
        except Exception:  # noqa: BLE001 - handler errors go to the error handler; this is the rest
            log.exception("update %s could not be handled", unit.update_id)
        finally:
            self._units.pop(unit.update_id, None)
            CURRENT_UNIT.set(None)
        await self._finish(unit)

    async def _finish(self, unit: Unit) -> None:
        self._finishing += 1
        try:
            for delay in (*FINISH_RETRY_DELAYS, None):
                try:
                    await self._inbox.finish(unit)  # the user's next update is claimed with it
                    break
                except DATABASE_ERRORS as exc:
                    if delay is None:
                        log.error("update %s handled but not marked done; it will be handled "
                                  "again after its lease: %s", unit.update_id, exc)
                        break
                    await asyncio.sleep(delay)
        finally:
            self._finishing -= 1
        future = self._finished.pop(unit.update_id, None)
        if future is not None and not future.done():
            future.set_result(None)


async def poll_telegram(application: Application, dispatcher: Dispatcher) -> None:
    """Long polling: a batch is acknowledged (by asking for the next offset) only once stored."""
    bot = application.bot
    await bot.delete_webhook()
    offset, backoff = None, 1.0
    while True:
        try:
            updates = await bot.get_updates(offset=offset, timeout=LONG_POLL_SECONDS,
                                            allowed_updates=Update.ALL_TYPES)
            backoff = 1.0
        except TimedOut:
            continue
        except (Conflict, TelegramError) as exc:
            log.warning("getUpdates failed, trying again in %.0f s: %s", backoff, exc)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)
            continue
        if not updates:
            continue
        payloads = [update.to_dict() for update in updates]
        while True:
            try:
                await dispatcher.store(payloads)
                break
            except DATABASE_ERRORS as exc:
                log.warning("could not store %d updates, trying again: %s", len(payloads), exc)
                await asyncio.sleep(1)
        offset = updates[-1].update_id + 1


def webhook_app(services: Services, dispatcher: Dispatcher) -> web.Application:
    """Telegram posts updates here (answered 200 only once stored; anything else makes it
    deliver again), and a load balancer probes HEALTH_PATH."""
    settings = services.settings
    secret = settings.webhook_secret.get_secret_value().encode()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, secret):
            return web.Response(status=403)
        try:
            payload = await request.json()
        except ValueError:
            return web.Response(status=400)
        if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
            return web.Response(status=400)
        try:
            await dispatcher.store([payload])
        except DATABASE_ERRORS as exc:
            log.warning("update %s not stored, Telegram will deliver it again: %s",
                        payload["update_id"], exc)
            return web.Response(status=503)
        return web.Response(status=200)

    async def health(_request: web.Request) -> web.Response:
        try:
            async with services.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except DATABASE_ERRORS:
            return web.json_response({"status": "database unavailable"}, status=503)
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post(webhook_path(settings), receive)
    app.router.add_get(HEALTH_PATH, health)
    return app


def webhook_path(settings: Settings) -> str:
    return urlsplit(settings.webhook_url).path or "/"


async def serve_webhook(application: Application, dispatcher: Dispatcher) -> web.AppRunner:
    services: Services = application.bot_data["services"]
    settings = services.settings
    runner = web.AppRunner(webhook_app(services, dispatcher), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.webhook_listen, settings.webhook_port).start()
    # Every process sets the same webhook: harmless, and no process is special.
    await application.bot.set_webhook(settings.webhook_url, allowed_updates=Update.ALL_TYPES,
                                      secret_token=settings.webhook_secret.get_secret_value())
    return runner


async def run_jobs(application: Application, jobs) -> None:
    """Due outbox messages, and the repeating jobs that one process runs for all."""
    services: Services = application.bot_data["services"]
    ctx = BotContext(application)
    while True:
        await asyncio.sleep(JOB_TICK_SECONDS)
        try:
            for name, every, first_after, work in jobs:
                if await services.jobs.take_if_due(name, every, first_after):
                    await work(ctx)
            await send_due_outbox(ctx)
        except DATABASE_ERRORS as exc:
            log.warning("jobs skipped this round, database unavailable: %s", exc)
        except Exception:  # noqa: BLE001 - one failed job must not stop the others for good
            log.exception("a job failed")


# What sends each kind of outbox row: (ctx, row id, ref). Kinds with one row per ref mark it
# by its ref; those with several over time (a card's edits, the questions) by its id.
SENDERS = {
    CARD: lambda ctx, _id, ref: post_claimed_card(ctx, ref),
    ANNOUNCEMENT: lambda ctx, _id, ref: send_claimed_announcement(ctx, ref),
    REMINDER: lambda ctx, _id, ref: send_claimed_reminder(ctx, ref),
    ANSWER: lambda ctx, _id, ref: send_claimed_answer(ctx, ref),
    CARD_UPDATE: update_claimed_card,
    SATISFACTION: send_claimed_question,
}


async def send_due_outbox(ctx: BotContext) -> None:
    for message in await ctx.services.outbox.claim_due():
        sender = SENDERS.get(message.kind)
        if sender is None:
            log.error("outbox message %s of unknown kind %r", message.id, message.kind)
            continue
        await sender(ctx, message.id, message.ref)


async def reload_content(application: Application) -> None:
    services: Services = application.bot_data["services"]
    while True:
        await asyncio.sleep(services.settings.content_reload_seconds)
        services.content.reload_if_changed()


async def serve(application: Application, jobs) -> None:
    """Run until SIGINT/SIGTERM: take updates in, handle them, run the jobs; then stop taking
    updates, let those in hand finish, and close."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await application.initialize()
    await application.post_init(application)
    services: Services = application.bot_data["services"]
    dispatcher = Dispatcher(application, services.inbox)
    application.bot_data["dispatcher"] = dispatcher
    background = [asyncio.create_task(coroutine) for coroutine in (
        dispatcher.run(), dispatcher.keep_leases(), run_jobs(application, jobs),
        reload_content(application))]
    if services.settings.console_enabled:
        from bot.console.app import serve_console  # only where the console is served

        background.insert(0, asyncio.create_task(serve_console(services)))
    webhook = None
    try:
        if services.settings.webhook_url:
            webhook = await serve_webhook(application, dispatcher)
        else:
            background.append(asyncio.create_task(poll_telegram(application, dispatcher)))
        log.info("the bot is running (%s)", "webhook" if webhook else "long polling")
        await stop.wait()
    finally:
        if webhook is not None:
            await webhook.cleanup()
        if not services.settings.webhook_url and background:
            background[-1].cancel()  # no new updates from polling
        await dispatcher.drain()
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await application.post_shutdown(application)
        await application.shutdown()
