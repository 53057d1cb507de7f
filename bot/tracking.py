"""The bot as python-telegram-bot's ExtBot, remembering every message it sends to a private chat,
so that the quick exit (/hide) can delete them later (see bot.services.quick_exit).

A message sent while an update is handled goes into that update's Unit and is written when the
update is done, with the rest of what it leaves for the record; one sent outside any update (a
job, the outbox) is written at once through `record_outside_update`.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Message
from telegram.constants import ChatType
from telegram.ext import ExtBot

from bot.context import CURRENT_UNIT
from bot.db.engine import DATABASE_ERRORS

log = logging.getLogger(__name__)


class TrackingBot(ExtBot):
    __slots__ = ("_record_outside_update",)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        with self._unfrozen():
            self._record_outside_update: Callable[[int, int], Awaitable[None]] | None = None

    def record_outside_update(self, record: Callable[[int, int], Awaitable[None]]) -> None:
        with self._unfrozen():
            self._record_outside_update = record

    async def _send_message(self, endpoint: str, data, *args, **kwargs):
        result = await super()._send_message(endpoint, data, *args, **kwargs)
        # Edits keep their message id; only new messages are remembered.
        if (endpoint.startswith("send") and isinstance(result, Message)
                and result.chat.type == ChatType.PRIVATE):
            await self._remember(result.chat_id, result.message_id)
        return result

    async def _remember(self, chat_id: int, message_id: int) -> None:
        unit = CURRENT_UNIT.get()
        if unit is not None:
            unit.record_message(chat_id, message_id)
        elif self._record_outside_update is not None:
            try:
                await self._record_outside_update(chat_id, message_id)
            except DATABASE_ERRORS as exc:  # the message went out; only its quick exit is lost
                log.warning("message %s in chat %s not remembered for the quick exit: %s",
                            message_id, chat_id, exc)
