"""The date arithmetic of the deadline rules: pure, no I/O, no clock (today is an argument).

Conventions, chosen so that a date shown is never later than the law's:
- A day of stay counts whole: entry and exit on the same day is one day; a stay is a pair of
  dates, both included. Overlapping stays count each day once.
- "N days from the event": the event day is day 1, so the deadline is the N-th day.
- The current stay begins at the entry date and is taken to go on: rules over a window ask how
  long it may go on (the last day) and how many days are used up to the reference day — today,
  or the entry day while it is still ahead.
- Where a rule has several readings (sources disagree), the earliest date is shown and the
  others are kept so the bot can say why.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable, Sequence

from bot.content.model import Source
from bot.deadlines.rules import Reading, Rule

Stay = tuple[date, date]  # (entry, exit), both days included
ONE_DAY = timedelta(days=1)
# A continuous stay breaks any validated limit within this many days (a calendar-year limit
# below 365 days at the latest by the end of the following year).
SEARCH_LIMIT_DAYS = 800


@dataclass(frozen=True)
class ReadingDate:
    reading: Reading
    deadline: date | None


@dataclass(frozen=True)
class Deadline:
    """What one rule means for one person on one day."""

    rule: Rule
    shown: Reading  # the reading whose date is shown: the one with the earliest date
    deadline: date | None  # the last day: register/apply by, or stay until; None if not known
    days_to_deadline: int | None  # 0 = today is the last day; negative = it has passed
    others: tuple[ReadingDate, ...] = ()  # the other readings of a disputed rule
    missing_event: str | None = None  # the event whose date is needed, e.g. "labour_contract"
    # Window rules (per calendar year, N in M days, N in M months):
    days_used: int | None = None  # days of stay in the window, the reference day included
    days_allowed: int | None = None
    days_left_in_window: int | None = None  # negative = over the limit by that many days
    window_start: date | None = None  # first day of the window that ends on the reference day
    # Season rules:
    season_start: date | None = None

    @property
    def key(self) -> str:
        return self.rule.key

    @property
    def sources(self) -> tuple[Source, ...]:
        return self.shown.sources

    @property
    def verified(self) -> bool:
        return self.shown.verified

    @property
    def passed(self) -> bool:
        return self.days_to_deadline is not None and self.days_to_deadline < 0

    @property
    def over_limit(self) -> bool:
        return self.days_left_in_window is not None and self.days_left_in_window < 0


def deadlines_for(rules: Sequence[Rule], entry: date, today: date,
                  earlier_stays: Iterable[Stay] = (), *,
                  labour_contract: date | None = None) -> list[Deadline]:
    """Each rule's deadline (and, for window rules, days used and left) for this person today.

    `earlier_stays` are the person's earlier stays in the same country; the current stay is
    the one that begins at `entry`. Raises ValueError for a stay that ends before it begins.
    """
    stays = merge_stays(earlier_stays)
    events = {"entry": entry, "labour_contract": labour_contract}
    return [_deadline(rule, events, entry, stays, today) for rule in rules]


def _deadline(rule: Rule, events: dict[str, date | None], entry: date, stays: list[Stay],
              today: date) -> Deadline:
    event = events[rule.event]
    if event is None:
        return Deadline(rule, rule.reading, None, None, missing_event=rule.event)
    dated = [ReadingDate(reading, last_day(reading, event, stays)) for reading in rule.readings]
    # min() keeps the first of equal dates, so the main reading wins a tie.
    shown = min(dated, key=lambda d: d.deadline or date.max)
    others = tuple(d for d in dated if d is not shown)
    reading, deadline = shown.reading, shown.deadline
    days_to_deadline = (deadline - today).days if deadline else None
    if reading.counts_a_window:
        reference = max(today, entry)
        used = days_in_window(reading, reference, _with_current_stay(stays, entry, reference))
        allowed = days_allowed(reading)
        return Deadline(rule, reading, deadline, days_to_deadline, others,
                        days_used=used, days_allowed=allowed, days_left_in_window=allowed - used,
                        window_start=window_start(reading, reference))
    season_start = date(event.year, *reading.season[0]) if reading.kind == "season" else None
    return Deadline(rule, reading, deadline, days_to_deadline, others, season_start=season_start)


def last_day(reading: Reading, event: date, earlier_stays: list[Stay]) -> date | None:
    """The last day the reading allows, counted from the event (the entry, for windows)."""
    if reading.kind == "days":
        return event + timedelta(days=reading.days - 1)
    if reading.kind == "working_days":
        return nth_working_day(event, reading.days)
    if reading.kind == "months":
        return add_months(event, reading.months) - ONE_DAY
    if reading.kind == "season":
        return date(event.year, *reading.season[1])
    return last_day_of_continuous_stay(reading, event, earlier_stays)


def nth_working_day(start: date, n: int) -> date:
    """The n-th Monday-to-Friday day from start, start included if it is one.

    Public holidays are not skipped: no holiday calendar is known (the rule says so).
    """
    day, counted = start, 0
    while True:
        if day.weekday() < 5:
            counted += 1
            if counted == n:
                return day
        day += ONE_DAY


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier); the month's last day when it has no such day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, _days_in_month(year, month)))


def _days_in_month(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - ONE_DAY).day


def fewest_days_in_months(months: int) -> int:
    """The fewest days `months` consecutive calendar months can have (6 months: 181 days).

    A four-year cycle of start months covers every case, leap years included.
    """
    starts = (date(2025 + i // 12, i % 12 + 1, 1) for i in range(48))
    return min((add_months(start, months) - start).days for start in starts)


def days_allowed(reading: Reading) -> int:
    if reading.kind == "months_in_window":
        return fewest_days_in_months(reading.limit_months)
    return reading.limit_days


def window_start(reading: Reading, day: date) -> date:
    """The first day of the window that ends on `day`."""
    if reading.kind == "days_per_calendar_year":
        return date(day.year, 1, 1)
    if reading.kind == "days_in_window":
        return day - timedelta(days=reading.window_days - 1)
    return add_months(day, -reading.window_months) + ONE_DAY


def days_in_window(reading: Reading, day: date, stays: list[Stay]) -> int:
    """Days of stay in the window that ends on `day`; `stays` merged."""
    return days_between(stays, window_start(reading, day), day)


def last_day_of_continuous_stay(reading: Reading, entry: date, earlier_stays: list[Stay]) -> date:
    """The last day a stay begun at `entry` can go on without breaking the window's limit.

    Before the entry day when the earlier stays alone already use the whole limit.
    """
    allowed = days_allowed(reading)
    day = entry
    for _ in range(SEARCH_LIMIT_DAYS):
        stays = _with_current_stay(earlier_stays, entry, day)
        if days_in_window(reading, day, stays) > allowed:
            return day - ONE_DAY
        day += ONE_DAY
    raise AssertionError(f"a continuous stay never breaks {reading}")  # validated rules cannot


def merge_stays(stays: Iterable[Stay]) -> list[Stay]:
    """Sorted stays with overlapping or touching ones joined, so that each day counts once."""
    ordered = sorted(stays)
    for entry, exit_ in ordered:
        if exit_ < entry:
            raise ValueError(f"a stay ends before it begins: {entry} – {exit_}")
    merged: list[Stay] = []
    for entry, exit_ in ordered:
        if merged and entry <= merged[-1][1] + ONE_DAY:
            merged[-1] = (merged[-1][0], max(merged[-1][1], exit_))
        else:
            merged.append((entry, exit_))
    return merged


def _with_current_stay(earlier_stays: list[Stay], entry: date, day: date) -> list[Stay]:
    if day < entry:
        return earlier_stays
    return merge_stays([*earlier_stays, (entry, day)])


def days_between(stays: list[Stay], first: date, last: date) -> int:
    """Days from `first` to `last` (both included) that fall in one of the merged `stays`."""
    total = 0
    for entry, exit_ in stays:
        overlap = (min(exit_, last) - max(entry, first)).days + 1
        total += max(overlap, 0)
    return total
