"""A pure parser for the dates users type: `12.11.2026`, `12/11`, `12 noyabr`, `Nov 12`.

Numbers are read day first (as in Uzbekistan and Russia) unless the first has four digits
(`2026-11-12`). A date typed without a year is the most recent such date not after today:
the bot asks for dates that have happened (an entry, a contract); a planned entry needs its
year. Month names come in uz (Latin), uz_Cyrl, ru and en, full or shortened to three letters
or more, with the Uzbek case endings people add (`12-noyabrda`), and with the apostrophe that
some write for the soft sign (`fevral'`, `fevral’`, `fevralʼ`).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from bot.text.apostrophes import APOSTROPHE_LOOKALIKES

NOT_A_DATE = "not_a_date"
IMPOSSIBLE = "impossible"  # 31.04, 29.02.2027, month 13
FAR_FUTURE = "far_future"
FAR_PAST = "far_past"

MONTH_NAMES: dict[int, tuple[str, ...]] = {
    1: ("yanvar", "январь", "января", "january"),
    2: ("fevral", "февраль", "февраля", "february"),
    3: ("mart", "март", "марта", "march"),
    4: ("aprel", "апрель", "апреля", "april"),
    5: ("may", "май", "мая"),
    6: ("iyun", "июнь", "июня", "june"),
    7: ("iyul", "июль", "июля", "july"),
    8: ("avgust", "август", "августа", "august"),
    9: ("sentabr", "sentyabr", "сентябрь", "сентября", "september"),
    10: ("oktabr", "oktyabr", "октябрь", "октября", "october"),
    11: ("noyabr", "ноябрь", "ноября", "november"),
    12: ("dekabr", "декабрь", "декабря", "december"),
}
SHORTEST_ABBREVIATION = 3
# Uzbek case endings after a month name: 12-noyabrda, 12-noyabrgacha, ноябрдан ...
UZBEK_ENDINGS = ("da", "dan", "ga", "gacha", "ning", "ni", "да", "дан", "га", "гача", "нинг", "ни")
# Words that may stand around a date without changing it.
FILLER_WORDS = frozenset({
    "yil", "yili", "y", "йил", "йили", "й", "г", "год", "года", "year",
    "st", "nd", "rd", "th", "of", "the",
})
TODAY_WORDS = frozenset({"bugun", "бугун", "сегодня", "today"})
YESTERDAY_WORDS = frozenset({"kecha", "кеча", "вчера", "yesterday"})
# Only letters, digits 0-9, spaces and these may appear: "12:30" or "5+7" are not dates.
ALLOWED_PUNCTUATION = set("./-,")
DIGITS = set("0123456789")
TOKEN = re.compile(r"[0-9]+|[^\W\d_]+")


@dataclass(frozen=True)
class DateRejected:
    reason: str  # NOT_A_DATE, IMPOSSIBLE, FAR_FUTURE or FAR_PAST


def parse_user_date(text: str, today: date, *, max_future_days: int = 366,
                    max_past_days: int = 3653) -> date | DateRejected:
    """The date the user typed, or why it is not one the bot can take.

    Dates more than `max_future_days` after today or `max_past_days` before it (ten years)
    are refused as typing slips.
    """
    parsed = _read(text, today)
    if isinstance(parsed, DateRejected):
        return parsed
    if parsed > today + timedelta(days=max_future_days):
        return DateRejected(FAR_FUTURE)
    if parsed < today - timedelta(days=max_past_days):
        return DateRejected(FAR_PAST)
    return parsed


def _read(text: str, today: date) -> date | DateRejected:
    # NFC: a phone may send й as и + a combining mark.
    folded = unicodedata.normalize("NFC", text).casefold()
    cleaned = "".join(ch for ch in folded if ch not in APOSTROPHE_LOOKALIKES)
    if not cleaned.strip() or not all(ch.isalpha() or ch in DIGITS or ch.isspace()
                                      or ch in ALLOWED_PUNCTUATION for ch in cleaned):
        return DateRejected(NOT_A_DATE)
    tokens = [t for t in TOKEN.findall(cleaned) if t not in FILLER_WORDS]
    if len(tokens) == 1 and tokens[0] in TODAY_WORDS:
        return today
    if len(tokens) == 1 and tokens[0] in YESTERDAY_WORDS:
        return today - timedelta(days=1)
    numbers = [t for t in tokens if t[0] in DIGITS]
    words = [t for t in tokens if t[0] not in DIGITS]
    months = [month_from_word(w) for w in words]
    if any(m is None for m in months) or len(months) > 1:
        return DateRejected(NOT_A_DATE)
    if months:
        return _with_month_name(numbers, months[0], today)
    return _all_numbers(numbers, today)


def month_from_word(word: str) -> int | None:
    """The month a word names (`noyabr`, `ноября`, `nov`, `noyabrda`), or None."""
    found = set()
    for month, names in MONTH_NAMES.items():
        for name in names:
            stems = (name, name.removesuffix("ь"))  # Uzbek Cyrillic drops ь before an ending
            if (len(word) >= SHORTEST_ABBREVIATION and name.startswith(word)) or any(
                    word == stem + ending for stem in stems for ending in UZBEK_ENDINGS):
                found.add(month)
    return found.pop() if len(found) == 1 else None  # "iyu" could be June or July


def _with_month_name(numbers: list[str], month: int, today: date) -> date | DateRejected:
    years = [n for n in numbers if len(n) == 4]
    days = [n for n in numbers if len(n) <= 2]
    if len(years) > 1 or len(years) + len(days) != len(numbers) or not 1 <= len(days) <= 2:
        return DateRejected(NOT_A_DATE)
    if len(days) == 2:  # "Nov 12 26": a two-digit year after the day
        if years:
            return DateRejected(NOT_A_DATE)
        years = [days.pop()]
    return _make(int(days[0]), month, years[0] if years else None, today)


def _all_numbers(numbers: list[str], today: date) -> date | DateRejected:
    if len(numbers) not in (2, 3) or any(len(n) > 4 for n in numbers):
        return DateRejected(NOT_A_DATE)
    if len(numbers[0]) == 4:  # 2026-11-12
        if len(numbers) != 3:
            return DateRejected(NOT_A_DATE)
        year, month, day = numbers
        return _make(int(day), int(month), year, today)
    if len(numbers) == 3 and len(numbers[2]) not in (2, 4):
        return DateRejected(NOT_A_DATE)
    day, month, *year = numbers
    return _make(int(day), int(month), year[0] if year else None, today)


def _make(day: int, month: int, year: str | None, today: date) -> date | DateRejected:
    if year is None:
        return _most_recent(day, month, today)
    full_year = 2000 + int(year) if len(year) == 2 else int(year)
    try:
        return date(full_year, month, day)
    except ValueError:
        return DateRejected(IMPOSSIBLE)


def _most_recent(day: int, month: int, today: date) -> date | DateRejected:
    """This year's date if it is not after today, else last year's."""
    for year in (today.year, today.year - 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            # 29.02 in a year without it; 31.04 in any year.
            return DateRejected(IMPOSSIBLE)
        if candidate <= today:
            return candidate
    raise AssertionError("last year's date is always before today")
