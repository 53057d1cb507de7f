"""The bot's Telegram client: python-telegram-bot's ExtBot plus one call for the hot path."""
from __future__ import annotations

from typing import Any

from telegram.ext import ExtBot


class AgencyBot(ExtBot):
    """Menus are edited in place on every button press, and nothing reads the Message that
    Telegram sends back: turning that answer into PTB objects costs more CPU than the call
    itself. `call` returns Telegram's raw result instead. Rate limiting, retries and errors
    (BadRequest, Forbidden, RetryAfter…) are the same as for the typed methods."""

    async def call(self, method: str, parameters: dict[str, Any]) -> Any:
        return await self._post(method, dict(parameters))
