"""The screens the user navigates: language picker, main menu, sections and topics."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass

from babel.dates import format_date
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode

from bot.content.countries import country_sections, visible_children
from bot.content.markup import TELEGRAM_TEXT_LIMIT, telegram_length
from bot.content.model import Content, Topic
from bot.i18n import Translator
from bot.views import callbacks, escape
from bot.views.countries import COUNTRY_NAMES, FLAGS, flagged

# Room kept free below Telegram's limit so a translation growing a little never breaks a page.
PAGE_MARGIN = 96
BREADCRUMB_SEPARATOR = " › "


NO_LINK_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass(frozen=True)
class Screen:
    text: str
    keyboard: InlineKeyboardMarkup | None = None

    @property
    def message_parameters(self) -> dict:
        """The screen as send_message/edit_message_text arguments: HTML, no link preview."""
        return {"text": self.text, "parse_mode": ParseMode.HTML,
                "link_preview_options": NO_LINK_PREVIEW, "reply_markup": self.keyboard}


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def navigation_row(t: Translator, back_to: str | None) -> list[InlineKeyboardButton]:
    back = callbacks.topic(back_to) if back_to else callbacks.MAIN_MENU
    return [_button(t("‹ Back"), back), _button(t("Main menu"), callbacks.MAIN_MENU)]


def language_picker(translators: list[Translator], then_key: str | None = None) -> Screen:
    """One button per locale, the guessed one first; the prompt in every language."""
    text = "\n".join(escape(t("Choose your language and script")) for t in translators)
    rows = [[_button(t("Language name"), callbacks.language(t.locale, then_key))]
            for t in translators]
    return Screen(text, InlineKeyboardMarkup(rows))


def main_menu(content: Content, t: Translator, locale: str, country: str | None = None) -> Screen:
    """`country`: where the person is or is going; its own section comes first."""
    known = country if country in COUNTRY_NAMES else None
    rows = [[_button(f"{FLAGS[known]} {content.text(locale, key).title}", callbacks.topic(key))]
            for key in country_sections(content, known)]
    rows += [[_button(content.text(locale, key).title, callbacks.topic(key))]
             for key in content.roots]
    rows.append([_button(t("📅 My deadlines"), callbacks.DEADLINES)])
    rows.append([_button(t("❓ Ask a question"), callbacks.ASK),
                 _button(t("📂 My requests"), callbacks.MY_REQUESTS)])
    rows.append([_button(t("🌐 Language"), callbacks.LANGUAGE_PICKER),
                 _button(country_button(t, country), callbacks.COUNTRY_PICKER)])
    title, hint = t("Main menu"), t("Choose a topic below.")
    text = f"<b>{escape(title)}</b>\n{escape(hint)}"
    return Screen(text, InlineKeyboardMarkup(rows))


def country_button(t: Translator, country: str | None) -> str:
    if country in COUNTRY_NAMES:
        return f"📍 {t(COUNTRY_NAMES[country])}"
    if country == callbacks.ALL_COUNTRIES:
        return t("🌍 All countries")
    return t("📍 Your country")


def country_picker(t: Translator, current: str | None, first_time: bool = False) -> Screen:
    """Where the person is or is going: asked once after the language, changed from the menu."""
    title = t("Which country are you in, or going to?")
    text = "\n".join([f"<b>{escape(title)}</b>", escape(t(
        "Its topics will come first and other countries' will be hidden. You can change this "
        "at any time in the main menu."))])
    buttons = [_button(f"✓ {flagged(t, code)}" if code == current else flagged(t, code),
                       callbacks.country(code)) for code in COUNTRY_NAMES]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    everywhere = t("🌍 All countries")
    rows.append([_button(f"✓ {everywhere}" if current == callbacks.ALL_COUNTRIES else everywhere,
                         callbacks.country(callbacks.ALL_COUNTRIES))])
    rows.append([_button(t("Skip ›") if first_time else t("‹ Back"), callbacks.MAIN_MENU)])
    return Screen(text, InlineKeyboardMarkup(rows))


def breadcrumb(content: Content, t: Translator, locale: str, key: str) -> str:
    titles = [t("Main menu")] + [content.text(locale, k).title for k in content.trail(key)[:-1]]
    return f"<i>{escape(BREADCRUMB_SEPARATOR.join(titles))}</i>"


def _sources_footer(topic: Topic, t: Translator, locale: str) -> str:
    lines = []
    if topic.sources:
        heading = t("Sources:")
        lines.append(f"<b>{escape(heading)}</b>")
        for source in topic.sources:
            title = escape(source.title)
            if source.url:
                title = f'<a href="{html.escape(source.url)}">{title}</a>'
            lines.append(f"• {title}")
    if topic.reviewed:
        reviewed = format_date(topic.reviewed, format="long", locale=locale)
        lines.append(escape(t("Reviewed on {date}", date=reviewed)))
    return "\n".join(lines)


def _header(content: Content, t: Translator, locale: str, topic: Topic) -> str:
    parts = [breadcrumb(content, t, locale, topic.key),
             f"<b>{escape(content.text(locale, topic.key).title)}</b>"]
    if not topic.verified:
        parts.append("⚠️ " + escape(t(
            "To be confirmed: staff have not yet checked every fact here against an official source.")))
    text = content.text(locale, topic.key)
    if text.served_from != locale:
        parts.append(escape(t("This topic is not yet translated into your language.")))
    return "\n".join(parts)


def _split_oversized(block: str, budget: int) -> list[str]:
    """Cut a block that cannot fit one page at spaces, as plain text, so no tag is broken."""
    plain = html.unescape(re.sub(r"<[^>]+>", "", block))
    pieces, current = [], ""
    for word in plain.split(" "):
        candidate = f"{current} {word}" if current else word
        if len(escape(candidate).encode("utf-16-le")) // 2 > budget and current:
            pieces.append(escape(current))
            current = word
        else:
            current = candidate
    pieces.append(escape(current))
    return pieces


def paginate(blocks: tuple[str, ...], budget: int) -> list[str]:
    pages: list[str] = []
    current: list[str] = []
    for block in blocks:
        for piece in ([block] if telegram_length(block) <= budget else _split_oversized(block, budget)):
            if current and telegram_length("\n\n".join(current + [piece])) > budget:
                pages.append("\n\n".join(current))
                current = []
            current.append(piece)
    if current or not pages:
        pages.append("\n\n".join(current))
    return pages


def topic_pages(content: Content, t: Translator, locale: str, key: str) -> list[str]:
    """The full text of every page of a topic or section, each within Telegram's limit."""
    topic = content.topics[key]
    header = _header(content, t, locale, topic)
    footer = _sources_footer(topic, t, locale)
    budget = TELEGRAM_TEXT_LIMIT - PAGE_MARGIN - telegram_length(header) - telegram_length(footer)
    bodies = paginate(content.text(locale, key).blocks, budget)
    pages = []
    for index, body in enumerate(bodies):
        parts = [header, body]
        if index == len(bodies) - 1 and footer:
            parts.append(footer)
        pages.append("\n\n".join(p for p in parts if p))
    return pages


def _pager_row(key: str, page: int, count: int, everywhere: bool = False) -> list[InlineKeyboardButton]:
    row = []
    if page > 0:
        row.append(_button("‹", callbacks.topic(key, page - 1, everywhere)))
    row.append(_button(f"{page + 1}/{count}", callbacks.NOOP))
    if page < count - 1:
        row.append(_button("›", callbacks.topic(key, page + 1, everywhere)))
    return row


def topic_screen(content: Content, t: Translator, locale: str, key: str, page: int = 0,
                 country: str | None = None, all_countries: bool = False,
                 quick_exit: bool = False) -> Screen:
    """A topic or section page. `country`: the person's, whose topics come first while other
    countries' are hidden (unless `all_countries`); `quick_exit`: the page carries the button
    that deletes the chat."""
    topic = content.topics[key]
    pages = topic_pages(content, t, locale, key)
    page = min(max(page, 0), len(pages) - 1)
    known = country if country in COUNTRY_NAMES else None
    shown, hidden = (topic.children, ()) if all_countries else visible_children(content, key, known)
    rows = [[_button(t("🚪 Quick exit"), callbacks.HIDE)]] if quick_exit else []
    rows += [[_button(content.text(locale, child).title, callbacks.topic(child))]
             for child in shown]
    if hidden:
        rows.append([_button(t("🌍 All countries"), callbacks.topic(key, 0, all_countries=True))])
    if len(pages) > 1:
        rows.append(_pager_row(key, page, len(pages), all_countries))
    rows.append([_button(t("❓ Ask a question about this"), callbacks.ask(key))])
    rows.append(navigation_row(t, topic.parent))
    return Screen(pages[page], InlineKeyboardMarkup(rows))


def with_notice(notice: str, screen: Screen) -> Screen:
    return Screen(f"{escape(notice)}\n\n{screen.text}", screen.keyboard)


def help_screen(t: Translator) -> Screen:
    title = t("How to use this bot")
    text = "\n".join([
        f"<b>{escape(title)}</b>",
        escape(t("Choose a topic with the buttons. Every answer shows its sources and the date it was checked.")),
        "",
        escape(t("/menu — main menu")),
        escape(t("/language — change language")),
        escape(t("/help — this help")),
        escape(t("/cancel — stop what you are doing and go back to the menu")),
        escape(t("/myrequests — your questions to staff and their answers")),
        escape(t("/deadlines — your days and deadlines abroad, with reminders if you want them")),
        escape(t("/privacy — what we store about you; /mydata and /delete")),
        escape(t("/hide — quick exit: deletes this chat's messages at once and leaves one "
                 "neutral message, if someone may look at your phone")),
        "",
        escape(t("You can also type your question in your own words.")),
        escape(t("📍 Choose your country in the main menu: its topics come first.")),
    ])
    return Screen(text, InlineKeyboardMarkup([[_button(t("Main menu"), callbacks.MAIN_MENU)]]))
