"""The staff dashboard's figures over a window of days: requests, reply times, what users
read and missed, and whether answers helped. Pure of Telegram; reads only.

A window is whole days in UTC ending today, so a day's bar holds the same requests whenever
the page is opened; "the previous window" is the same number of days just before it."""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.db.dashboard import DashboardRepository
from bot.services.requests import STATUSES
from bot.services.search import group_queries

WINDOWS = (7, 30, 90)
DEFAULT_WINDOW = 30
TOP_TOPICS = 10
TOP_GAPS = 20
LATEST_COMMENTS = 10
WEEK = 7


@dataclass(frozen=True)
class Window:
    """[start, end): `days` whole UTC days, the last of them today."""

    days: int
    start: datetime
    end: datetime

    @classmethod
    def ending(cls, now: datetime, days: int) -> Window:
        tomorrow = datetime.combine(now.astimezone(timezone.utc).date() + timedelta(days=1),
                                    time(), tzinfo=timezone.utc)
        return cls(days, tomorrow - timedelta(days=days), tomorrow)

    @property
    def previous(self) -> Window:
        return Window(self.days, self.start - timedelta(days=self.days), self.start)

    @property
    def dates(self) -> list[date]:
        first = self.start.date()
        return [first + timedelta(days=n) for n in range(self.days)]

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class Timing:
    """The median wait of the window's requests that got there, and of the previous window's."""

    median: timedelta | None
    previous: timedelta | None
    count: int  # requests of the window with a reply (or a resolution)


@dataclass(frozen=True)
class Week:
    first: date
    last: date
    first_reply: timedelta | None
    resolution: timedelta | None


@dataclass(frozen=True)
class Comment:
    request_id: int
    number: str | None
    verdict: str | None
    text: str


@dataclass(frozen=True)
class Satisfaction:
    asked: int  # users asked "did the answer help?" in the window
    up: int
    down: int
    comments: list[Comment] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return self.up + self.down

    @property
    def up_share(self) -> float | None:
        """Of those who answered, the share who said it helped (0..1)."""
        return self.up / self.answered if self.answered else None


@dataclass(frozen=True)
class Dashboard:
    window: Window
    total: int
    previous_total: int
    per_day: list[tuple[date, dict[str, int]]]  # every day of the window, every status
    by_status: list[tuple[str, int]]  # in the workflow's order, zeros included
    by_topic: list[tuple[str | None, int]]  # None: "another question"
    by_country: list[tuple[str, int]]
    by_language: list[tuple[str, int]]
    first_reply: Timing
    resolution: Timing
    weeks: list[Week]
    viewed: list[tuple[str, int]]
    gaps: list[tuple[str, int]]
    satisfaction: Satisfaction


class DashboardService:
    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions

    async def figures(self, days: int, now: datetime) -> Dashboard:
        window = Window.ending(now, days)
        before = window.previous
        async with self._sessions() as session:
            repository = DashboardRepository(session)
            filed = await repository.requests_filed(before.start, window.end)
            ratings = await repository.ratings(window.start, window.end)
            viewed = await repository.topic_counts("view", window.start, window.end, TOP_TOPICS)
            missed = await repository.unanswered_queries(window.start, window.end)
        current = [row for row in filed if row.created_at in window]
        previous = [row for row in filed if row.created_at in before]
        return Dashboard(
            window=window, total=len(current), previous_total=len(previous),
            per_day=per_day(current, window), by_status=by_status(current),
            by_topic=counted(row.topic_key for row in current),
            by_country=counted(row.country for row in current),
            by_language=counted(row.locale for row in current),
            first_reply=timing(current, previous, "first_reply_at"),
            resolution=timing(current, previous, "resolved_at"),
            weeks=weeks(current, window), viewed=viewed,
            gaps=group_queries(missed, TOP_GAPS), satisfaction=satisfaction(ratings))


def per_day(rows: list, window: Window) -> list[tuple[date, dict[str, int]]]:
    days = {day: dict.fromkeys(STATUSES, 0) for day in window.dates}
    for row in rows:
        counts = days[row.created_at.astimezone(timezone.utc).date()]
        counts[row.status] = counts.get(row.status, 0) + 1
    return list(days.items())


def by_status(rows: list) -> list[tuple[str, int]]:
    counts = Counter(row.status for row in rows)
    extra = sorted(status for status in counts if status not in STATUSES)
    return [(status, counts.get(status, 0)) for status in (*STATUSES, *extra)]


def counted(values) -> list[tuple]:
    """Most frequent first; ties in a stable order (None, "another question", last)."""
    counts = Counter(values)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0] is None, item[0] or ""))


def median_wait(rows: list, reached: str) -> timedelta | None:
    """The median time from filing to `reached` (a column) of the rows that got there."""
    waits = [(getattr(row, reached) - row.created_at).total_seconds() for row in rows
             if getattr(row, reached) is not None]
    return timedelta(seconds=statistics.median(waits)) if waits else None


def timing(current: list, previous: list, reached: str) -> Timing:
    return Timing(median_wait(current, reached), median_wait(previous, reached),
                  sum(1 for row in current if getattr(row, reached) is not None))


def weeks(rows: list, window: Window) -> list[Week]:
    """Seven-day spans counted back from today, so the latest is whole; the earliest may be
    shorter when the window is not a number of weeks."""
    spans = []
    end = window.end
    while end > window.start:
        start = max(end - timedelta(days=WEEK), window.start)
        inside = [row for row in rows if start <= row.created_at < end]
        spans.append(Week(start.date(), (end - timedelta(days=1)).date(),
                          median_wait(inside, "first_reply_at"), median_wait(inside, "resolved_at")))
        end = start
    return spans[::-1]


def satisfaction(ratings: list) -> Satisfaction:
    verdicts = Counter(row.satisfaction for row in ratings)
    comments = [Comment(row.id, row.number, row.satisfaction, row.satisfaction_comment)
                for row in ratings if row.satisfaction_comment][:LATEST_COMMENTS]
    return Satisfaction(len(ratings), verdicts.get("up", 0), verdicts.get("down", 0), comments)
