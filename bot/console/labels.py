"""Names the console shows for a message's delivery and the audit log's actions."""
from __future__ import annotations

from bot.i18n import N_

DELIVERY_NAMES = {
    "pending": N_("sending…"),
    "delivered": N_("delivered"),
    "failed": N_("not delivered"),
    "blocked": N_("not delivered: the user blocked the bot"),
}
ACTION_NAMES = {
    "case_view": N_("opened the case"),
    "case_reply": N_("answered"),
    "case_note": N_("added a note"),
    "case_assign": N_("assigned"),
    "case_new": N_("set the status New"),
    "case_in_progress": N_("set the status In progress"),
    "case_answered": N_("set the status Answered"),
    "case_resolved": N_("resolved the case"),
    "case_closed": N_("closed the case"),
    "case_undelivered": N_("an answer was not delivered"),
    "canned_save": N_("saved a canned reply"),
    "canned_remove": N_("removed a canned reply"),
    "console_link": N_("asked for a console link"),
    "console_login_link": N_("logged in with a link"),
    "console_login_widget": N_("logged in with Telegram"),
    "console_login_refused": N_("a login was refused"),
    "console_logout": N_("logged out"),
    "staff_add": N_("added a staff member"),
    "staff_remove": N_("removed a staff member"),
    "denied": N_("was refused a staff action"),
}
