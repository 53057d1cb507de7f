"""Runs before every feature: who is this, and which language do they read."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext
from bot.i18n import guess_locale


async def load_user(update: Update, ctx: BotContext) -> None:
    user = update.effective_user
    if user is None or user.is_bot:
        return
    ctx.profile = await ctx.services.users.seen(user.id, user.language_code)
    ctx.locale = ctx.profile.locale or guess_locale(
        user.language_code, ctx.services.settings.default_locale)


async def ignore_other_bots(update: Update, ctx: BotContext) -> None:
    """Messages relayed by other bots are not users asking for help."""
    if update.effective_user is not None and update.effective_user.is_bot:
        raise ApplicationHandlerStop
