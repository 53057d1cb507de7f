"""The one error handler: log with the update id, apologise to the user, alert staff."""
from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot.context import BotContext
from bot.handlers.staff_relay import staff_translator
from bot.i18n import guess_locale

log = logging.getLogger(__name__)


async def on_error(update: object, ctx: BotContext) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error while handling update %s", update_id, exc_info=ctx.error)
    if not isinstance(update, Update):
        return
    chat = update.effective_chat
    # Error handlers get a fresh context: the user's locale has to be found again.
    user = update.effective_user
    if user is not None and ctx.services.users is not None:
        ctx.locale = await ctx.services.users.stored_locale(user.id) or guess_locale(
            user.language_code, ctx.services.settings.default_locale)
    if isinstance(ctx.error, Forbidden) and chat is not None and chat.type == chat.PRIVATE:
        await ctx.services.users.mark_inactive(chat.id)
        return
    try:
        if chat is not None and chat.type == chat.PRIVATE:
            await ctx.bot.send_message(chat.id, ctx.t(
                "Sorry, something went wrong on our side. Please try again in a minute."))
        staff_chat = ctx.services.settings.staff_chat_id
        if staff_chat is not None:
            t = staff_translator(ctx)
            await ctx.bot.send_message(staff_chat, t(
                "⚠️ The bot failed on update {update_id}: {error}. Details are in the log.",
                update_id=update_id, error=type(ctx.error).__name__))
    except TelegramError:
        log.warning("could not report the error for update %s", update_id, exc_info=True)
