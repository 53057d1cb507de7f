"""Carrying messages between users and the staff group."""
from __future__ import annotations

import logging

from telegram import ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.context import BotContext
from bot.db.models import HelpRequest, utcnow
from bot.services.requests import StaffAnswer
from bot.views import casework as casework_views
from bot.views import requests as views
from bot.views.screens import NO_LINK_PREVIEW

log = logging.getLogger(__name__)

# bot_data key: whether the staff group is a forum, asked once per process (it does not change
# under a running bot; a group made a forum later is seen after a restart).
STAFF_FORUM = "staff_chat_is_forum"
REMINDER_LIST_LIMIT = 50  # cases named in one reminder; the rest are counted


def staff_translator(ctx: BotContext):
    settings = ctx.services.settings
    return ctx.services.catalogs.get(settings.staff_locale or settings.default_locale)


def staff_card(ctx: BotContext, request: HelpRequest, question: str, holder: str | None = None,
               notes: int = 0):
    """The case card in the staff's language, naming the user's language in its own words."""
    language = ctx.services.catalogs.get(request.locale)("Language name")
    return views.staff_card(ctx.services.content.current, staff_translator(ctx), request,
                            question, language, holder, notes)


async def staff_group_is_forum(ctx: BotContext) -> bool:
    """Whether the staff group is a forum (getChat, once per process; asked again after a
    failure)."""
    known = ctx.bot_data.get(STAFF_FORUM)
    if known is not None:
        return known
    try:
        chat = await ctx.bot.get_chat(ctx.services.settings.staff_chat_id)
    except TelegramError as exc:
        log.warning("could not tell whether the staff group is a forum: %s", exc)
        return False
    ctx.bot_data[STAFF_FORUM] = bool(chat.is_forum)
    return ctx.bot_data[STAFF_FORUM]


async def _case_topic(ctx: BotContext, request: HelpRequest) -> int | None:
    """The case's own topic where the staff group is a forum, created (and kept) the first
    time. A bot without the right to create topics posts to the General topic; a network
    failure raises, so the card is tried again later."""
    if request.forum_topic_id is not None or not await staff_group_is_forum(ctx):
        return request.forum_topic_id
    name = casework_views.forum_topic_name(ctx.services.content.current, staff_translator(ctx),
                                           request)
    try:
        topic = await ctx.bot.create_forum_topic(ctx.services.settings.staff_chat_id, name)
    except (BadRequest, Forbidden) as exc:
        log.warning("no forum topic for %s, the card goes to General: %s", request.number, exc)
        return None
    await ctx.services.requests.topic_created(request.id, topic.message_thread_id)
    request.forum_topic_id = topic.message_thread_id
    return request.forum_topic_id


async def post_card(ctx: BotContext, request: HelpRequest, question: str, *,
                    holder: str | None = None, notes: int = 0) -> bool:
    """Post the case card to the staff group (in its own topic where the group is a forum).
    The caller holds the card's outbox claim; a failure gives it back for a later try."""
    chat_id = ctx.services.settings.staff_chat_id
    if chat_id is None:
        return False
    screen = staff_card(ctx, request, question, holder, notes)
    try:
        topic_id = await _case_topic(ctx, request)
        message = await ctx.bot.send_message(chat_id, screen.text, parse_mode=ParseMode.HTML,
                                             reply_markup=screen.keyboard,
                                             message_thread_id=topic_id)
    except TelegramError as exc:
        log.warning("card for %s not posted, will retry: %s", request.number, exc)
        await ctx.services.requests.card_failed(request.id, str(exc))
        return False
    await ctx.services.requests.card_posted(request.id, message.message_id)
    return True


async def post_claimed_card(ctx: BotContext, request_id: int) -> None:
    """A card the outbox gave this process (its first post failed, or its poster died)."""
    card = await ctx.services.requests.card_to_post(request_id)
    if card is not None:
        await post_card(ctx, card.request, card.question, holder=card.holder, notes=card.notes)


async def update_claimed_card(ctx: BotContext, outbox_id: int, request_id: int) -> None:
    """Edit a case's card to show the case as it is now (it changed in the console, by a
    reply, a note, the user...). Unchanged, or gone from the group: nothing to do."""
    card = await ctx.services.requests.card_of(request_id)
    chat_id = ctx.services.settings.staff_chat_id
    if card is None or chat_id is None or card.request.staff_message_id is None:
        await ctx.services.outbox.finish(outbox_id)
        return
    screen = staff_card(ctx, card.request, card.question, card.holder, card.notes)
    try:
        await ctx.bot.edit_message_text(chat_id=chat_id, message_id=card.request.staff_message_id,
                                        text=screen.text, parse_mode=ParseMode.HTML,
                                        reply_markup=screen.keyboard)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            log.warning("card of %s not edited: %s", card.request.number, exc.message)
    except TelegramError as exc:
        log.warning("card of %s not edited, will retry: %s", card.request.number, exc)
        await ctx.services.outbox.retry(outbox_id, str(exc))
        return
    await ctx.services.outbox.finish(outbox_id)


async def post_to_case(ctx: BotContext, request: HelpRequest, text: str) -> None:
    """A message about a case in the staff group: in its topic, in reply to its card."""
    chat_id = ctx.services.settings.staff_chat_id
    if chat_id is None:
        return
    reply_to = (ReplyParameters(request.staff_message_id, allow_sending_without_reply=True)
                if request.staff_message_id else None)
    thread = request.forum_topic_id
    for _ in range(2):  # in the topic; if it is gone, in General
        try:
            await ctx.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML,
                                       reply_parameters=reply_to, message_thread_id=thread,
                                       link_preview_options=NO_LINK_PREVIEW)
            return
        except BadRequest as exc:
            if thread is None or "thread" not in exc.message.lower():
                log.warning("message on %s not posted to staff: %s", request.number, exc)
                return
            # Staff deleted the case's topic: General it is.
            log.info("topic of %s is gone, posting to General: %s", request.number, exc.message)
            thread, reply_to = None, None
        except TelegramError as exc:
            log.warning("message on %s not posted to staff: %s", request.number, exc)
            return


async def post_follow_up(ctx: BotContext, request: HelpRequest, text: str) -> None:
    await post_to_case(ctx, request, views.staff_follow_up(staff_translator(ctx), request.number,
                                                           text))


async def send_answer(ctx: BotContext, answer: StaffAnswer) -> str:
    """Send a staff answer to the user in their language frame and record how it went:
    "delivered", "blocked" (the user blocked the bot), or "pending" (Telegram failed for now:
    the outbox tries again)."""
    request, message = answer.request, answer.message
    t = ctx.services.catalogs.get(request.locale)
    screen = views.staff_answer_for_user(t, request.number, message.text)
    try:
        await ctx.bot.send_message(request.user_id, screen.text, parse_mode=ParseMode.HTML,
                                   reply_markup=screen.keyboard)
    except Forbidden:
        await ctx.services.requests.answer_sent(message.id, "blocked")
        return "blocked"
    except TelegramError as exc:
        log.warning("answer on %s not sent, will retry: %s", request.number, exc)
        await ctx.services.requests.answer_failed(message.id, str(exc))
        return "pending"
    await ctx.services.requests.answer_sent(message.id, "delivered")
    return "delivered"


async def send_claimed_answer(ctx: BotContext, message_id: int) -> None:
    """An answer the outbox gave this process: written in the console, or a retry. Once a
    console answer has gone out (or cannot: the user blocked the bot), the staff group sees
    it in the case's place too."""
    answer = await ctx.services.requests.answer_to_send(message_id)
    if answer is None:
        return
    delivery = await send_answer(ctx, answer)
    if answer.message.via == "console" and delivery in ("delivered", "blocked"):
        name = await ctx.services.casework.staff_name(answer.message.author_id)
        await post_to_case(ctx, answer.request, casework_views.console_answer(
            staff_translator(ctx), answer.request.number, name, answer.message.text, delivery))


async def remind_staff(ctx: BotContext) -> None:
    """One message to the staff group naming the cases that wait longer than
    STAFF_REMINDER_HOURS (and were not named in that time), the longest wait first."""
    settings = ctx.services.settings
    hours, chat_id = settings.staff_reminder_hours, settings.staff_chat_id
    if not hours or chat_id is None:
        return
    now = utcnow()
    waiting, total = await ctx.services.requests.waiting_to_remind(hours, REMINDER_LIST_LIMIT, now)
    if not waiting:
        return
    text, listed = casework_views.staff_reminder(staff_translator(ctx), waiting, total, hours,
                                                 now, chat_id)
    try:
        await ctx.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML,
                                   link_preview_options=NO_LINK_PREVIEW)
    except TelegramError as exc:
        log.warning("reminder of %d waiting cases not posted: %s", total, exc)
        return
    await ctx.services.requests.reminded(listed, now)
