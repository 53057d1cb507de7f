"""Runs before every feature: who is this, and which language do they read."""
from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext
from bot.i18n import guess_locale
from bot.services.inbox import NOT_READ


async def load_user(update: Update, ctx: BotContext) -> None:
    user = update.effective_user
    if user is None or user.is_bot:
        return
    stored = ctx.unit.stored_user if ctx.unit.user_key == user.id else NOT_READ
    ctx.profile = await ctx.services.users.seen(user.id, user.language_code, stored)
    if ctx.profile.changes:
        ctx.unit.change_user(user.id, **ctx.profile.changes)
    ctx.locale = ctx.profile.locale or guess_locale(
        user.language_code, ctx.services.settings.default_locale)
    # The user's own message, for the quick exit to delete (see bot.services.quick_exit).
    message = update.message
    if message is not None and message.chat.type == ChatType.PRIVATE:
        ctx.unit.record_message(message.chat_id, message.message_id)


async def limit_floods(update: Update, ctx: BotContext) -> None:
    """Over the per-user limit only the excess is dropped; the first one dropped is told
    how many seconds to wait."""
    if ctx.profile is None:
        return
    verdict = ctx.services.flood.check(ctx.unit.recent)
    if verdict.serve:
        return
    ctx.unit.status = "dropped"
    if update.callback_query is not None:
        await update.callback_query.answer()
    if verdict.warn and update.effective_chat is not None:
        await ctx.bot.send_message(update.effective_chat.id, ctx.t(
            "You are sending messages very fast. Please wait {seconds} seconds, then go on.",
            seconds=verdict.wait_seconds))
    raise ApplicationHandlerStop


async def ignore_other_bots(update: Update, ctx: BotContext) -> None:
    """Messages relayed by other bots are not users asking for help."""
    if update.effective_user is not None and update.effective_user.is_bot:
        raise ApplicationHandlerStop
