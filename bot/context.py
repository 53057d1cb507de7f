"""The typed context every handler receives: `ctx.services`, `ctx.locale`, `ctx.t`, `ctx.unit`."""
from __future__ import annotations

from contextvars import ContextVar

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.i18n import Translator
from bot.services.container import Services
from bot.services.inbox import Unit
from bot.services.users import UserProfile

UNITS = "units"  # bot_data key: the update id → Unit of each update being handled here
# The Unit of the update this task handles (set by the dispatcher): what the bot sends while
# handling it is recorded there (see bot.tracking).
CURRENT_UNIT: ContextVar[Unit | None] = ContextVar("current_unit", default=None)


class BotContext(CallbackContext[ExtBot, dict, dict, dict]):
    def __init__(self, application: Application, chat_id: int | None = None,
                 user_id: int | None = None) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.profile: UserProfile | None = None
        self._locale: str | None = None
        # What the update being handled will write when it is done; a throwaway one for an
        # update handled outside the inbox.
        self.unit: Unit = Unit(0, None)

    @classmethod
    def from_update(cls, update: object, application: Application) -> "BotContext":
        context = super().from_update(update, application)
        if isinstance(update, Update):
            units = application.bot_data.get(UNITS, {})
            context.unit = units.get(update.update_id) or Unit(update.update_id, None)
        return context

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
