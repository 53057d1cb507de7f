"""Country names and flags, shared by the menus, the ask form and the staff's cards."""
from __future__ import annotations

from bot.i18n import N_, Translator

COUNTRY_NAMES = {
    "RU": N_("Russia"), "KZ": N_("Kazakhstan"), "TR": N_("Türkiye"), "KR": N_("South Korea"),
    "GB": N_("United Kingdom"), "DE": N_("Germany"), "PL": N_("Poland"),
    "UZ": N_("Uzbekistan (came back)"), "OTHER": N_("Another country"),
}
FLAGS = {"RU": "🇷🇺", "KZ": "🇰🇿", "TR": "🇹🇷", "KR": "🇰🇷", "GB": "🇬🇧", "DE": "🇩🇪", "PL": "🇵🇱",
         "UZ": "🇺🇿", "OTHER": "🌍"}


def flagged(t: Translator, code: str) -> str:
    return f"{FLAGS.get(code, '🌍')} {t(COUNTRY_NAMES[code])}"
