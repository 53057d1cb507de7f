"""Thin handlers: parse the update, call a service, render a view, send."""
from __future__ import annotations

from telegram import Update
from telegram.ext import (Application, CallbackQueryHandler, CommandHandler, MessageHandler,
                          TypeHandler, filters)

from bot.handlers import errors, navigation, users

# Cross-cutting work runs in groups before the features (as PTB's rules bot does).
GROUP_GUARD = -2
GROUP_USER = -1
GROUP_FEATURES = 0

PRIVATE_MESSAGE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


def register(application: Application) -> None:
    application.add_handler(TypeHandler(Update, users.ignore_other_bots), group=GROUP_GUARD)
    application.add_handler(TypeHandler(Update, users.load_user), group=GROUP_USER)
    commands = {
        "start": navigation.start,
        "menu": navigation.menu,
        "help": navigation.help_command,
        "language": navigation.language,
        "cancel": navigation.cancel,
    }
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback, filters=PRIVATE_MESSAGE),
                                group=GROUP_FEATURES)
    application.add_handler(CallbackQueryHandler(navigation.on_button), group=GROUP_FEATURES)
    application.add_handler(MessageHandler(PRIVATE_MESSAGE & filters.COMMAND,
                                           navigation.unknown_command), group=GROUP_FEATURES)
    application.add_handler(MessageHandler(PRIVATE_MESSAGE, navigation.not_understood),
                            group=GROUP_FEATURES)
    application.add_error_handler(errors.on_error)
