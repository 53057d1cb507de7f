"""Sending screens: edit the menu message in place where possible, else send a new one."""
from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest

from bot.context import BotContext
from bot.services.interactions import InteractionRecord
from bot.views.screens import Screen

log = logging.getLogger(__name__)


async def show(update: Update, ctx: BotContext, screen: Screen) -> None:
    query = update.callback_query
    message = query.message if query is not None else None
    if message is not None and message.is_accessible:
        try:
            await ctx.bot.edit_message_text(chat_id=message.chat.id,
                                            message_id=message.message_id,
                                            **screen.message_parameters)
            return
        except BadRequest as exc:
            if "not modified" in exc.message:
                return
            log.info("could not edit message, sending a new one: %s", exc.message)
    chat = update.effective_chat
    if chat is None:
        return
    # In a forum (the staff group), the answer stays in the topic it was asked in.
    asked = update.effective_message
    thread = asked.message_thread_id if getattr(asked, "is_topic_message", False) else None
    await ctx.bot.send_message(chat_id=chat.id, message_thread_id=thread,
                               **screen.message_parameters)


async def log_interaction(ctx: BotContext, kind: str, topic_key: str | None = None,
                          query: str | None = None, result_count: int | None = None) -> None:
    """Kept with the update and written when it is done (see bot.services.inbox)."""
    if ctx.profile is None:
        return
    ctx.unit.interactions.append(InteractionRecord(
        user_key=ctx.profile.pseudonym, kind=kind, locale=ctx.locale, topic_key=topic_key,
        query=query, result_count=result_count,
    ))
