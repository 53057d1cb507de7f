"""The console's dashboard (figures exactly as the database holds them) and content pages."""
from __future__ import annotations

import re
import shutil
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone

import pytest
from markupsafe import escape

from bot import LOCALES
from bot.console import charts
from bot.console.content import months_before, topic_rows
from bot.console.preview import telegram_html
from bot.content.check import Report, content_report
from bot.content.loader import load_content
from bot.db.engine import make_engine, make_sessionmaker
from bot.db.models import HelpRequest, Interaction, utcnow
from bot.services.dashboard import DashboardService, Window
from bot.console.web import console_locale
from tests.conftest import ROOT, make_settings, start_harness, stop_harness
from tests.support.console import console_http, log_in

STAFF = 7101
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)


@pytest.fixture
async def sessions(db_url):
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def desk(db_url):
    harness = await start_harness(make_settings(db_url))
    yield harness
    await stop_harness(harness)


def day_start(now: datetime, days_ago: int) -> datetime:
    return datetime.combine(now.date() - timedelta(days=days_ago), time(), tzinfo=timezone.utc)


def request(created_at: datetime, status: str = "new", topic: str | None = "russia_stay",
            country: str = "RU", locale: str = "ru", reply: timedelta | None = None,
            resolve: timedelta | None = None, **values) -> HelpRequest:
    return HelpRequest(user_id=values.pop("user_id", 42), topic_key=topic, country=country,
                       asker="self", locale=locale, status=status, created_at=created_at,
                       updated_at=created_at,
                       first_reply_at=created_at + reply if reply else None,
                       resolved_at=created_at + resolve if resolve else None, **values)


def interaction(created_at: datetime, kind: str, topic: str | None = None,
                query: str | None = None, found: int | None = None) -> Interaction:
    return Interaction(user_key="u1", kind=kind, topic_key=topic, query=query,
                       result_count=found, locale="ru", created_at=created_at)


async def insert(sessions, *rows) -> None:
    async with sessions.begin() as session:
        session.add_all(rows)


def requests_of_a_week(now: datetime) -> list[HelpRequest]:
    """Four requests in the 7 days ending `now`'s day, one the second before them, one older."""
    start = day_start(now, 6)
    return [
        request(day_start(now, 0) + 9 * H, "new"),
        request(day_start(now, 0) + 10 * H, "answered", country="KZ", locale="uz", reply=2 * H),
        request(day_start(now, 2) + 8 * H, "resolved", topic=None, reply=4 * H, resolve=30 * H),
        request(start, "closed", locale="en", reply=6 * H, resolve=10 * H),  # the window's first moment
        request(start - timedelta(seconds=1), "resolved", reply=10 * H, resolve=50 * H),
        request(day_start(now, 20), "new"),
    ]


# The service: figures from the rows inserted.

async def test_requests_are_counted_per_day_status_topic_country_and_language(sessions):
    await insert(sessions, *requests_of_a_week(NOW))
    figures = await DashboardService(sessions).figures(7, NOW)
    assert (figures.total, figures.previous_total) == (4, 1)
    assert [day for day, _ in figures.per_day] == [NOW.date() - timedelta(days=n) for n in range(6, -1, -1)]
    per_day = {day: {s: n for s, n in counts.items() if n} for day, counts in figures.per_day}
    assert per_day[NOW.date()] == {"new": 1, "answered": 1}
    assert per_day[NOW.date() - timedelta(days=2)] == {"resolved": 1}
    assert per_day[NOW.date() - timedelta(days=6)] == {"closed": 1}
    assert sum(len(counts) for counts in per_day.values()) == 4  # every other day is empty
    assert figures.by_status == [("new", 1), ("in_progress", 0), ("answered", 1), ("resolved", 1),
                                 ("closed", 1)]
    assert figures.by_topic == [("russia_stay", 3), (None, 1)]
    assert figures.by_country == [("RU", 3), ("KZ", 1)]
    assert figures.by_language == [("ru", 2), ("en", 1), ("uz", 1)]


async def test_median_reply_and_resolution_times_of_the_window_and_the_one_before(sessions):
    await insert(sessions, *requests_of_a_week(NOW))
    figures = await DashboardService(sessions).figures(7, NOW)
    assert (figures.first_reply.median, figures.first_reply.count) == (4 * H, 3)  # 2, 4, 6 h
    assert (figures.resolution.median, figures.resolution.count) == (20 * H, 2)  # 10, 30 h
    assert (figures.first_reply.previous, figures.resolution.previous) == (10 * H, 50 * H)
    assert [(w.first, w.last, w.first_reply, w.resolution) for w in figures.weeks] == [
        (NOW.date() - timedelta(days=6), NOW.date(), 4 * H, 20 * H)]


async def test_a_longer_window_takes_older_requests_and_weeks_end_today(sessions):
    await insert(sessions, *requests_of_a_week(NOW))
    figures = await DashboardService(sessions).figures(30, NOW)
    assert (figures.total, figures.previous_total) == (6, 0)
    assert figures.first_reply.median == 5 * H  # 2, 4, 6, 10 h
    assert len(figures.per_day) == 30
    spans = [(w.first, w.last) for w in figures.weeks]
    assert spans[-1] == (NOW.date() - timedelta(days=6), NOW.date())
    assert spans[0] == (NOW.date() - timedelta(days=29), NOW.date() - timedelta(days=28))  # 2 days
    assert sum((w.last - w.first).days + 1 for w in figures.weeks) == 30
    assert figures.weeks[-2].first_reply == 10 * H  # the request one second before the 7 days


async def test_a_window_is_whole_utc_days_ending_today():
    late = datetime(2026, 11, 30, 23, 59, tzinfo=timezone(timedelta(hours=-3)))  # 1 Dec in UTC
    window = Window.ending(late, 7)
    assert (window.start, window.end) == (datetime(2026, 11, 25, tzinfo=timezone.utc),
                                          datetime(2026, 12, 2, tzinfo=timezone.utc))
    assert window.previous.end == window.start and window.previous.days == 7


async def test_most_viewed_topics_and_searches_that_found_nothing(sessions):
    inside, before = day_start(NOW, 1), day_start(NOW, 8)
    await insert(sessions,
                 *[interaction(inside, "view", "russia_stay") for _ in range(3)],
                 interaction(inside, "view", "visas"), interaction(before, "view", "visas"),
                 interaction(inside, "page", "visas"), interaction(inside, "view", None),
                 interaction(inside, "search", query="qwzx", found=0),
                 interaction(inside, "search", query="qwzx", found=0),
                 interaction(inside, "search", query="qwzx", found=3),
                 interaction(inside, "search", query="plop zzz", found=0),
                 interaction(before, "search", query="plop zzz", found=0))
    figures = await DashboardService(sessions).figures(7, NOW)
    assert figures.viewed == [("russia_stay", 3), ("visas", 1)]
    assert figures.gaps == [("qwzx", 2), ("plop zzz", 1)]


async def test_satisfaction_counts_shares_and_latest_comments(sessions):
    asked = day_start(NOW, 1)
    await insert(sessions,
                 request(asked, number="M-1", satisfaction_asked_at=asked, satisfaction="up",
                         satisfaction_comment="Спасибо <b>"),
                 request(asked, number="M-2", satisfaction_asked_at=asked + H, satisfaction="up"),
                 request(asked, number="M-3", satisfaction_asked_at=asked + 2 * H,
                         satisfaction="down", satisfaction_comment="Не помогло"),
                 request(asked, number="M-4", satisfaction_asked_at=asked + 3 * H),
                 request(asked, number="M-5", satisfaction_asked_at=day_start(NOW, 9),
                         satisfaction="up", satisfaction_comment="old"))
    rated = (await DashboardService(sessions).figures(7, NOW)).satisfaction
    assert (rated.asked, rated.up, rated.down, rated.answered) == (4, 2, 1, 3)
    assert rated.up_share == pytest.approx(2 / 3)
    assert [(c.number, c.verdict, c.text) for c in rated.comments] == [
        ("M-3", "down", "Не помогло"), ("M-1", "up", "Спасибо <b>")]


async def test_an_empty_database_gives_zeros_and_no_medians(sessions):
    figures = await DashboardService(sessions).figures(90, NOW)
    assert figures.total == 0 and len(figures.per_day) == 90
    assert figures.first_reply.median is None and figures.satisfaction.up_share is None
    assert figures.by_topic == figures.viewed == figures.gaps == []


# Pure parts: charts, the Telegram HTML preview, stale dates.

def test_stacked_columns_stack_each_day_to_its_total():
    chart = charts.stacked_columns("Requests", [("11-29", [2, 0, 1]), ("11-30", [0, 0, 0])],
                                   [("New", "#111"), ("Answered", "#222"), ("Closed", "#333")])
    assert [bar.title for bar in chart.bars] == ["11-29 · New: 2", "11-29 · Closed: 1"]
    assert [(key.title, key.fill) for key in chart.legend] == [("New", "#111"), ("Answered", "#222"),
                                                                ("Closed", "#333")]
    new, closed = chart.bars
    assert closed.y + closed.height == pytest.approx(new.y)  # stacked on top
    assert new.height == pytest.approx(2 * closed.height)
    assert {text.text for text in chart.texts} >= {"11-29", "11-30", "New", "Closed", "0", "2", "4"}


def test_horizontal_bars_are_proportional_and_say_their_value():
    chart = charts.horizontal_bars("By country", [("Russia", 4), ("Kazakhstan", 1), ("Poland", 0)], "#000")
    assert [bar.title for bar in chart.bars] == ["Russia: 4", "Kazakhstan: 1"]
    assert chart.bars[0].width == pytest.approx(4 * chart.bars[1].width)
    assert [text.text for text in chart.texts if text.text.isdigit()] == ["4", "1", "0"]


def test_a_line_breaks_where_a_value_is_missing():
    chart = charts.line_chart("Times", ["a", "b", "c", "d"],
                              [("First reply", "#000", [1.0, 2.0, None, 3.0])])
    assert len(chart.lines) == 1 and len(chart.lines[0].points.split()) == 2
    assert [dot.title for dot in chart.dots] == ["a · First reply: 1", "b · First reply: 2",
                                                 "d · First reply: 3"]
    assert [charts.nice_ceiling(n) for n in (0, 3, 9, 37, 100, 101)] == [2, 4, 10, 40, 100, 200]


def test_telegram_html_keeps_only_the_bots_tags():
    shown = telegram_html('<b>Bold</b> <i>it</i> <a href="https://gov.uz/?a=1&amp;b=2">link</a> '
                          '&lt;b&gt; <script>alert(1)</script> <a href="javascript:alert(1)">x</a> '
                          '<b onclick="x">y</b> <img src=x onerror="alert(1)"> <i>open')
    assert shown == ('<b>Bold</b> <i>it</i> <a href="https://gov.uz/?a=1&amp;b=2" '
                     'rel="noopener noreferrer">link</a> &lt;b&gt;  <a rel="noopener noreferrer">x</a> '
                     '<b>y</b>  <i>open</i>')


def test_months_before_keeps_the_day_or_takes_the_months_last():
    assert months_before(date(2026, 12, 1), 6) == date(2026, 6, 1)
    assert months_before(date(2026, 8, 31), 6) == date(2026, 2, 28)
    assert months_before(date(2026, 3, 15), 15) == date(2024, 12, 15)


def test_topics_never_reviewed_come_first_then_the_oldest():
    content = load_content(ROOT / "content").content
    keys = list(content.topics)
    topics = dict(content.topics)
    topics[keys[5]] = replace(topics[keys[5]], reviewed=date(2025, 1, 1))
    topics[keys[3]] = replace(topics[keys[3]], reviewed=date(2020, 1, 1))
    topics[keys[9]] = replace(topics[keys[9]], reviewed=None)
    rows = topic_rows(replace(content, topics=topics), "en", cutoff=date(2026, 1, 1))
    assert [row.key for row in rows[:3]] == [keys[9], keys[3], keys[5]]
    assert [row.stale for row in rows[:4]] == [True, True, True, False]
    assert [row.key for row in rows[3:]] == [k for k in keys if k not in (keys[3], keys[5], keys[9])]


# The pages, through HTTP.

def ui(harness):
    """The console's words as the page shows them (in its language, escaped), so the tests
    hold whatever the catalogs say."""
    t = harness.services.catalogs.get(console_locale(harness.services, None))
    return lambda message, **values: str(escape(t(message, **values)))


def sessions_of(harness):
    return make_sessionmaker(harness.services.engine)


def section(page: str, name: str) -> str:
    found = re.search(rf'<section class="card" id="{name}">(.*?)</section>', page, re.S)
    assert found, name
    return found.group(1)


def figure_of(page: str, name: str) -> str:
    return re.search(r'<p class="figure">(.*?)</p>', section(page, name), re.S).group(1).strip()


async def test_the_dashboard_shows_the_figures_the_database_holds(desk):
    now = utcnow()
    await insert(sessions_of(desk), *requests_of_a_week(now),
                 request(day_start(now, 1), number="M-9", satisfaction_asked_at=day_start(now, 1),
                         satisfaction="down", satisfaction_comment="Не помогло <script>"),
                 interaction(day_start(now, 1), "search", query="qwzx", found=0))
    staff = await log_in(desk.services, STAFF)
    page = (await staff.get("/dashboard?days=7")).text
    assert figure_of(page, "total") == "5"
    t = ui(desk)
    assert t("Previous {days} days: {n}", days=7, n=1) in section(page, "total")
    assert figure_of(page, "first-reply") == t("{n} h", n=4)  # 2, 4, 6 h
    assert figure_of(page, "resolution") == t("{n} h", n=20)  # 10, 30 h
    assert figure_of(page, "satisfaction") == "0% 👍"
    assert "👍 0 · 👎 1 · " in section(page, "satisfaction")
    today = now.date().isoformat()
    per_day = section(page, "per-day")
    # The day's row: new, in progress, answered, resolved, closed, all.
    assert f"<tr><td>{today}</td><td>1</td><td>0</td><td>1</td><td>0</td><td>0</td><td>2</td></tr>" in per_day
    topic = escape(desk.services.content.current.text("uz", "russia_stay").title)
    assert f'<a href="/content/russia_stay">{topic}</a></td><td>4</td>' in section(page, "by-topic")
    assert f"<td>{t('Russia')}</td><td>4</td>" in section(page, "by-country")
    assert f"<td>{t('Kazakhstan')}</td><td>1</td>" in section(page, "by-country")
    russian = escape(desk.services.catalogs.get("ru")("Language name"))
    assert f"<td>{russian}</td><td>3</td>" in section(page, "by-language")
    assert "<title>" in per_day and 'role="img"' in per_day
    assert "<td>qwzx</td><td>1</td>" in section(page, "gaps")
    comments = section(page, "satisfaction")
    assert "Не помогло &lt;script&gt;" in comments and "<script>" not in page
    assert 'style="' not in page


async def test_the_window_switch_changes_the_figures(desk):
    now = utcnow()
    await insert(sessions_of(desk), request(day_start(now, 20) + H),
                 request(day_start(now, 60) + H))
    staff = await log_in(desk.services, STAFF)
    totals = {days: figure_of((await staff.get(f"/dashboard?days={days}")).text, "total")
              for days in ("7", "30", "90")}
    assert totals == {"7": "0", "30": "1", "90": "2"}
    fallback = (await staff.get("/dashboard?days=12")).text
    assert figure_of(fallback, "total") == "1"
    assert f'<strong aria-current="page">{ui(desk)("{n} days", n=30)}</strong>' in fallback


@pytest.fixture
async def edited_desk(db_url, tmp_path):
    """The real content with two topics last reviewed long ago."""
    folder = tmp_path / "content"
    shutil.copytree(ROOT / "content", folder)
    topics = folder / "topics.yaml"
    text = topics.read_text(encoding="utf-8")
    for key, reviewed in (("russia_stay", "2025-01-15"), ("visas_costs", "2020-03-01")):
        text = re.sub(rf"(- key: {key}\n(?:    .*\n)*?    reviewed: )\S+", rf"\g<1>{reviewed}", text)
    topics.write_text(text, encoding="utf-8")
    harness = await start_harness(make_settings(db_url, content_dir=folder))
    yield harness
    await stop_harness(harness)


async def test_the_content_page_lists_stale_topics_first_with_the_check_report(edited_desk):
    staff = await log_in(edited_desk.services, STAFF)
    page = (await staff.get("/content")).text
    order = re.findall(r'data-topic="([^"]+)"', page)
    assert order[:2] == ["visas_costs", "russia_stay"]
    assert len(order) == len(edited_desk.services.content.current.topics)
    assert '<tr class="urgent" data-topic="visas_costs">' in page
    report = content_report(edited_desk.services.settings.content_dir, edited_desk.services.catalogs)
    counts = ui(edited_desk)("{errors} errors, {warnings} warnings", errors=len(report.errors),
                             warnings=len(report.warnings))
    assert counts in section(page, "check")
    assert "official_statistics.md" in section(page, "check")  # a warning of the real content
    # Ten years back nothing is stale: the menu's order.
    longer = (await staff.get("/content?months=120")).text
    assert re.findall(r'data-topic="([^"]+)"', longer) == list(edited_desk.services.content.current.topics)
    assert 'class="urgent"' not in longer


async def test_a_clean_check_says_no_problems(desk, monkeypatch):
    monkeypatch.setattr("bot.console.content.content_report", lambda *_: Report(None, []))
    monkeypatch.setattr("bot.console.content._REPORTS", {})
    staff = await log_in(desk.services, STAFF)
    assert ui(desk)("No problems.") in section((await staff.get("/content")).text, "check")


async def test_a_topic_is_previewed_in_the_four_locales_as_the_bot_renders_it(desk):
    staff = await log_in(desk.services, STAFF)
    response = await staff.get("/content/russia_stay")
    assert response.status_code == 200
    content = desk.services.content.current
    for locale in LOCALES:
        preview = re.search(rf'id="preview-{locale}">(.*?)</section>', response.text, re.S).group(1)
        assert f"<b>{escape(content.text(locale, 'russia_stay').title)}</b>" in preview
        assert escape(desk.services.catalogs.get(locale)("Language name")) in preview
    assert 'style="' not in response.text and "<script>" not in response.text
    assert (await staff.get("/content/no_such_topic")).status_code == 404


async def test_without_a_session_the_pages_send_to_the_login(desk):
    async with console_http(desk.services) as http:
        for path in ("/dashboard?days=7", "/content", "/content/russia_stay"):
            response = await http.get(path)
            assert response.status_code == 303
            assert response.headers["location"].startswith("/login?next=")
