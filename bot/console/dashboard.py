"""The dashboard: how many asked, about what, from where, how fast staff answered, what
users read and did not find, and whether the answers helped, over 7, 30 or 90 days."""
from __future__ import annotations

from datetime import timedelta

from starlette.responses import Response
from starlette.routing import Route

from bot import LOCALES
from bot.console import charts
from bot.console.web import Console, int_or_none, staff_page
from bot.db.models import utcnow
from bot.services.dashboard import DEFAULT_WINDOW, WINDOWS, Dashboard
from bot.views.countries import COUNTRY_NAMES
from bot.views.labels import STATUS_NAMES

STATUS_COLOURS = {"new": "#e8a33d", "in_progress": "#0b6bcb", "answered": "#7e57c2",
                  "resolved": "#1e7b34", "closed": "#8a94a3"}
OTHER_COLOUR = "#5b6574"
BAR_COLOUR = "#0b6bcb"
FIRST_REPLY_COLOUR, RESOLUTION_COLOUR = "#0b6bcb", "#1e7b34"


def chosen_days(console: Console) -> int:
    days = int_or_none(console.request.query_params.get("days"))
    return days if days in WINDOWS else DEFAULT_WINDOW


def one_decimal(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def duration(console: Console, wait: timedelta | None) -> str:
    """A median wait as staff say it: minutes, hours, or days, to one decimal."""
    if wait is None:
        return "—"
    minutes = wait.total_seconds() / 60
    if minutes < 60:
        return console.t("{n} min", n=round(minutes))
    if minutes < 48 * 60:
        return console.t("{n} h", n=one_decimal(minutes / 60))
    return console.t("{n} days", n=one_decimal(minutes / 1440))


class Labels:
    """What a code in the figures is called in the staff member's language."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.content = console.services.content.current

    def status(self, code: str) -> str:
        return self.console.t(STATUS_NAMES[code]) if code in STATUS_NAMES else code

    def topic(self, key: str | None) -> str:
        if key is None:
            return self.console.t("Other question")
        if self.content.topic(key) is None:
            return key  # a topic since removed from the content
        return self.content.text(self.console.locale, key).title

    def country(self, code: str) -> str:
        return self.console.t(COUNTRY_NAMES[code]) if code in COUNTRY_NAMES else code

    def language(self, code: str) -> str:
        return self.console.services.catalogs.get(code)("Language name") if code in LOCALES else code


def _day_chart(console: Console, figures: Dashboard, labels: Labels) -> charts.Chart:
    statuses = [status for status, _ in figures.by_status]
    series = [(labels.status(s), STATUS_COLOURS.get(s, OTHER_COLOUR)) for s in statuses]
    columns = [(day.strftime("%m-%d"), [counts.get(s, 0) for s in statuses])
               for day, counts in figures.per_day]
    return charts.stacked_columns(console.t("Requests per day, by status"), columns, series)


def _bar_charts(console: Console, figures: Dashboard, labels: Labels) -> dict[str, charts.Chart]:
    t = console.t
    return {
        "topic": charts.horizontal_bars(t("Requests by topic"), [
            (labels.topic(key), n) for key, n in figures.by_topic], BAR_COLOUR),
        "country": charts.horizontal_bars(t("Requests by country"), [
            (labels.country(code), n) for code, n in figures.by_country], BAR_COLOUR),
        "language": charts.horizontal_bars(t("Requests by language"), [
            (labels.language(code), n) for code, n in figures.by_language], BAR_COLOUR),
        "viewed": charts.horizontal_bars(t("Most viewed topics"), [
            (labels.topic(key), n) for key, n in figures.viewed], BAR_COLOUR),
    }


def _hours(wait: timedelta | None) -> float | None:
    return round(wait.total_seconds() / 3600, 1) if wait is not None else None


def _week_chart(console: Console, figures: Dashboard) -> charts.Chart:
    t = console.t
    return charts.line_chart(
        t("Median time per week, in hours"),
        [week.first.strftime("%m-%d") for week in figures.weeks],
        [(t("First reply"), FIRST_REPLY_COLOUR, [_hours(w.first_reply) for w in figures.weeks]),
         (t("Resolution"), RESOLUTION_COLOUR, [_hours(w.resolution) for w in figures.weeks])],
        shown=lambda hours: t("{n} h", n=charts.figure(hours)))


@staff_page
async def dashboard_page(console: Console) -> Response:
    days = chosen_days(console)
    figures = await console.services.dashboard.figures(days, utcnow())
    labels = Labels(console)
    return console.render(
        "dashboard.html", figures=figures, days=days, windows=WINDOWS, labels=labels,
        last_day=figures.window.end.date() - timedelta(days=1),
        duration=lambda wait: duration(console, wait),
        day_chart=_day_chart(console, figures, labels), week_chart=_week_chart(console, figures),
        bars=_bar_charts(console, figures, labels))


routes = [Route("/dashboard", dashboard_page)]
