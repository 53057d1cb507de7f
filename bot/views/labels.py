"""Names of a case's fields, shared by the bot's screens and the staff console."""
from __future__ import annotations

from bot.i18n import N_

ASKER_NAMES = {
    "self": N_("For myself"),
    "family_abroad": N_("For a family member abroad"),
    "family_returned": N_("For a family member who came back"),
}
STATUS_NAMES = {
    "new": N_("New"), "in_progress": N_("In progress"), "answered": N_("Answered"),
    "resolved": N_("Resolved"), "closed": N_("Closed"),
}
STATUS_ICONS = {"new": "🆕", "in_progress": "🛠", "answered": "💬", "resolved": "✅", "closed": "🔒"}
