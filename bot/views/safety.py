"""The answer to a cry for help, and what the quick exit leaves behind."""
from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.content.model import Content
from bot.i18n import Translator
from bot.services.search import Result
from bot.views import callbacks, escape
from bot.views.screens import Screen

MAX_TOPICS = 5


def distress_answer(t: Translator, content: Content, locale: str, help_topics: tuple[str, ...],
                    found: list[Result]) -> Screen:
    """A person first (one tap: the message filled in, marked urgent), then the help topics of
    what the message signals, then what the search found, and the quick exit."""
    title = t("You are not alone. People can help you now.")
    lines = [f"🆘 <b>{escape(title)}</b>", "",
             escape(t("Staff of the Migration Agency can help: press “Talk to a person now”. "
                      "Your message is already filled in, and it will be marked urgent.")),
             "", escape(t("These pages say what you can do:")), "",
             escape(t("If someone may look at your phone, press “Quick exit”: this chat is "
                      "deleted at once."))]
    keys = [key for key in help_topics if content.topic(key) is not None]
    keys += [result.key for result in found if result.key not in keys]
    rows = [[InlineKeyboardButton(t("🆘 Talk to a person now"), callback_data=callbacks.ASK_URGENT)]]
    rows += [[InlineKeyboardButton(content.text(locale, key).title, callback_data=callbacks.topic(key))]
             for key in keys[:MAX_TOPICS]]
    rows.append([InlineKeyboardButton(t("🚪 Quick exit"), callback_data=callbacks.HIDE),
                 InlineKeyboardButton(t("Main menu"), callback_data=callbacks.MAIN_MENU)])
    return Screen("\n".join(lines), InlineKeyboardMarkup(rows))
