"""Runs before every feature: who is this, and which language do they read."""
from __future__ import annotations

import time

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext
from bot.i18n import guess_locale
from bot.services.flood import FloodGuard


async def load_user(update: Update, ctx: BotContext) -> None:
    user = update.effective_user
    if user is None or user.is_bot:
        return
    ctx.profile = await ctx.services.users.seen(user.id, user.language_code)
    if ctx.profile.is_new:
        ctx.services.note_new_user(user.id)
    ctx.locale = ctx.profile.locale or guess_locale(
        user.language_code, ctx.services.settings.default_locale)


async def limit_floods(update: Update, ctx: BotContext) -> None:
    """Over the per-user limit: one localized warning, then updates are dropped for a while."""
    if ctx.profile is None:
        return
    verdict = ctx.services.flood.check(ctx.profile.id, time.monotonic())
    if verdict == FloodGuard.WARN and update.effective_chat is not None:
        await ctx.bot.send_message(update.effective_chat.id,
                                   ctx.t("You are sending messages very fast. Please wait a little, then try again."))
    if verdict != FloodGuard.OK:
        if update.callback_query is not None:
            await update.callback_query.answer()
        raise ApplicationHandlerStop


async def ignore_other_bots(update: Update, ctx: BotContext) -> None:
    """Messages relayed by other bots are not users asking for help."""
    if update.effective_user is not None and update.effective_user.is_bot:
        raise ApplicationHandlerStop
