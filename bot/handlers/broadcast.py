"""Sending announcements through Telegram: one message per recipient, paced as bulk sends, and
the final report. The order of things (who, when, what is recorded) is the service's
(bot.services.announcements); here each Telegram answer becomes an Outcome."""
from __future__ import annotations

import asyncio
import contextvars
import logging

from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError, TimedOut

from bot.context import BotContext
from bot.ratelimit import BULK, retry_after_seconds
from bot.request import NEVER_SENT
from bot.services.announcements import AnnouncementSender, Outcome, Progress, Recipient, text_for
from bot.views import announcements as views

log = logging.getLogger(__name__)

# Answers to a private chat that mean the user cannot be reached (they never started the bot,
# or deleted their account); a blocked bot answers 403.
UNREACHABLE = ("chat not found", "user is deactivated", "bot was blocked", "peer_id_invalid")


def language_names(ctx: BotContext) -> dict[str, str]:
    return {locale: t("Language name") for locale, t in ctx.services.catalogs.all().items()}


def user_screen(ctx: BotContext, texts: dict[str, str], topic_key: str | None, locale: str):
    """(the screen `locale`'s readers get, the locale its text was written in), or None."""
    resolved = text_for(texts, locale)
    if resolved is None:
        return None
    html, source = resolved
    return views.for_user(ctx.services.content.current, ctx.services.catalogs.get(locale), locale,
                          html, topic_key), source


def message_parameters(screen) -> dict:
    return {"text": screen.text, "parse_mode": ParseMode.HTML, "reply_markup": screen.keyboard}


def start_sending(ctx: BotContext, announcement_id: int, given_to: str | None = None) -> None:
    """Work the announcement from this process, beside the updates. `given_to`: the row was
    claimed for this process (by the outbox)."""
    services = ctx.services
    sender = AnnouncementSender(services.announcements,
                                services.settings.announce_messages_per_second)
    job = BotContext(ctx.application)
    # A context of its own: the messages it sends belong to no update being handled.
    task = asyncio.create_task(
        sender.run(announcement_id, _deliverer(job), lambda p: send_report(job, p), given_to),
        name=f"announcement-{announcement_id}", context=contextvars.Context())
    services.background.add(task)

    def finished(done: asyncio.Task) -> None:
        services.background.discard(done)
        if not done.cancelled() and done.exception() is not None:
            log.error("%s stopped by an error; it goes on after its lease", done.get_name(),
                      exc_info=done.exception())

    task.add_done_callback(finished)


def _deliverer(ctx: BotContext):
    screens: dict[tuple[int, str], object] = {}
    settings = ctx.services.settings
    extra = {"allow_paid_broadcast": True} if settings.announce_paid_broadcast else {}
    if ctx.bot.rate_limiter is not None:  # paced with the other bulk sends (bot.ratelimit)
        extra["rate_limit_args"] = {BULK: True}

    async def deliver(announcement: Progress, recipient: Recipient) -> Outcome:
        key = (announcement.id, recipient.locale)
        if key not in screens:
            if len(screens) > 64:
                screens.clear()
            screens[key] = user_screen(ctx, announcement.texts, announcement.topic_key,
                                       recipient.locale)
        rendered = screens[key]
        if rendered is None:
            return Outcome("failed", "no text")
        try:
            await ctx.bot.send_message(chat_id=recipient.user_id,
                                       **message_parameters(rendered[0]), **extra)
        except Forbidden as exc:
            return Outcome("blocked", exc.message)
        except RetryAfter as exc:  # still 429 after the pacer waited and tried again
            return Outcome("wait", wait=retry_after_seconds(exc))
        except BadRequest as exc:
            unreachable = any(reason in exc.message.lower() for reason in UNREACHABLE)
            return Outcome("blocked" if unreachable else "failed", exc.message)
        except TimedOut as exc:
            if isinstance(exc.__cause__, NEVER_SENT):
                return Outcome("retry", "could not connect")
            # Telegram may have delivered it: sending again could make it twice.
            return Outcome("failed", "timed out; it may have arrived")
        except TelegramError as exc:  # 5xx after the transport's own retries, network
            return Outcome("retry", f"{type(exc).__name__}: {exc}")
        return Outcome("sent")

    return deliver


def staff_names_and_translator(ctx: BotContext):
    settings = ctx.services.settings
    return language_names(ctx), ctx.services.catalogs.get(settings.staff_locale or settings.default_locale)


async def send_report(ctx: BotContext, announcement: Progress) -> None:
    """The delivery report, to the staff group and to the admin who wrote it."""
    names, t = staff_names_and_translator(ctx)
    text = views.report(t, names, announcement)
    chats = [ctx.services.settings.staff_chat_id, announcement.created_by]
    for chat_id in dict.fromkeys(chat for chat in chats if chat is not None):
        try:
            await ctx.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)
        except TelegramError as exc:
            log.warning("report of announcement %s not sent to %s: %s", announcement.id,
                        chat_id, exc)


async def send_claimed_announcement(ctx: BotContext, announcement_id: int) -> None:
    """The outbox gave this process the announcement: it is worked beside the job loop."""
    start_sending(ctx, announcement_id, given_to=ctx.services.outbox.worker)
