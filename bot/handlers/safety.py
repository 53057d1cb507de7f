"""Safety for people at risk: the answer to a cry for help, "Talk to a person now", and the
quick exit (/hide and its button), which deletes the chat's messages and leaves one neutral
message. Nothing else is lost: drafts and cases stay."""
from __future__ import annotations

import asyncio
import logging

from telegram import ReplyKeyboardRemove, Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.context import BotContext
from bot.handlers import ask
from bot.handlers.replies import log_interaction, show
from bot.safety.distress import Distress
from bot.services.search import Result
from bot.views import safety as views

log = logging.getLogger(__name__)

DELETE_AT_ONCE = 10  # deleteMessage calls in flight together


async def answer_distress(update: Update, ctx: BotContext, distress: Distress,
                          found: list[Result]) -> None:
    # The words of a cry for help are not logged: it is kept only as the question to send.
    await log_interaction(ctx, "distress", result_count=len(found))
    await show(update, ctx, views.distress_answer(ctx.t, ctx.services.content.current, ctx.locale,
                                                  distress.topics, found))


async def talk_to_a_person(update: Update, ctx: BotContext) -> None:
    """One tap from the cry for help: the ask form with the message filled in, marked urgent,
    its topic the help it called for."""
    text = await ctx.services.users.take_unanswered(ctx.profile.id)
    distress = ctx.services.safety.detect(text) if text else None
    topic = distress.topics[0] if distress is not None and distress.topics else None
    await ask.start_ask(update, ctx, topic, text, urgent=True)


async def hide_command(update: Update, ctx: BotContext) -> None:
    await quick_exit(update, ctx)


async def quick_exit(update: Update, ctx: BotContext) -> None:
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE or ctx.profile is None:
        return
    # Those written before this update, and those of this update (the /hide itself).
    ids = set(await ctx.services.quick_exit.deletable(chat.id))
    ids.update(message_id for chat_id, message_id in ctx.unit.messages if chat_id == chat.id)
    pressed = update.callback_query.message if update.callback_query is not None else None
    if pressed is not None:
        ids.add(pressed.message_id)
    await _delete(ctx, chat.id, sorted(ids))
    await ctx.services.quick_exit.forget(chat.id, sorted(ids))
    ctx.unit.messages[:] = [m for m in ctx.unit.messages if m[0] != chat.id]
    await log_interaction(ctx, "hide")
    # One neutral message stays (it closes a phone-number keyboard too).
    await ctx.bot.send_message(chat.id, ctx.t("Hello! Send /start to begin."),
                               reply_markup=ReplyKeyboardRemove())


async def _delete(ctx: BotContext, chat_id: int, message_ids: list[int]) -> None:
    async def delete(message_id: int) -> None:
        try:
            await ctx.bot.delete_message(chat_id, message_id)
        except TelegramError as exc:  # already gone, or too old: nothing more to do
            log.info("message %s not deleted: %s", message_id, exc)

    for start in range(0, len(message_ids), DELETE_AT_ONCE):
        await asyncio.gather(*(delete(m) for m in message_ids[start:start + DELETE_AT_ONCE]))
