"""Search results and the no-answer screen."""
from __future__ import annotations


from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Translator
from bot.services.search import Result
from bot.views import callbacks, escape
from bot.views.screens import Screen


def results(t: Translator, found: list[Result]) -> Screen:
    heading = t("Here is what I found:")
    lines = [f"<b>{escape(heading)}</b>", ""]
    for number, result in enumerate(found, start=1):
        lines.append(f"{number}. <b>{escape(result.title)}</b> — {escape(result.snippet)}")
    lines += ["", escape(t("Not what you need? Ask a person."))]
    rows = [[InlineKeyboardButton(f"{n}. {r.title}", callback_data=callbacks.topic(r.key))]
            for n, r in enumerate(found, start=1)]
    rows.append([InlineKeyboardButton(t("❓ Ask a person"), callback_data=callbacks.ASK_WITH_QUERY),
                 InlineKeyboardButton(t("Main menu"), callback_data=callbacks.MAIN_MENU)])
    return Screen("\n".join(lines), InlineKeyboardMarkup(rows))


def nothing_found(t: Translator) -> Screen:
    text = "\n\n".join([
        escape(t("I have no answer to that yet.")),
        escape(t("Staff of the Migration Agency can answer it: press “Ask a person” and your "
                      "question will be filled in.")),
    ])
    rows = [[InlineKeyboardButton(t("❓ Ask a person"), callback_data=callbacks.ASK_WITH_QUERY)],
            [InlineKeyboardButton(t("Main menu"), callback_data=callbacks.MAIN_MENU)]]
    return Screen(text, InlineKeyboardMarkup(rows))


def gaps(t: Translator, rows: list[tuple[str, int]]) -> str:
    heading = t("Searches without an answer, last 30 days:")
    lines = [f"<b>{escape(heading)}</b>"]
    lines += [f"{count} × {escape(query[:200])}" for query, count in rows]
    if not rows:
        lines.append(escape(t("Nothing here.")))
    return "\n".join(lines)
