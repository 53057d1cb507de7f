"""The typed context every handler receives: `ctx.services`, `ctx.locale`, `ctx.t`."""
from __future__ import annotations

from telegram.ext import Application, CallbackContext, ExtBot

from bot.i18n import Translator
from bot.services.container import Services
from bot.services.users import UserProfile


class BotContext(CallbackContext[ExtBot, dict, dict, dict]):
    def __init__(self, application: Application, chat_id: int | None = None,
                 user_id: int | None = None) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.profile: UserProfile | None = None
        self._locale: str | None = None

    @property
    def services(self) -> Services:
        return self.application.bot_data["services"]

    @property
    def locale(self) -> str:
        return self._locale or self.services.settings.default_locale

    @locale.setter
    def locale(self, value: str) -> None:
        self._locale = value

    @property
    def t(self) -> Translator:
        return self.services.catalogs.get(self.locale)
