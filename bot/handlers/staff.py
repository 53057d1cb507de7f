"""Staff commands, card buttons and answers. The stored role is checked on every use."""
from __future__ import annotations

import logging
import re

from telegram import Update
from telegram.constants import ParseMode

from bot.context import BotContext
from bot.db.models import utcnow
from bot.handlers.replies import show
from bot.handlers.staff_relay import send_answer, staff_card, staff_translator
from bot.services.requests import QUESTION_LIMIT
from bot.views import requests as views
from bot.views import search as search_views

log = logging.getLogger(__name__)

CASE_NUMBER = re.compile(r"\bM-\d{4}-\d{6}\b")
QUEUE_PAGE = 10


async def staff_role(update: Update, ctx: BotContext, action: str) -> str | None:
    """The caller's stored role; an attempt by anyone else is written to the audit log."""
    user = update.effective_user
    role = await ctx.services.staff.role_of(user.id) if user else None
    if role is None:
        await ctx.services.staff.audit(user.id if user else None, "denied", action)
        log.info("non-staff %s tried %s", user.id if user else None, action)
    return role


async def _deny_quietly(update: Update, ctx: BotContext) -> None:
    """Non-staff get the same answer as for any unknown command: nothing is revealed."""
    if update.effective_chat and update.effective_chat.type == "private":
        from bot.handlers.navigation import unknown_command

        await unknown_command(update, ctx)


async def queue_command(update: Update, ctx: BotContext) -> None:
    if await staff_role(update, ctx, "/queue") is None:
        return await _deny_quietly(update, ctx)
    await show_queue(update, ctx, 0)


async def show_queue(update: Update, ctx: BotContext, page: int) -> None:
    t = staff_translator(ctx)
    requests, total = await ctx.services.requests.queue(page, QUEUE_PAGE)
    await show(update, ctx, views.staff_list(t, t("Open requests: urgent first, then oldest"), requests,
                                              utcnow(), page, total, QUEUE_PAGE))


async def case_command(update: Update, ctx: BotContext) -> None:
    if await staff_role(update, ctx, "/case") is None:
        return await _deny_quietly(update, ctx)
    t = staff_translator(ctx)
    number = ctx.args[0] if ctx.args else ""
    case = await ctx.services.requests.case_by_number(number) if CASE_NUMBER.fullmatch(number.upper()) else None
    if case is None:
        await update.effective_message.reply_text(t("No case with that number. Use /case M-2026-000123."))
        return
    await show_staff_case(update, ctx, case.request.id, 0)


async def staff_case_screen(ctx: BotContext, request_id: int, page: int = 0):
    """The case, and its screen for staff: the thread, then the internal notes."""
    t = staff_translator(ctx)
    file = await ctx.services.casework.case_file(request_id)
    if file is not None:
        return file.request, views.staff_case(t, file.request, file.thread, page, file.notes,
                                              file.names)
    case = await ctx.services.requests.case(request_id)  # deleted by the user, or none
    if case is None:
        return None, None
    return case.request, views.staff_case(t, case.request, case.thread, page)


async def show_staff_case(update: Update, ctx: BotContext, request_id: int, page: int) -> None:
    request, screen = await staff_case_screen(ctx, request_id, page)
    if request is None:
        return
    await ctx.services.staff.audit(update.effective_user.id, "case_view", request.number)
    await show(update, ctx, screen)


async def find_command(update: Update, ctx: BotContext) -> None:
    if await staff_role(update, ctx, "/find") is None:
        return await _deny_quietly(update, ctx)
    t = staff_translator(ctx)
    text = " ".join(ctx.args or []).strip()
    if not text:
        await update.effective_message.reply_text(t("Write what to look for: /find passport"))
        return
    found = await ctx.services.requests.find(text[:200])
    await show(update, ctx, views.staff_list(t, t("Found: {count}", count=len(found)), found, utcnow()))


async def _staff_report(update: Update, ctx: BotContext, command: str, render) -> None:
    if await staff_role(update, ctx, command) is None:
        return await _deny_quietly(update, ctx)
    text = await render(staff_translator(ctx))
    await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML)


async def stats_command(update: Update, ctx: BotContext) -> None:
    async def render(t):
        return views.stats(t, await ctx.services.requests.stats())

    await _staff_report(update, ctx, "/stats", render)


async def gaps_command(update: Update, ctx: BotContext) -> None:
    async def render(t):
        return search_views.gaps(t, await ctx.services.search.gaps())

    await _staff_report(update, ctx, "/gaps", render)


async def staff_command(update: Update, ctx: BotContext) -> None:
    """/staff add <id> [admin] · /staff remove <id> · /staff list — admins only."""
    if await staff_role(update, ctx, "/staff") != "admin":
        return await _deny_quietly(update, ctx)
    t = staff_translator(ctx)
    args = ctx.args or []
    actor = update.effective_user.id
    reply = update.effective_message.reply_text
    if args[:1] == ["list"]:
        members = await ctx.services.staff.members()
        await reply("\n".join(f"{uid} · {role}" for uid, role in members) or t("Nothing here."))
    elif len(args) >= 2 and args[0] in ("add", "remove") and args[1].lstrip("-").isdigit():
        user_id = int(args[1])
        if args[0] == "add":
            role = "admin" if args[2:3] == ["admin"] else "staff"
            await ctx.services.staff.add(actor, user_id, role)
            await reply(t("{user_id} is now {role}.", user_id=user_id, role=role))
        else:
            removed = await ctx.services.staff.remove(actor, user_id)
            await reply(t("{user_id} is no longer staff.", user_id=user_id) if removed
                        else t("{user_id} was not staff.", user_id=user_id))
    else:
        await reply(t("Use: /staff add <id> [admin], /staff remove <id>, /staff list"))


async def on_staff_button(update: Update, ctx: BotContext, action: str, request_id: int) -> None:
    if await staff_role(update, ctx, f"button:{action}") is None:
        return
    status = {"take": "in_progress", "resolve": "resolved", "close": "closed"}[action]
    before = await ctx.services.requests.get(request_id)
    message = update.callback_query.message
    # Pressed on the card itself: it is edited here; anywhere else, by the outbox.
    on_card = (before is not None and message is not None and before.staff_message_id is not None
               and message.chat.id == ctx.services.settings.staff_chat_id
               and message.message_id == before.staff_message_id)
    request = await ctx.services.requests.set_status(request_id, update.effective_user.id, status,
                                                     card_update=not on_card)
    if request is None:
        return
    if on_card:
        card = await ctx.services.requests.card_of(request_id)
        await show(update, ctx, staff_card(ctx, card.request, card.question, card.holder,
                                           card.notes))
    else:
        await show(update, ctx, (await staff_case_screen(ctx, request_id))[1])


def replied_case_number(update: Update, bot_id: int) -> str | None:
    """The case number in the bot's message that this message replies to. It is looked for
    in the first line only, where a card, a follow-up or a ready answer names its case: a
    list of cases (a reminder, /queue) or a number the user wrote in their question never
    decides whom an answer goes to."""
    replied = update.effective_message.reply_to_message
    if replied is None or replied.from_user is None or replied.from_user.id != bot_id:
        return None
    first_line = (replied.text or replied.caption or "").split("\n", 1)[0]
    match = CASE_NUMBER.search(first_line)
    return match.group(0) if match else None


async def relay_staff_answer(update: Update, ctx: BotContext, number: str) -> None:
    t = staff_translator(ctx)
    message = update.effective_message
    text = message.text or message.caption or ""
    if not text or len(text) > QUESTION_LIMIT:
        await message.reply_text(t("Answers must be text of 1 to {limit} characters.",
                                   limit=QUESTION_LIMIT))
        return
    case = await ctx.services.requests.case_by_number(number)
    if case is None or case.request.deleted_by_user:
        await message.reply_text(t("This case was deleted by the user."))
        return
    answer = await ctx.services.requests.staff_reply(case.request.id, update.effective_user.id,
                                                     text)
    if answer is None:
        await message.reply_text(t("This case was deleted by the user."))
        return
    delivery = await send_answer(ctx, answer)
    if delivery == "delivered":
        await message.reply_text(t("✅ Sent to the user ({number}).", number=number))
    elif delivery == "blocked":
        await message.reply_text(t("⚠️ Not delivered: the user has blocked the bot ({number}).",
                                   number=number))
    else:
        await message.reply_text(t("⏳ Telegram did not take it yet; it will be sent again ({number}).",
                                   number=number))


async def on_group_reply(update: Update, ctx: BotContext) -> None:
    """In the staff group, a reply to a card (or a follow-up) answers the user."""
    if update.effective_chat.id != ctx.services.settings.staff_chat_id:
        return
    number = replied_case_number(update, ctx.bot.id)
    if number is None:
        return
    if await staff_role(update, ctx, f"reply:{number}") is None:
        return
    await relay_staff_answer(update, ctx, number)


