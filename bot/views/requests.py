"""Screens of the ask-a-person flow, the user's cases, and what staff see."""
from __future__ import annotations

from datetime import datetime

from telegram import (InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton,
                      ReplyKeyboardMarkup)

from bot.content.markup import TELEGRAM_TEXT_LIMIT, telegram_length
from bot.content.model import Content
from bot.db.models import HelpRequest, RequestMessage
from bot.i18n import Translator
from bot.services.requests import ASKERS, COMMENT_LIMIT, COUNTRIES, QUESTION_LIMIT
from bot.views import callbacks, escape
from bot.views.countries import COUNTRY_NAMES
from bot.views.labels import ASKER_NAMES, STATUS_ICONS, STATUS_NAMES
from bot.views.screens import PAGE_MARGIN, Screen, paginate

MISSING = object()


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def _cancel_row(t: Translator) -> list[InlineKeyboardButton]:
    return [_button(t("✖️ Cancel"), callbacks.MAIN_MENU)]


def _form_row(t: Translator, step: str) -> list[InlineKeyboardButton]:
    """Back to the step before, and Cancel: on every step of the ask form."""
    return [_button(t("‹ Back"), callbacks.flow("back", step)),
            _button(t("✖️ Cancel"), callbacks.flow("cancel", step))]


def _chosen(label: str, is_current: bool) -> str:
    return f"✓ {label}" if is_current else label


def _paragraphs(*lines: str) -> str:
    return "\n\n".join(escape(line) for line in lines)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def topic_title(content: Content, locale: str, key: str | None, t: Translator) -> str:
    if key and content.topic(key):
        return content.text(locale, key).title
    return t("Other question")


def choose_topic(content: Content, t: Translator, locale: str, form: dict | None = None) -> Screen:
    """`form`: the answers so far; the topic given before is ticked."""
    form = form or {}
    current = form.get("topic", MISSING)
    rows = [[_button(_chosen(content.text(locale, key).title, key == current),
                     callbacks.flow("topic", key))] for key in content.roots]
    rows.append([_button(_chosen(t("Other question"), "topic" in form and current is None),
                         callbacks.flow("topic", "-"))])
    rows.append(_form_row(t, "topic"))
    return Screen(_paragraphs(t("Ask a person"), t("What is your question about?")),
                  InlineKeyboardMarkup(rows))


def choose_country(t: Translator, form: dict | None = None, preferred: str | None = None) -> Screen:
    """The person's own country (`preferred`) comes first; the one given before is ticked."""
    current = (form or {}).get("country")
    codes = sorted(COUNTRIES, key=lambda code: code != preferred)
    buttons = [_button(_chosen(t(COUNTRY_NAMES[code]), code == current),
                       callbacks.flow("country", code)) for code in codes]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)] + [_form_row(t, "country")]
    return Screen(_paragraphs(t("Where is the person this question is about now?")),
                  InlineKeyboardMarkup(rows))


def choose_asker(t: Translator, form: dict | None = None) -> Screen:
    current = (form or {}).get("asker")
    rows = [[_button(_chosen(t(ASKER_NAMES[code]), code == current),
                     callbacks.flow("asker", code))] for code in ASKERS]
    rows.append(_form_row(t, "asker"))
    return Screen(_paragraphs(t("Who is asking?")), InlineKeyboardMarkup(rows))


QUOTED_TEXT_LIMIT = 300


def _quoted(text: str) -> str:
    return text if len(text) <= QUOTED_TEXT_LIMIT else text[:QUOTED_TEXT_LIMIT - 1] + "…"


def write_question(t: Translator, form: dict | None = None) -> Screen:
    """The question step; a question written (or typed before) can be kept or replaced."""
    text = (form or {}).get("text")
    lines = [t("Write your question in one message, up to {limit} characters.",
               limit=QUESTION_LIMIT),
             t("Please do not send passport scans, photos of documents or health details.")]
    rows = []
    if text:
        lines = [t("Your question:"), f"«{_quoted(text)}»",
                 t("Send a new message to replace it, or keep it.")] + lines[1:]
        rows.append([_button(t("Keep this question ›"), callbacks.flow("keep", "text"))])
    rows.append(_form_row(t, "text"))
    return Screen(_paragraphs(*lines), InlineKeyboardMarkup(rows))


def question_too_long(t: Translator, length: int) -> str:
    return escape(t("Your message is {length} characters long; the limit is {limit}. "
                         "Please shorten it and send it again.", length=length,
                         limit=QUESTION_LIMIT))


def share_phone(t: Translator) -> Screen:
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton(t("📞 Share my phone number"), request_contact=True)],
         [KeyboardButton(t("Skip"))], [KeyboardButton(t("‹ Back"))]],
        resize_keyboard=True, one_time_keyboard=True)
    return Screen(_paragraphs(
        t("If you want staff to be able to call you, share your phone number with the button "
          "below. This is not required."),
    ), keyboard)


def consent(t: Translator, retention_days: int, content: Content | None = None,
            locale: str = "", form: dict | None = None) -> Screen:
    """What will be sent (so a wrong answer can be fixed with Back) and what is stored."""
    form = form or {}
    title = t("Before we send your question")
    parts = [f"<b>{escape(title)}</b>"]
    if content is not None and "country" in form and "asker" in form:
        summary = [t("Topic: {topic}", topic=topic_title(content, locale, form.get("topic"), t)),
                   t("Country: {country}", country=t(COUNTRY_NAMES[form["country"]])),
                   t("Asking: {asker}", asker=t(ASKER_NAMES[form["asker"]]))]
        parts.append("\n".join(escape(line) for line in summary))
        if form.get("text"):
            parts.append(f"<i>«{escape(_quoted(form['text']))}»</i>")
    if form.get("urgent"):
        parts.append("🆘 " + escape(t("Marked urgent: staff will see it first.")))
    parts += [
        escape(t("We will store: your question, the topic, the country, who is asking, your "
                      "language, your Telegram account and your phone number if you shared it.")),
        escape(t("Why: so that staff of the Migration Agency can read your question and "
                      "answer you here.")),
        escape(t("Who reads it: only staff of the Migration Agency.")),
        escape(t("How long: {days} days after your request is closed, then it is deleted.",
                      days=retention_days)),
        escape(t("You can see everything stored about you with /mydata and delete it at "
                      "any time with /delete.")),
    ]
    rows = [[_button(t("✅ I agree, send"), callbacks.flow("consent", "yes"))],
            [_button(t("✖️ Do not send"), callbacks.flow("consent", "no"))],
            [_button(t("‹ Back"), callbacks.flow("back", "consent"))]]
    return Screen("\n\n".join(parts), InlineKeyboardMarkup(rows))


def filed(t: Translator, number: str) -> Screen:
    title = t("Your request is registered.")
    text = "\n\n".join([
        f"✅ <b>{escape(title)}</b>",
        escape(t("Case number: {number}", number=number)),
        escape(t("Staff of the Migration Agency will answer you here, in this chat.")),
    ])
    rows = [[_button(t("📂 My requests"), callbacks.MY_REQUESTS)],
            [_button(t("Main menu"), callbacks.MAIN_MENU)]]
    return Screen(text, InlineKeyboardMarkup(rows))


def my_requests(t: Translator, requests: list[HelpRequest]) -> Screen:
    if not requests:
        text = escape(t("You have no requests yet."))
    else:
        text = escape(t("Your requests:"))
    rows = [[_button(f"{STATUS_ICONS[r.status]} {r.number} · {t(STATUS_NAMES[r.status])}",
                     callbacks.my_case(r.id))] for r in requests]
    rows.append([_button(t("❓ Ask a question"), callbacks.ASK)])
    rows.append([_button(t("Main menu"), callbacks.MAIN_MENU)])
    return Screen(text, InlineKeyboardMarkup(rows))


def _thread_blocks(t: Translator, thread: list[RequestMessage]) -> tuple[str, ...]:
    blocks = []
    for message in thread:
        who = t("You") if message.author == "user" else t("Migration Agency")
        undelivered = "" if message.delivered else " ⚠️ " + t("not delivered")
        blocks.append(f"<b>{escape(who)}</b> · {_when(message.created_at)}"
                      f"{escape(undelivered)}\n{escape(message.text)}")
    return tuple(blocks)


def _thread_pages(header: str, blocks: tuple[str, ...]) -> list[str]:
    budget = TELEGRAM_TEXT_LIMIT - PAGE_MARGIN - telegram_length(header)
    return [f"{header}\n\n{page}" for page in paginate(blocks, budget)]


def _pager(make, request_id: int, page: int, count: int) -> list[InlineKeyboardButton]:
    row = []
    if page > 0:
        row.append(_button("‹", make(request_id, page - 1)))
    row.append(_button(f"{page + 1}/{count}", callbacks.NOOP))
    if page < count - 1:
        row.append(_button("›", make(request_id, page + 1)))
    return row


def user_case(t: Translator, request: HelpRequest, thread: list[RequestMessage],
              page: int = 0) -> Screen:
    header = f"<b>{escape(request.number)}</b> · {escape(t(STATUS_NAMES[request.status]))}"
    pages = _thread_pages(header, _thread_blocks(t, thread))
    page = min(max(page, 0), len(pages) - 1)
    rows = []
    if len(pages) > 1:
        rows.append(_pager(callbacks.my_case, request.id, page, len(pages)))
    rows.append([_button(t("✍️ Add a message"), callbacks.write_to_case(request.id))])
    rows.append([_button(t("‹ Back"), callbacks.MY_REQUESTS),
                 _button(t("Main menu"), callbacks.MAIN_MENU)])
    return Screen(pages[page], InlineKeyboardMarkup(rows))


def write_follow_up(t: Translator, number: str) -> Screen:
    return Screen(escape(t("Write your message for case {number}.", number=number)),
                  InlineKeyboardMarkup([_cancel_row(t)]))


def follow_up_added(t: Translator, number: str) -> str:
    return escape(t("Your message was added to case {number}. Staff will see it.",
                         number=number))


def staff_answer_for_user(t: Translator, number: str, text: str) -> Screen:
    heading = t("💬 Answer from the Migration Agency on your request {number}:", number=number)
    body = "\n\n".join([f"<b>{escape(heading)}</b>", escape(text),
                        escape(t("You can reply by writing a message here."))])
    rows = [[_button(t("📂 My requests"), callbacks.MY_REQUESTS),
             _button(t("Main menu"), callbacks.MAIN_MENU)]]
    return Screen(body, InlineKeyboardMarkup(rows))


# What staff see. Staff read in the bot's default locale.

def _holder_line(t: Translator, request: HelpRequest, holder: str | None) -> str:
    if request.assignee_id is None:
        return escape(t("Nobody has taken it yet."))
    return escape(t("Taken by: {staff_id}", staff_id=holder or request.assignee_id))


SATISFACTION_ICONS = {"up": "👍", "down": "👎"}
CARD_COMMENT_LIMIT = 300


def _satisfaction_lines(t: Translator, request: HelpRequest, comment_limit: int) -> list[str]:
    """What the user said when asked whether the answer helped, if they did."""
    if request.satisfaction not in SATISFACTION_ICONS:
        return []
    verdict = (t("The user says the answer helped.") if request.satisfaction == "up"
               else t("The user says the answer did not help."))
    lines = [f"{SATISFACTION_ICONS[request.satisfaction]} {escape(verdict)}"]
    if request.satisfaction_comment:
        comment = request.satisfaction_comment
        if len(comment) > comment_limit:
            comment = comment[:comment_limit - 1] + "…"
        lines.append(escape(t("Their comment: {comment}", comment=comment)))
    return lines


def staff_card(content: Content, t: Translator, request: HelpRequest, question: str,
               language_name: str, holder: str | None = None, notes: int = 0) -> Screen:
    """The case's card in the staff group, edited whenever the case changes. `holder`: the
    name (or id) of who holds it; `notes`: how many internal notes it has."""
    if request.deleted_by_user:
        deleted = t("Deleted by the user.")
        return Screen(f"🗑 <b>{escape(request.number)}</b>\n{escape(deleted)}")
    lines = [
        f"{STATUS_ICONS[request.status]} <b>{escape(request.number)}</b> · "
        f"{escape(t(STATUS_NAMES[request.status]))}",
        *_urgent_line(t, request),
        escape(t("Topic: {topic}", topic=topic_title(content, t.locale, request.topic_key, t))),
        escape(t("Country: {country}", country=t(COUNTRY_NAMES[request.country]))),
        escape(t("Language: {language}", language=language_name)),
        escape(t("Asking: {asker}", asker=t(ASKER_NAMES[request.asker]))),
        escape(t("Phone: {phone}", phone=request.phone or "—")),
        escape(t("Received: {time}", time=_when(request.created_at))),
        _holder_line(t, request, holder),
    ]
    if notes:
        lines.append("📝 " + escape(t("Internal notes: {count}", count=notes)))
    lines += _satisfaction_lines(t, request, CARD_COMMENT_LIMIT)
    if request.user_blocked:
        lines.append("⚠️ " + escape(t("The user blocked the bot: answers cannot be delivered.")))
    header = "\n".join(lines)
    hint = "\n".join([escape(t("Reply to this message to answer the user.")),
                      escape(t("In reply to it: /note adds an internal note, /canned shows "
                               "ready answers."))])
    budget = TELEGRAM_TEXT_LIMIT - PAGE_MARGIN - telegram_length(header) - telegram_length(hint)
    question_html = paginate((escape(question),), budget)[0]
    rows = [[_button(t("🛠 Take"), callbacks.staff_action("take", request.id)),
             _button(t("✅ Resolve"), callbacks.staff_action("resolve", request.id)),
             _button(t("🔒 Close"), callbacks.staff_action("close", request.id))]]
    return Screen(f"{header}\n\n{question_html}\n\n<i>{hint}</i>", InlineKeyboardMarkup(rows))


def _urgent_line(t: Translator, request: HelpRequest) -> list[str]:
    if not request.urgent:
        return []
    label = t("URGENT: the message signals distress or forced labour.")
    return [f"🆘 <b>{escape(label)}</b>"]


def staff_follow_up(t: Translator, number: str, text: str) -> str:
    heading = t("↩️ New message from the user on {number}:", number=number)
    hint = t("Reply to this message to answer the user.")
    return f"<b>{escape(heading)}</b>\n\n{escape(text)}\n\n<i>{escape(hint)}</i>"


def _note_blocks(t: Translator, notes, names: dict[int, str]) -> tuple[str, ...]:
    label = t("📝 Internal note")
    return tuple(f"<b>{escape(label)}</b> · {escape(names.get(note.author_id) or str(note.author_id))}"
                 f" · {_when(note.created_at)}\n{escape(note.text)}" for note in notes)


def staff_case(t: Translator, request: HelpRequest, thread: list[RequestMessage],
               page: int = 0, notes=(), names: dict[int, str] | None = None) -> Screen:
    """A case for staff: who holds it, the user's verdict, the thread, then the internal
    notes (never shown to the user). `names`: staff id → name."""
    names = names or {}
    header = "\n".join([f"{STATUS_ICONS[request.status]} <b>{escape(request.number)}</b> · "
                        f"{escape(t(STATUS_NAMES[request.status]))}", *_urgent_line(t, request),
                        _holder_line(t, request, names.get(request.assignee_id)),
                        *_satisfaction_lines(t, request, COMMENT_LIMIT)])
    if request.deleted_by_user:
        header += "\n" + escape(t("Deleted by the user."))
    blocks = tuple(block.replace(escape(t("You")), escape(t("User")), 1)
                   for block in _thread_blocks(t, thread)) + _note_blocks(t, notes, names)
    pages = _thread_pages(header, blocks)
    page = min(max(page, 0), len(pages) - 1)
    rows = []
    if len(pages) > 1:
        rows.append(_pager(callbacks.staff_case, request.id, page, len(pages)))
    rows.append([_button(t("🛠 Take"), callbacks.staff_action("take", request.id)),
                 _button(t("✅ Resolve"), callbacks.staff_action("resolve", request.id)),
                 _button(t("🔒 Close"), callbacks.staff_action("close", request.id))])
    hint = escape(t("Reply to this message to answer the user."))
    return Screen(f"{pages[page]}\n\n<i>{hint}</i>", InlineKeyboardMarkup(rows))


def staff_list(t: Translator, title: str, requests: list[HelpRequest], now: datetime,
               page: int = 0, total: int | None = None, per_page: int = 10) -> Screen:
    lines = [f"<b>{escape(title)}</b>"]
    if not requests:
        lines.append(escape(t("Nothing here.")))
    rows = []
    for request in requests:
        age_hours = int((now - request.created_at).total_seconds() // 3600)
        urgent = "🆘 " if request.urgent else ""
        lines.append(escape(f"{urgent}{STATUS_ICONS[request.status]} {request.number} · "
                                 f"{request.country} · {request.topic_key or '-'} · "
                                 + t("{hours} h ago", hours=age_hours)))
        rows.append([_button(f"{urgent}{request.number}", callbacks.staff_case(request.id))])
    if total is not None and total > per_page:
        pages = (total + per_page - 1) // per_page
        nav = []
        if page > 0:
            nav.append(_button("‹", callbacks.queue(page - 1)))
        nav.append(_button(f"{page + 1}/{pages}", callbacks.NOOP))
        if page < pages - 1:
            nav.append(_button("›", callbacks.queue(page + 1)))
        rows.append(nav)
    return Screen("\n".join(lines), InlineKeyboardMarkup(rows) if rows else None)


def _counts(t: Translator, pairs, names: dict | None = None) -> str:
    return ", ".join(f"{t(names[k]) if names and k in names else k}: {n}" for k, n in pairs) or "—"


def stats(t: Translator, figures: dict) -> str:
    title = t("Statistics")
    lines = [f"<b>{escape(title)}</b>"]
    for days, window in figures["windows"].items():
        heading = t("Last {days} days: {total} requests", days=days, total=window["total"])
        lines += [
            "", f"<b>{escape(heading)}</b>",
            escape(t("By status: {counts}", counts=_counts(t, window["status"], STATUS_NAMES))),
            escape(t("By topic: {counts}", counts=_counts(t, window["topic"]))),
            escape(t("By language: {counts}", counts=_counts(t, window["language"]))),
            escape(t("By country: {counts}", counts=_counts(t, window["country"]))),
            escape(t("Median time to first reply: {hours} h",
                          hours=window["first_reply_hours"] if window["first_reply_hours"] is not None else "—")),
            escape(t("Median time to resolution: {hours} h",
                          hours=window["resolution_hours"] if window["resolution_hours"] is not None else "—")),
        ]
    lines += ["", escape(t("Most viewed topics (30 days): {counts}",
                                counts=_counts(t, figures["top_topics"])))]
    return "\n".join(lines)
