"""Real Telegram `Update`s built from the JSON Telegram would send."""
from __future__ import annotations

import itertools
import time
from typing import Any

from telegram import Update

_update_ids = itertools.count(1)
_message_ids = itertools.count(10_000)


def user(user_id: int, language_code: str | None = "uz", first_name: str = "Aziz") -> dict:
    data = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code:
        data["language_code"] = language_code
    return data


def private_chat(user_id: int) -> dict:
    return {"id": user_id, "type": "private", "first_name": "Aziz"}


def message(user_id: int, text: str | None = None, *, language_code: str | None = "uz",
            chat: dict | None = None, **extra: Any) -> dict:
    data: dict[str, Any] = {
        "message_id": next(_message_ids), "date": int(time.time()),
        "chat": chat or private_chat(user_id), "from": user(user_id, language_code),
    }
    if text is not None:
        data["text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            data["entities"] = [{"type": "bot_command", "offset": 0,
                                 "length": len(command.encode("utf-16-le")) // 2}]
    data.update(extra)
    return data


def text_update(bot, user_id: int, text: str, **kwargs: Any) -> Update:
    return Update.de_json({"update_id": next(_update_ids),
                           "message": message(user_id, text, **kwargs)}, bot)


def raw_update(bot, **payload: Any) -> Update:
    return Update.de_json({"update_id": next(_update_ids), **payload}, bot)


def sticker_update(bot, user_id: int) -> Update:
    sticker = {"file_id": "CAACAgIAAxk", "file_unique_id": "AgAD", "type": "regular",
               "width": 512, "height": 512, "is_animated": False, "is_video": False}
    return raw_update(bot, message=message(user_id, sticker=sticker))


def callback_update(bot, user_id: int, data: str, message_id: int = 1,
                    language_code: str | None = "uz", message_text: str = "menu") -> Update:
    bot_message = {"message_id": message_id, "date": int(time.time()),
                   "chat": private_chat(user_id), "text": message_text,
                   "from": {"id": 7000000001, "is_bot": True, "first_name": "Migrant Help"}}
    return raw_update(bot, callback_query={
        "id": str(next(_update_ids)), "from": user(user_id, language_code),
        "chat_instance": "ci", "data": data, "message": bot_message})
