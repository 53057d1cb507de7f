"""Carrying messages between users and the staff group."""
from __future__ import annotations

import logging

from telegram import ReplyParameters
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError

from bot.context import BotContext
from bot.db.models import HelpRequest
from bot.services.requests import StaffAnswer
from bot.views import requests as views

log = logging.getLogger(__name__)


def staff_translator(ctx: BotContext):
    settings = ctx.services.settings
    return ctx.services.catalogs.get(settings.staff_locale or settings.default_locale)


def staff_card(ctx: BotContext, request: HelpRequest, question: str):
    """The case card in the staff's language, naming the user's language in its own words."""
    language = ctx.services.catalogs.get(request.locale)("Language name")
    return views.staff_card(ctx.services.content.current, staff_translator(ctx), request,
                            question, language)


async def post_card(ctx: BotContext, request: HelpRequest, question: str) -> bool:
    """Post the case card to the staff group. The caller holds the card's outbox claim; a
    failure gives it back for a later try."""
    chat_id = ctx.services.settings.staff_chat_id
    if chat_id is None:
        return False
    screen = staff_card(ctx, request, question)
    try:
        message = await ctx.bot.send_message(chat_id, screen.text, parse_mode=ParseMode.HTML,
                                             reply_markup=screen.keyboard)
    except TelegramError as exc:
        log.warning("card for %s not posted, will retry: %s", request.number, exc)
        await ctx.services.requests.card_failed(request.id, str(exc))
        return False
    await ctx.services.requests.card_posted(request.id, message.message_id)
    return True


async def post_claimed_card(ctx: BotContext, request_id: int) -> None:
    """A card the outbox gave this process (its first post failed, or its poster died)."""
    case = await ctx.services.requests.card_to_post(request_id)
    if case is None:
        return
    first = next((m.text for m in case.thread if m.author == "user"), "")
    await post_card(ctx, case.request, first)


async def post_follow_up(ctx: BotContext, request: HelpRequest, text: str) -> None:
    chat_id = ctx.services.settings.staff_chat_id
    if chat_id is None:
        return
    reply_to = (ReplyParameters(request.staff_message_id, allow_sending_without_reply=True)
                if request.staff_message_id else None)
    try:
        await ctx.bot.send_message(chat_id, views.staff_follow_up(staff_translator(ctx),
                                                                  request.number, text),
                                   parse_mode=ParseMode.HTML, reply_parameters=reply_to)
    except TelegramError as exc:
        log.warning("follow-up on %s not posted to staff: %s", request.number, exc)


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
    """An answer the outbox gave this process: written in the console, or a retry."""
    answer = await ctx.services.requests.answer_to_send(message_id)
    if answer is not None:
        await send_answer(ctx, answer)
