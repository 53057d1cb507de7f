"""Builds the Application. Nothing here runs at import time."""
from __future__ import annotations

import asyncio
import gc
import logging
from datetime import timedelta

from telegram import BotCommand
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes
from telegram.request import BaseRequest

from bot import LOCALES
from bot.context import BotContext
from bot.db.models import utcnow
from bot.handlers import register
from bot.handlers.staff_relay import remind_staff
from bot.i18n import N_
from bot.ratelimit import TelegramPacer
from bot.request import AiohttpRequest
from bot.runner import serve
from bot.services.container import Services
from bot.services.requests import CARD_UPDATE, SATISFACTION
from bot.services.wiring import connect_services, disconnect_services, load_services
from bot.services.search import SearchService
from bot.settings import Settings
from bot.tracking import TrackingBot

log = logging.getLogger(__name__)

DESCRIPTION_LIMIT = 512
SHORT_DESCRIPTION_LIMIT = 120

# (command, description message id); descriptions are translated per language.
USER_COMMANDS = (
    ("start", N_("Start: choose your language")),
    ("menu", N_("Main menu")),
    ("help", N_("How to use this bot")),
    ("language", N_("Change language")),
    ("cancel", N_("Stop and go back to the menu")),
    ("myrequests", N_("My requests to staff")),
    ("hide", N_("Quick exit: delete this chat's messages")),
    ("deadlines", N_("My deadlines: days and dates abroad")),
    ("announcements", N_("News from the agency: on or off")),
    ("privacy", N_("What we store about you")),
    ("mydata", N_("Get all your data")),
    ("delete", N_("Delete all your data")),
)
DESCRIPTION = N_("Official information for labour migrants from Uzbekistan and their families: "
                 "visas, insurance, your rights abroad and help on return. "
                 "Every answer shows its sources.")
SHORT_DESCRIPTION = N_("Help for labour migrants from Uzbekistan and their families")


def services_of(application: Application) -> Services:
    return application.bot_data["services"]


def _joined(texts: list[str], limit: int) -> str:
    """Both Uzbek scripts share Telegram's one `uz` code: show both when they fit."""
    joined = "\n\n".join(dict.fromkeys(texts))
    return joined if len(joined) <= limit else texts[0]


async def publish_commands_and_descriptions(application: Application) -> None:
    catalogs = services_of(application).catalogs
    default = services_of(application).settings.default_locale
    per_code = {"uz": ["uz", "uz_Cyrl"], "ru": ["ru"], "en": ["en"], None: [default]}
    bot = application.bot
    for code, locales in per_code.items():
        translators = [catalogs.get(locale) for locale in locales]
        t = translators[0]
        try:
            await bot.set_my_commands([BotCommand(c, t(d)) for c, d in USER_COMMANDS],
                                      language_code=code)
            await bot.set_my_description(
                _joined([tr(DESCRIPTION) for tr in translators], DESCRIPTION_LIMIT),
                language_code=code)
            await bot.set_my_short_description(
                _joined([tr(SHORT_DESCRIPTION) for tr in translators], SHORT_DESCRIPTION_LIMIT),
                language_code=code)
        except TelegramError as exc:
            log.warning("could not set commands/description for %s: %s", code or "default", exc)


async def _purge_drafts(ctx: BotContext) -> None:
    await ctx.services.flows.purge_stale()


async def _purge_inbox(ctx: BotContext) -> None:
    await ctx.services.inbox.purge()


async def _purge_deadlines(ctx: BotContext) -> None:
    purged = await ctx.services.deadlines.purge_past()
    log.info("my deadlines: %d plans with no deadline ahead deleted", purged)


async def _purge_announcements(ctx: BotContext) -> None:
    purged = await ctx.services.announcements.purge_finished(ctx.services.settings.retention_days)
    log.info("announcements: %d finished over the retention period ago deleted", purged)


async def _purge_chat_messages(ctx: BotContext) -> None:
    await ctx.services.quick_exit.purge()


async def _purge_console_logins(ctx: BotContext) -> None:
    await ctx.services.console_auth.purge()


async def _purge_outbox(ctx: BotContext) -> None:
    # A card's edits and the "did it help?" questions leave a row each; once done, none is read.
    await ctx.services.outbox.purge_done((CARD_UPDATE, SATISFACTION), utcnow() - timedelta(days=1))


async def _apply_retention(ctx: BotContext) -> None:
    interactions, requests = await ctx.services.privacy.apply_retention(
        ctx.services.settings.retention_days)
    log.info("retention: %d interactions and %d closed requests deleted", interactions, requests)


# (name, every, first run after, work): each runs once across all processes.
JOBS = (
    ("purge-drafts", timedelta(hours=1), timedelta(minutes=5), _purge_drafts),
    ("purge-inbox", timedelta(minutes=5), timedelta(minutes=5), _purge_inbox),
    ("retention", timedelta(days=1), timedelta(minutes=1), _apply_retention),
    ("purge-chat-messages", timedelta(hours=1), timedelta(minutes=4), _purge_chat_messages),
    ("purge-deadlines", timedelta(hours=6), timedelta(minutes=2), _purge_deadlines),
    ("purge-announcements", timedelta(days=1), timedelta(minutes=3), _purge_announcements),
    ("purge-console-logins", timedelta(hours=1), timedelta(minutes=6), _purge_console_logins),
    # Cases waiting longer than STAFF_REMINDER_HOURS, named to the staff group (0: never).
    ("remind-staff", timedelta(minutes=15), timedelta(minutes=2), remind_staff),
    ("purge-outbox", timedelta(hours=6), timedelta(minutes=7), _purge_outbox),
)


def _build_search_index(search: SearchService, content) -> None:
    search.rebuild(content)
    # Content, catalogs and index are hundreds of thousands of objects that live as long as
    # the process. Left to the cyclic garbage collector, every full collection walks them
    # all and stops the bot for ~100 ms; frozen, they are skipped. (Freed data still goes
    # away by reference counting.)
    gc.freeze()


async def post_init(application: Application) -> None:
    services = services_of(application)
    await connect_services(services)
    application.bot.record_outside_update(services.quick_exit.record)
    # Off the start-up path: the index builds in a thread while polling begins.
    loop = asyncio.get_running_loop()
    services.content.on_change(lambda content: loop.run_in_executor(
        None, _build_search_index, services.search, content))
    await services.staff.ensure_admins(services.settings.admin_ids)
    # Commands and descriptions are published while the bot already answers users.
    services.background.add(asyncio.create_task(
        publish_commands_and_descriptions(application), name="publish-commands"))


async def post_shutdown(application: Application) -> None:
    services = services_of(application)
    for task in services.background:
        task.cancel()
    await asyncio.gather(*services.background, return_exceptions=True)
    await disconnect_services(services)


def run(settings: Settings) -> None:
    """`python -m bot run`: serve until SIGINT/SIGTERM."""
    asyncio.run(serve(build_application(settings), JOBS))


def build_application(settings: Settings, request: BaseRequest | None = None) -> Application:
    """Load catalogs and content, then wire the handlers."""
    services = load_services(settings)
    api = settings.telegram_api_url
    bot = TrackingBot(
        settings.require_token(),
        base_url=f"{api}/bot", base_file_url=f"{api}/file/bot",
        request=request or AiohttpRequest(connection_pool_size=64),
        get_updates_request=request or AiohttpRequest(read_timeout=5.0),
        rate_limiter=(TelegramPacer(bulk_per_second=settings.announce_messages_per_second)
                      if settings.telegram_rate_limit else None),
    )
    builder = (
        ApplicationBuilder()
        .bot(bot)
        .context_types(ContextTypes(context=BotContext))
        .job_queue(None)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    application = builder.build()
    application.bot_data["services"] = services
    register(application)
    return application


__all__ = ["build_application", "LOCALES"]
