"""The content as staff keep it: every topic's review date, verification and sources, the
stale ones first; a topic as the bot shows it in each language; `content check`'s report."""
from __future__ import annotations

import asyncio
import calendar
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from markupsafe import Markup
from starlette.responses import Response
from starlette.routing import Route

from bot import LOCALES
from bot.console.preview import telegram_html
from bot.console.web import Console, int_or_none, staff_page
from bot.content.check import Report, content_report
from bot.content.loader import Problem
from bot.content.model import Content, Source
from bot.db.models import utcnow
from bot.i18n import Catalogs
from bot.views import screens

DEFAULT_MONTHS = 6
MONTHS_LIMIT = 120


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier; the month's last day where that month is shorter."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


@dataclass(frozen=True)
class TopicRow:
    key: str
    title: str
    section: str  # the titles above it, from the main menu down
    reviewed: date | None
    verified: bool
    sources: tuple[Source, ...]
    stale: bool


def topic_rows(content: Content, locale: str, cutoff: date) -> list[TopicRow]:
    """Every topic; those never reviewed first, then those reviewed before `cutoff`, oldest
    first, then the rest in menu order: what needs checking is at the top."""
    rows = []
    for key, topic in content.topics.items():
        section = " › ".join(content.text(locale, k).title for k in content.trail(key)[:-1])
        stale = topic.reviewed is None or topic.reviewed < cutoff
        rows.append(TopicRow(key, content.text(locale, key).title, section, topic.reviewed,
                             topic.verified, topic.sources, stale))
    return sorted(rows, key=_urgency)  # stable: topics alike keep their menu order


def _urgency(row: TopicRow) -> tuple:
    if not row.stale:
        return 2, date.min
    return (0, date.min) if row.reviewed is None else (1, row.reviewed)


def _signature(folder: Path) -> tuple:
    """Changes when any file of the content does: the report is made again only then."""
    entries = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            stat = path.stat()
            entries.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(entries)


_REPORTS: dict[Path, tuple[tuple, Report]] = {}


async def check_report(content_dir: Path, catalogs: Catalogs) -> Report:
    """`content check` on the files as they are now. It takes about half a second, so it
    runs in a thread (the bot's updates share this event loop) and is kept until a file
    changes."""
    signature = await asyncio.to_thread(_signature, content_dir)
    kept = _REPORTS.get(content_dir)
    if kept and kept[0] == signature:
        return kept[1]
    report = await asyncio.to_thread(content_report, content_dir, catalogs)
    _REPORTS[content_dir] = (signature, report)
    return report


def shown_path(problem: Problem, content_dir: Path) -> str:
    try:
        return str(problem.path.relative_to(content_dir))
    except ValueError:
        return str(problem.path)


@staff_page
async def content_page(console: Console) -> Response:
    months = int_or_none(console.request.query_params.get("months"))
    months = months if months and 1 <= months <= MONTHS_LIMIT else DEFAULT_MONTHS
    cutoff = months_before(utcnow().date(), months)
    rows = topic_rows(console.services.content.current, console.locale, cutoff)
    content_dir = console.services.settings.content_dir
    report = await check_report(content_dir, console.services.catalogs)
    return console.render("content.html", rows=rows, months=months, cutoff=cutoff,
                          stale=sum(1 for row in rows if row.stale), report=report,
                          where=lambda problem: shown_path(problem, content_dir))


@dataclass(frozen=True)
class Preview:
    locale: str
    language: str
    title: str
    served_from: str  # the locale it was written in, or how it was made from another
    pages: list[Markup]
    buttons: list[list[str]]


def preview(content: Content, catalogs: Catalogs, locale: str, key: str) -> Preview:
    """The topic's pages and buttons as the bot sends them to a person who chose no country."""
    t = catalogs.get(locale)
    pages = screens.topic_pages(content, t, locale, key)
    try:
        keyboard = screens.topic_screen(content, t, locale, key).keyboard.inline_keyboard
    except ValueError:  # a key too long for a button's data: the content check reports it
        keyboard = ()
    buttons = [[button.text for button in row] for row in keyboard]
    text = content.text(locale, key)
    return Preview(locale, t("Language name"), text.title, text.served_from,
                   [telegram_html(page) for page in pages], buttons)


@staff_page
async def topic_page(console: Console) -> Response:
    content = console.services.content.current
    key = console.request.path_params["key"]
    topic = content.topic(key)
    if topic is None:
        return console.render("error.html", status=404, message=console.t("There is no such topic."))
    previews = [preview(content, console.services.catalogs, locale, key) for locale in LOCALES]
    title = content.text(console.locale, key).title
    trail = [(k, content.text(console.locale, k).title) for k in content.trail(key)[:-1]]
    children = [(k, content.text(console.locale, k).title) for k in topic.children]
    return console.render("content_topic.html", topic=topic, title=title, trail=trail,
                          children=children, previews=previews)


routes = [Route("/content", content_page), Route("/content/{key}", topic_page)]
