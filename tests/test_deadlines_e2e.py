"""My deadlines end to end: `python -m bot run` against the fake Telegram, as a migrant uses
it: the entry date typed, then changed in the calendar, reminders agreed to, sent when due
(the test makes them due by moving `due_at`, the bot's job loop sends them), "done",
"stop all", and /delete."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import make_engine
from bot.db.models import DeadlinePlan, DeadlineReminder, OutboxMessage
from bot.deadlines.reminders import local_today
from bot.i18n import Catalogs
from bot.views.deadlines import long_date
from tests.conftest import ROOT, run_in_thread
from tests.fakebot import FakeTelegram
from tests.support.botprocess import BotProcess, bot_environment

pytestmark = pytest.mark.e2e

TOKEN = "434343:E2E-deadlines-token"
RU = Catalogs(ROOT / "locales").get("ru")
USER = 1301
WAIT = 20  # the job loop looks at the outbox every 5 seconds


def buttons(message) -> dict[str, str]:
    markup = (message or {}).get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}


async def _query(database_url, work):
    engine = make_engine(database_url)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            return await work(session)
    finally:
        await engine.dispose()


def query(database_url, work):
    return run_in_thread(asyncio.run, _query(database_url, work))


def all_rows(database_url, model):
    async def work(session):
        return list((await session.execute(select(model))).scalars())
    return query(database_url, work)


def make_due(database_url, reminder_id):
    async def work(session):
        await session.execute(update(OutboxMessage).where(
            OutboxMessage.kind == "reminder", OutboxMessage.ref == reminder_id)
            .values(due_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    query(database_url, work)


def pending(database_url):
    return [r for r in all_rows(database_url, DeadlineReminder) if r.sent_at is None]


@pytest.fixture
def telegram():
    tg = FakeTelegram(token=TOKEN).start_in_thread()
    tg.add_user(USER, first_name="Jasur", language_code="ru")
    yield tg
    tg.stop()


@pytest.fixture
def running_bot(telegram, db_url, tmp_path):
    bot = BotProcess(bot_environment(telegram.url, TOKEN, db_url), tmp_path / "bot.log")
    telegram.wait_for_sync(lambda: telegram.calls_to("getUpdates"), timeout=60)
    yield bot
    bot.stop()
    assert TOKEN not in bot.log()


def press(tg, label=None, data=None, message=None):
    message = message or tg.last_message(USER)
    tg.press(USER, message["message_id"], data or buttons(message)[label])


def wait_text(tg, fragment):
    tg.wait_for_sync(lambda: fragment in (tg.last_text(USER) or ""), timeout=WAIT)


def wait_button(tg, label):
    tg.wait_for_sync(lambda: label in buttons(tg.last_message(USER)), timeout=WAIT)


def pick_in_calendar(tg, day):
    """Press the day, turning the calendar's months until it shows."""
    wanted = f"d|p|entry|{day:%Y%m%d}"
    for _ in range(3):
        shown = buttons(tg.last_message(USER))
        if wanted in shown.values():
            press(tg, data=wanted)
            return
        month_shown = next(v for v in shown.values() if v.startswith("d|p|entry|"))[10:16]
        press(tg, "›" if f"{day:%Y%m}" > month_shown else "‹")
        tg.wait_for_sync(lambda before=shown: buttons(tg.last_message(USER)) != before,
                         timeout=WAIT)
    raise AssertionError(f"{day} is not in the calendar")


def test_a_new_user_sets_the_entry_date_and_is_reminded(telegram, running_bot, db_url):
    tg = telegram
    today = local_today("RU", datetime.now(timezone.utc))
    entry = today - timedelta(days=3)
    started = datetime.now()
    tg.send_text(USER, "/start")
    wait_button(tg, "Русский")
    press(tg, "Русский")
    tg.wait_for_sync(lambda: {RU("📅 My deadlines"), RU("Skip ›")} & set(buttons(tg.last_message(USER))),
                     timeout=WAIT)
    if RU("Skip ›") in buttons(tg.last_message(USER)):  # asked where they are: not now
        press(tg, RU("Skip ›"))
    wait_button(tg, RU("📅 My deadlines"))
    press(tg, RU("📅 My deadlines"))
    wait_button(tg, RU("Russia"))
    press(tg, RU("Russia"))
    wait_text(tg, "12 ноября")
    tg.send_text(USER, entry.strftime("%d.%m.%Y"))  # typed
    wait_button(tg, RU("✅ Show my deadlines"))
    press(tg, RU("✅ Show my deadlines"))
    registration = long_date(entry + timedelta(days=14), "ru")
    wait_text(tg, f"Последний день: {registration}")
    answer = tg.last_text(USER)
    assert "Миграционный учёт" in answer and "90 суток в календарном году" in answer
    assert "не юридическое решение" in answer
    press(tg, RU("🔔 Remind me"))
    wait_button(tg, RU("✅ Yes, remind me"))
    press(tg, RU("✅ Yes, remind me"))
    wait_text(tg, RU("🔔 Reminders are on."))
    # Set up in well under a minute, by typing.
    assert (datetime.now() - started).total_seconds() < 60
    assert {r.rule_key for r in pending(db_url)} == {
        "ru_registration", "ru_patent_application", "ru_fingerprinting", "ru_stay_90_per_year"}

    # The entry date changed in the calendar: everything is counted and planned again.
    press(tg, RU("✏️ Entry date"))
    wait_button(tg, "‹")
    new_entry = today - timedelta(days=2)
    pick_in_calendar(tg, new_entry)
    wait_text(tg, f"Последний день: {long_date(new_entry + timedelta(days=14), 'ru')}")
    (plan,) = all_rows(db_url, DeadlinePlan)
    assert plan.entry_date == new_entry
    registration_reminders = [r for r in pending(db_url) if r.rule_key == "ru_registration"]
    assert {r.deadline for r in registration_reminders} == {new_entry + timedelta(days=14)}

    # Due: the bot's own job loop sends it, once.
    first = min(registration_reminders, key=lambda r: r.due_at)
    make_due(db_url, first.id)
    wait_text(tg, "Напоминание: Миграционный учёт")
    reminder = tg.last_message(USER)
    assert RU("✅ Done, no more about this") in buttons(reminder)
    press(tg, RU("✅ Done, no more about this"), message=reminder)
    tg.wait_for_sync(lambda: not [r for r in pending(db_url) if r.rule_key == "ru_registration"],
                     timeout=WAIT)

    # Another one, and "stop all".
    patent = min((r for r in pending(db_url) if r.rule_key == "ru_patent_application"),
                 key=lambda r: r.due_at)
    make_due(db_url, patent.id)
    wait_text(tg, "Напоминание: Патент")
    press(tg, RU("🔕 Stop all reminders"))
    tg.wait_for_sync(lambda: pending(db_url) == [], timeout=WAIT)
    assert all(m.done_at is not None for m in all_rows(db_url, OutboxMessage)
               if m.kind == "reminder")

    # /delete erases the dates.
    tg.send_text(USER, "/delete")
    wait_button(tg, RU("🗑 Yes, delete everything"))
    press(tg, RU("🗑 Yes, delete everything"))
    tg.wait_for_sync(lambda: all_rows(db_url, DeadlinePlan) == [], timeout=WAIT)
    assert all_rows(db_url, DeadlineReminder) == []
    reminders_sent = [c for c in tg.calls_to("sendMessage") if c.get("text", "").startswith("⏰")]
    assert len(reminders_sent) == 2  # each sent once
