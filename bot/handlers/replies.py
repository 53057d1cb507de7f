"""Sending screens: edit the menu message in place where possible, else send a new one."""
from __future__ import annotations

import logging

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.context import BotContext
from bot.services.interactions import InteractionRecord
from bot.views.screens import Screen

log = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


async def show(update: Update, ctx: BotContext, screen: Screen) -> None:
    query = update.callback_query
    if query is not None and query.message is not None and query.message.is_accessible:
        try:
            await query.edit_message_text(screen.text, parse_mode=ParseMode.HTML,
                                          reply_markup=screen.keyboard,
                                          link_preview_options=NO_PREVIEW)
            return
        except BadRequest as exc:
            if "not modified" in exc.message:
                return
            log.info("could not edit message, sending a new one: %s", exc.message)
    chat = update.effective_chat
    if chat is None:
        return
    await ctx.bot.send_message(chat.id, screen.text, parse_mode=ParseMode.HTML,
                               reply_markup=screen.keyboard, link_preview_options=NO_PREVIEW)


async def log_interaction(ctx: BotContext, kind: str, topic_key: str | None = None,
                          query: str | None = None, result_count: int | None = None) -> None:
    if ctx.profile is None:
        return
    await ctx.services.interactions.record(InteractionRecord(
        user_key=ctx.profile.pseudonym, kind=kind, locale=ctx.locale, topic_key=topic_key,
        query=query, result_count=result_count,
    ))
