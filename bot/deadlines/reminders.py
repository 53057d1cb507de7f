"""When to remind: a few days before each deadline and on the day, at a sensible hour of the
host country's clock. Pure: the caller gives `now`.

Russia spans eleven time zones; Moscow time is where most migrants from Uzbekistan are, and
10:00 in Moscow is still daytime from Kaliningrad to Vladivostok. Kazakhstan has one zone
(UTC+5) since 1 March 2024, which `Asia/Almaty` follows.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.deadlines.counting import Deadline

COUNTRY_ZONES = {
    "RU": "Europe/Moscow",
    "KZ": "Asia/Almaty",
    "TR": "Europe/Istanbul",
    "GB": "Europe/London",
    "KR": "Asia/Seoul",
}
# A country added to rules.yaml without a zone here: the migrant's home clock.
FALLBACK_ZONE = "Asia/Tashkent"
REMINDER_HOUR = 10  # local time of the host country
DAYS_BEFORE = (3, 0)  # a few days before, and on the day


def zone_for(country: str) -> ZoneInfo:
    return ZoneInfo(COUNTRY_ZONES.get(country, FALLBACK_ZONE))


def local_today(country: str, now: datetime) -> date:
    """The date on the host country's clock at `now` (an aware datetime)."""
    return now.astimezone(zone_for(country)).date()


@dataclass(frozen=True)
class ReminderTime:
    rule_key: str
    deadline: date
    days_before: int  # 0 = on the day
    due_at: datetime  # UTC


def remind_at(country: str, day: date, hour: int = REMINDER_HOUR) -> datetime:
    """`hour` o'clock on `day` in the host country, as UTC."""
    return datetime.combine(day, time(hour), tzinfo=zone_for(country)).astimezone(timezone.utc)


def reminder_times(deadlines: Iterable[Deadline], country: str, now: datetime,
                   skip: Iterable[str] = (), days_before: tuple[int, ...] = DAYS_BEFORE,
                   hour: int = REMINDER_HOUR) -> list[ReminderTime]:
    """Every reminder still ahead of `now` for these deadlines, in time order; rules in `skip`
    (the user said "done") get none, nor do deadlines without a date or already past."""
    skipped = set(skip)
    times = []
    for deadline in deadlines:
        if deadline.deadline is None or deadline.key in skipped:
            continue
        for before in days_before:
            due = remind_at(country, deadline.deadline - timedelta(days=before), hour)
            if due > now:
                times.append(ReminderTime(deadline.key, deadline.deadline, before, due))
    return sorted(times, key=lambda r: (r.due_at, r.rule_key))


def has_deadline_ahead(deadlines: Iterable[Deadline]) -> bool:
    """Whether any deadline is today or later: while one is, the dates are kept."""
    return any(d.days_to_deadline is not None and d.days_to_deadline >= 0 for d in deadlines)
