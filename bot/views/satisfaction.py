"""Asking the user, once a case is resolved, whether the answer helped."""
from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Translator
from bot.services.requests import COMMENT_LIMIT
from bot.views import callbacks, escape
from bot.views.screens import Screen


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def question(t: Translator, number: str, request_id: int) -> Screen:
    title = t("Your request {number} is resolved.", number=number)
    text = f"<b>{escape(title)}</b>\n\n" + escape(t("Did our answer help you?"))
    rows = [[_button(t("👍 Yes, it helped"), callbacks.satisfaction("up", request_id)),
             _button(t("👎 No"), callbacks.satisfaction("down", request_id))]]
    return Screen(text, InlineKeyboardMarkup(rows))


def ask_comment(t: Translator, request_id: int) -> Screen:
    text = "\n\n".join([
        escape(t("Thank you for your answer!")),
        escape(t("If you want, write in one message what we could do better (up to {limit} "
                 "characters). Or press Skip.", limit=COMMENT_LIMIT)),
    ])
    return Screen(text, InlineKeyboardMarkup([[_button(t("Skip"),
                                                       callbacks.satisfaction("skip", request_id))]]))


def thanks(t: Translator) -> Screen:
    return Screen(escape(t("Thank you for your answer!")))


def comment_saved(t: Translator) -> str:
    return escape(t("Thank you! Your comment was passed on to the staff."))


def comment_too_long(t: Translator, length: int) -> str:
    return escape(t("Your comment is {length} characters long; the limit is {limit}. Please "
                    "shorten it and send it again, or press Skip.", length=length,
                    limit=COMMENT_LIMIT))


def comment_not_text(t: Translator) -> str:
    return escape(t("Please write your comment as text, or press Skip."))


def already_answered(t: Translator) -> Screen:
    return Screen(escape(t("You have already answered this question. Thank you!")))
