"""Thin handlers: parse the update, call a service, render a view, send."""
from __future__ import annotations

from telegram import Update
from telegram.ext import (Application, CallbackQueryHandler, CommandHandler, MessageHandler,
                          TypeHandler, filters)

from bot.handlers import (buttons, cases, casework, deadlines, errors, messages, navigation,
                          privacy, safety, staff, users)
from bot.handlers import announce, announcements

# Cross-cutting work runs in groups before the features (as PTB's rules bot does).
GROUP_GUARD = -3
GROUP_USER = -2
GROUP_FLOOD = -1
GROUP_FEATURES = 0

NEW_MESSAGE = filters.UpdateType.MESSAGE
PRIVATE_MESSAGE = filters.ChatType.PRIVATE & NEW_MESSAGE

USER_COMMANDS = {
    "start": navigation.start,
    "menu": navigation.menu,
    "help": navigation.help_command,
    "language": navigation.language,
    "cancel": navigation.cancel,
    "myrequests": cases.my_requests_command,
    "hide": safety.hide_command,
    "deadlines": deadlines.command,
    "announcements": announcements.command,
    "privacy": privacy.privacy,
    "mydata": privacy.my_data,
    "delete": privacy.delete_command,
}
# Staff commands work in a private chat and in the staff group only (never in another group
# the bot is in, which would show case data there); the role is checked inside.
STAFF_COMMANDS = {
    "queue": staff.queue_command,
    "case": staff.case_command,
    "find": staff.find_command,
    "stats": staff.stats_command,
    "gaps": staff.gaps_command,
    "staff": staff.staff_command,
    "announce": announce.command,
    "console": casework.console_command,
    "note": casework.note_command,
    "canned": casework.canned_command,
}


def register(application: Application) -> None:
    application.add_handler(TypeHandler(Update, users.ignore_other_bots), group=GROUP_GUARD)
    application.add_handler(TypeHandler(Update, users.load_user), group=GROUP_USER)
    application.add_handler(TypeHandler(Update, users.limit_floods), group=GROUP_FLOOD)
    for name, callback in USER_COMMANDS.items():
        application.add_handler(CommandHandler(name, callback, filters=PRIVATE_MESSAGE),
                                group=GROUP_FEATURES)
    staff_chat_id = application.bot_data["services"].settings.staff_chat_id
    staff_chats = filters.ChatType.PRIVATE
    if staff_chat_id is not None:
        staff_chats = staff_chats | filters.Chat(staff_chat_id)
    for name, callback in STAFF_COMMANDS.items():
        application.add_handler(CommandHandler(name, callback, filters=NEW_MESSAGE & staff_chats),
                                group=GROUP_FEATURES)
    application.add_handler(CallbackQueryHandler(buttons.on_button), group=GROUP_FEATURES)
    application.add_handler(MessageHandler(PRIVATE_MESSAGE & filters.COMMAND,
                                           navigation.unknown_command), group=GROUP_FEATURES)
    application.add_handler(MessageHandler(PRIVATE_MESSAGE, messages.on_private_message),
                            group=GROUP_FEATURES)
    application.add_handler(MessageHandler(filters.ChatType.GROUPS & NEW_MESSAGE & filters.REPLY
                                           & ~filters.COMMAND, staff.on_group_reply),
                            group=GROUP_FEATURES)
    application.add_error_handler(errors.on_error)
