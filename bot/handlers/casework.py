"""Staff's case work in Telegram: /console (a one-time link to the web console), /note (an
internal note on a case) and /canned (ready answers). The stored role is checked on every use."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

from telegram import ReplyParameters, Update
from telegram.constants import ChatType, ParseMode

from bot.context import BotContext
from bot.db.models import utcnow
from bot.handlers.replies import show
from bot.handlers.staff import _deny_quietly, replied_case_number, staff_role
from bot.handlers.staff_relay import send_answer, staff_translator
from bot.services.casework import NOTE_LIMIT
from bot.services.console_auth import LINK_LIFETIME
from bot.services.requests import Case
from bot.views import casework as views
from bot.views.callbacks import Callback

# "/note M-2026-000123 text": the number may lead the text (in any case, as people type it).
LEADING_NUMBER = re.compile(r"(?i)m-\d{4}-\d{6}\b")
# The same ready answer sent again this soon is a second press, not a second answer.
RESEND_GUARD = timedelta(minutes=2)


async def console_command(update: Update, ctx: BotContext) -> None:
    """A one-time login link to the console, in a private chat only: it is personal."""
    if await staff_role(update, ctx, "/console") is None:
        return await _deny_quietly(update, ctx)
    t = staff_translator(ctx)
    message = update.effective_message
    if update.effective_chat.type != ChatType.PRIVATE:
        await message.reply_text(views.console_in_private(t), parse_mode=ParseMode.HTML)
        return
    user = update.effective_user
    token = await ctx.services.console_auth.issue_link(user.id, user.first_name)
    if token is None:  # removed from staff a moment ago
        return await _deny_quietly(update, ctx)
    url = f"{ctx.services.settings.console_url}/login/link?token={quote(token, safe='')}"
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    # Previews off (message_parameters): Telegram's preview fetcher would use up the link.
    await message.reply_text(**views.console_link(t, url, minutes).message_parameters)


def _number_and_text(update: Update, ctx: BotContext) -> tuple[str | None, str]:
    """The case a command is about (leading its text, else the card it replies to), and the
    rest of the text with its line breaks kept."""
    parts = (update.effective_message.text or "").split(maxsplit=1)
    rest = parts[1] if len(parts) > 1 else ""
    leading = LEADING_NUMBER.match(rest)
    if leading:
        return leading.group(0).upper(), rest[leading.end():].strip()
    return replied_case_number(update, ctx.bot.id), rest.strip()


async def _case_for_command(update: Update, ctx: BotContext, number: str | None,
                            usage: str) -> Case | None:
    reply = update.effective_message.reply_text
    t = staff_translator(ctx)
    if number is None:
        await reply(usage, parse_mode=ParseMode.HTML)
        return None
    case = await ctx.services.requests.case_by_number(number)
    if case is None:
        await reply(t("No case with that number. Use /case M-2026-000123."))
        return None
    if case.request.deleted_by_user:
        await reply(views.case_gone(t), parse_mode=ParseMode.HTML)
        return None
    return case


async def note_command(update: Update, ctx: BotContext) -> None:
    """/note <text> in reply to a card, or /note M-2026-000123 <text>: never sent to the user."""
    if await staff_role(update, ctx, "/note") is None:
        return await _deny_quietly(update, ctx)
    t = staff_translator(ctx)
    reply = update.effective_message.reply_text
    number, text = _number_and_text(update, ctx)
    if not text:
        await reply(views.note_usage(t), parse_mode=ParseMode.HTML)
        return
    case = await _case_for_command(update, ctx, number, views.note_usage(t))
    if case is None:
        return
    if len(text) > NOTE_LIMIT:
        await reply(views.note_too_long(t, NOTE_LIMIT), parse_mode=ParseMode.HTML)
        return
    note = await ctx.services.casework.add_note(case.request.id, update.effective_user.id, text)
    await reply(views.note_saved(t) if note else views.case_gone(t), parse_mode=ParseMode.HTML)


async def canned_command(update: Update, ctx: BotContext) -> None:
    """/canned in reply to a card (or /canned M-2026-000123): the ready answers in the user's
    language, as buttons."""
    if await staff_role(update, ctx, "/canned") is None:
        return await _deny_quietly(update, ctx)
    t = staff_translator(ctx)
    number, _ = _number_and_text(update, ctx)
    case = await _case_for_command(update, ctx, number, views.canned_usage(t))
    if case is None:
        return
    request = case.request
    replies = await ctx.services.canned.listed(request.locale)
    language = ctx.services.catalogs.get(request.locale)("Language name")
    screen = views.canned_list(t, request, replies, language)
    await update.effective_message.reply_text(**screen.message_parameters)


async def _say(update: Update, ctx: BotContext, text: str) -> None:
    """A short answer to a button, in the chat (and forum topic) it was pressed in."""
    message = update.callback_query.message
    thread = message.message_thread_id if message is not None and message.is_accessible \
        and message.is_topic_message else None
    await ctx.bot.send_message(update.effective_chat.id, text, parse_mode=ParseMode.HTML,
                               message_thread_id=thread)


async def on_canned_button(update: Update, ctx: BotContext, pressed: Callback) -> None:
    """A ready answer pressed in the list (shown to copy, with "Send as is"), or "Send as is"
    (sent exactly like a reply to the card). Forged or stale data changes nothing."""
    if await staff_role(update, ctx, f"button:canned:{pressed.value}") is None:
        return
    t = staff_translator(ctx)
    case = await ctx.services.requests.case(pressed.id)
    if case is None or case.request.deleted_by_user:
        await _say(update, ctx, views.case_gone(t))
        return
    request = case.request
    reply = await ctx.services.canned.get(pressed.ref)
    if (reply is None or reply.locale != request.locale
            or (pressed.value == "send" and pressed.version != views.reply_version(reply))):
        await _say(update, ctx, views.canned_gone(t))
        return
    if pressed.value == "show":
        await _show_canned(update, ctx, request, reply)
        return
    last = next((m for m in reversed(case.thread) if m.author == "staff"), None)
    if last is not None and last.text == reply.text and utcnow() - last.created_at < RESEND_GUARD:
        await _say(update, ctx, views.already_sent(t))
        return
    answer = await ctx.services.requests.staff_reply(request.id, update.effective_user.id,
                                                     reply.text)
    if answer is None:
        await _say(update, ctx, views.case_gone(t))
        return
    delivery = await send_answer(ctx, answer)
    await show(update, ctx, views.canned_preview(t, request, reply, delivery))


async def _show_canned(update: Update, ctx: BotContext, request, reply) -> None:
    """The ready answer as a new message: in reply to the card in the staff group (where
    a reply to it answers the user too), else to the list."""
    message = update.callback_query.message
    accessible = message is not None and message.is_accessible
    chat_id = update.effective_chat.id
    if chat_id == ctx.services.settings.staff_chat_id and request.staff_message_id:
        reply_to = ReplyParameters(request.staff_message_id, allow_sending_without_reply=True)
    else:
        reply_to = (ReplyParameters(message.message_id, allow_sending_without_reply=True)
                    if accessible else None)
    thread = message.message_thread_id if accessible and message.is_topic_message else None
    screen = views.canned_preview(staff_translator(ctx), request, reply)
    await ctx.bot.send_message(chat_id, reply_parameters=reply_to, message_thread_id=thread,
                               **screen.message_parameters)
