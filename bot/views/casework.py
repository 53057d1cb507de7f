"""What staff see of their case work in Telegram: the console link, notes, canned replies, a
console answer shown in the group, the reminder of waiting cases, a case's forum topic."""
from __future__ import annotations

import html
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.content.markup import TELEGRAM_TEXT_LIMIT, telegram_length
from bot.content.model import Content
from bot.db.models import CannedReply, HelpRequest
from bot.i18n import Translator
from bot.services.requests import Waiting
from bot.views import callbacks, escape
from bot.views.requests import topic_title
from bot.views.screens import PAGE_MARGIN, Screen

FORUM_TOPIC_NAME_LIMIT = 128  # Telegram's limit for a topic's name
CANNED_BUTTONS_LIMIT = 50  # Telegram shows at most 100 buttons; a list this long is unusable anyway
CONSOLE_ANSWER_LIMIT = 3000  # of the answer's text quoted in the group; the rest is cut


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def console_link(t: Translator, url: str, minutes: int) -> Screen:
    """The one-time login link (sent with link previews off: a preview would open it)."""
    title = t("Your link to the staff console")
    lines = [f"<b>{escape(title)}</b>",
             f'<a href="{html.escape(url, quote=True)}">{escape(url)}</a>',
             escape(t("It works once and for {minutes} minutes. Do not forward it: it logs in "
                      "as you.", minutes=minutes))]
    return Screen("\n\n".join(lines))


def console_in_private(t: Translator) -> str:
    return escape(t("Send /console to the bot in a private chat: the link is personal."))


def note_usage(t: Translator) -> str:
    return escape(t("Reply to a case card with /note and the text, or write "
                    "/note M-2026-000123 and the text."))


def note_saved(t: Translator) -> str:
    return "📝 " + escape(t("Note saved. The user does not see it."))


def note_too_long(t: Translator, limit: int) -> str:
    return escape(t("A note is 1 to {limit} characters.", limit=limit))


def canned_usage(t: Translator) -> str:
    return escape(t("Reply to a case card with /canned, or write /canned M-2026-000123."))


def canned_list(t: Translator, request: HelpRequest, replies: list[CannedReply],
                language_name: str) -> Screen:
    """The ready answers in the user's language, one button each."""
    if not replies:
        return Screen(escape(t("There are no ready answers in {language} yet. Staff add them "
                               "in the console.", language=language_name)))
    text = escape(t("Ready answers in {language}: press one to see it.", language=language_name))
    shown = replies[:CANNED_BUTTONS_LIMIT]
    rows = [[_button(reply.title, callbacks.canned(reply.id, request.id))] for reply in shown]
    return Screen(text, InlineKeyboardMarkup(rows))


def reply_version(reply: CannedReply) -> int:
    """Changes when the reply is edited: "Send as is" sends only the text staff saw."""
    return int(reply.updated_at.timestamp())


def canned_preview(t: Translator, request: HelpRequest, reply: CannedReply,
                   outcome: str | None = None) -> Screen:
    """A ready answer for the case, to copy and edit, with "Send as is" until it was sent
    (`outcome`: delivered, blocked or pending once it was)."""
    heading = t("Ready answer for {number}: {title}", number=request.number, title=reply.title)
    parts = [f"<b>{escape(heading)}</b>", f"<pre>{escape(reply.text)}</pre>"]
    if outcome is None:
        hint = t("Copy it, change what is needed and reply to the card with it, or send it as is.")
        parts.append(f"<i>{escape(hint)}</i>")
        keyboard = InlineKeyboardMarkup([[_button(
            t("📤 Send as is"), callbacks.canned_send(reply.id, request.id, reply_version(reply)))]])
        return Screen("\n\n".join(parts), keyboard)
    parts.append(escape(answer_outcome(t, request.number, outcome)))
    return Screen("\n\n".join(parts))


def answer_outcome(t: Translator, number: str, delivery: str) -> str:
    if delivery == "delivered":
        return t("✅ Sent to the user ({number}).", number=number)
    if delivery == "blocked":
        return t("⚠️ Not delivered: the user has blocked the bot ({number}).", number=number)
    return t("⏳ Telegram did not take it yet; it will be sent again ({number}).", number=number)


def canned_gone(t: Translator) -> str:
    return escape(t("This ready answer was changed or deleted. Send /canned again."))


def case_gone(t: Translator) -> str:
    return escape(t("This case was deleted by the user."))


def already_sent(t: Translator) -> str:
    return escape(t("This answer was just sent to the user."))


def console_answer(t: Translator, number: str, name: str, text: str, delivery: str) -> str:
    """A console answer, shown in the case's place in the staff group."""
    # The number first: a reply to this message answers the user of the case it names first.
    heading = t("💬 {number}: answered in the console by {name}", number=number, name=name)
    parts = [f"<b>{escape(heading)}</b>", escape(_cut(text, CONSOLE_ANSWER_LIMIT))]
    if delivery != "delivered":
        parts.append(escape(answer_outcome(t, number, delivery)))
    return "\n\n".join(parts)


def card_link(chat_id: int, message_id: int | None, topic_id: int | None = None) -> str | None:
    """A t.me link to a message in a supergroup (ids -100…); None where there is none."""
    digits = str(chat_id)
    if message_id is None or not digits.startswith("-100"):
        return None
    link = f"https://t.me/c/{digits[4:]}/{message_id}"
    return f"{link}?thread={topic_id}" if topic_id else link


def _hours(hours: float) -> str:
    return f"{hours:g}"


def staff_reminder(t: Translator, waiting: list[Waiting], total: int, hours: float,
                   now: datetime, chat_id: int) -> tuple[str, list[int]]:
    """One message listing the cases that wait longest (a link to each card where the group
    has links), within Telegram's limit; and the ids of the cases it lists."""
    title = t("⏰ Waiting for staff for over {hours} h: {count}", hours=_hours(hours), count=total)
    header = f"<b>{escape(title)}</b>"
    budget = TELEGRAM_TEXT_LIMIT - PAGE_MARGIN - telegram_length(header)
    lines, listed = [], []
    for row in waiting:
        request = row.request
        waited = int((now - request.waiting_since).total_seconds() // 3600)
        link = card_link(chat_id, request.staff_message_id, request.forum_topic_id)
        number = escape(request.number)
        if link:
            number = f'<a href="{html.escape(link, quote=True)}">{number}</a>'
        holder = row.holder or t("nobody")
        line = (("🆘 " if request.urgent else "") + number + " · "
                + escape(t("{hours} h", hours=waited)) + " · " + escape(holder))
        if telegram_length("\n".join(lines + [line])) > budget:
            break
        lines.append(line)
        listed.append(request.id)
    rest = total - len(listed)
    if rest > 0:
        lines.append(escape(t("…and {count} more: see /queue or the console.", count=rest)))
    return "\n".join([header, *lines]), listed


def forum_topic_name(content: Content, t: Translator, request: HelpRequest) -> str:
    """The name of a case's own topic: its number and what it is about, within 128."""
    name = f"{request.number} · {topic_title(content, t.locale, request.topic_key, t)}"
    while len(name.encode("utf-16-le")) // 2 > FORUM_TOPIC_NAME_LIMIT:
        name = name[:-2] + "…"
    return name
