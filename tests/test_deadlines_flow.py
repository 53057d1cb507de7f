"""My deadlines at the bot level: the conversation through the real Application and inbox,
the reminders through the real outbox, on SQLite and PostgreSQL. The service's clock is
moved by the tests; the outbox is made due by moving `due_at`, as for staff cards."""
from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import LOCALES
from bot.content.markup import TELEGRAM_TEXT_LIMIT, telegram_length
from bot.context import BotContext
from bot.db.engine import make_engine, make_sessionmaker
from bot.db.models import (DeadlinePlan, DeadlineReminder, DeadlineStay, FlowState, Interaction,
                           OutboxMessage, User, utcnow)
from bot.deadlines import deadlines_for
from bot.deadlines.reminders import local_today, remind_at, reminder_times
from bot.runner import send_due_outbox
from bot.services import deadlines as steps
from bot.services.outbox import Outbox
from bot.views import callbacks
from bot.views import deadlines as views
from tests.conftest import ROOT, fresh_database, make_settings, start_harness, stop_harness
from tests.support.updates import callback_update, sticker_update, text_update

USER, OTHER = 701, 702
UTC = timezone.utc
# 09:00 UTC on Thursday 10 Dec 2026 is noon in Moscow.
NOW = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
D = date.fromisoformat


@pytest.fixture
async def bot(db_url):
    harness = await start_harness(make_settings(db_url))
    harness.services.deadlines.clock = lambda: NOW
    yield harness
    await stop_harness(harness)


async def rows(h, model):
    async with AsyncSession(h.services.engine) as session:
        return list((await session.execute(select(model))).scalars())


async def press(h, data, user_id=USER):
    await h.feed(callback_update(h.bot, user_id, data, language_code="ru"))


async def say(h, text, user_id=USER):
    await h.feed(text_update(h.bot, user_id, text, language_code="ru"))


def screen(h):
    return h.request.last_screen().params


def text(h):
    return screen(h)["text"]


def buttons(h):
    markup = screen(h).get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}


def t(locale="ru"):
    from bot.i18n import Catalogs

    return Catalogs(ROOT / "locales").get(locale)


RU = t("ru")


async def start(h, locale="ru", user_id=USER):
    await say(h, "/start", user_id=user_id)
    await press(h, callbacks.language(locale), user_id)
    if callbacks.DEADLINES not in buttons(h).values():  # asked where they are: not now
        await press(h, callbacks.MAIN_MENU, user_id)


async def to_entry_step(h, country="RU", user_id=USER):
    await start(h, user_id=user_id)
    await press(h, callbacks.DEADLINES, user_id)
    await press(h, callbacks.deadlines("c", country), user_id)


async def set_up(h, country="RU", entry="04.12.2026", stays=(), user_id=USER):
    await to_entry_step(h, country, user_id)
    await say(h, entry, user_id=user_id)
    for began, left in stays:
        await press(h, callbacks.deadlines("add"), user_id)
        await say(h, began, user_id=user_id)
        await say(h, left, user_id=user_id)
    if country != "KR":
        await press(h, callbacks.deadlines("res"), user_id)


async def make_due(h, reminder_id):
    async with AsyncSession(h.services.engine) as session, session.begin():
        await session.execute(update(OutboxMessage).where(
            OutboxMessage.kind == "reminder", OutboxMessage.ref == reminder_id)
            .values(due_at=utcnow() - timedelta(seconds=1)))


def sent_to_user(h, user_id=USER):
    return [c for c in h.request.of("sendMessage") if c.params["chat_id"] == user_id]


# ---- the conversation ---------------------------------------------------------------------

async def test_main_menu_and_command_open_my_deadlines_with_all_five_countries(bot):
    await start(bot)
    assert buttons(bot)[RU("📅 My deadlines")] == callbacks.DEADLINES
    await say(bot, "/deadlines")
    assert RU("I will count your days and deadlines from your date of entry. Which country are "
              "you in?") in text(bot)
    assert list(buttons(bot).values())[:5] == [callbacks.deadlines("c", c)
                                               for c in ("RU", "KZ", "TR", "GB", "KR")]
    await say(bot, "/help")
    assert "/deadlines" in text(bot)


async def test_the_country_of_the_users_latest_request_comes_first(bot):
    from bot.db.models import HelpRequest

    await start(bot)
    async with AsyncSession(bot.services.engine) as session, session.begin():
        session.add(HelpRequest(user_id=USER, country="KR", asker="self", locale="ru",
                                status="new"))
    await press(bot, callbacks.DEADLINES)
    assert list(buttons(bot).values())[0] == callbacks.deadlines("c", "KR")


@pytest.mark.skipif(not hasattr(User, "country"), reason="users.country is not there yet")
async def test_the_country_the_user_told_the_bot_comes_first(bot):
    await start(bot)
    async with AsyncSession(bot.services.engine) as session, session.begin():
        await session.execute(update(User).where(User.id == USER).values(country="GB"))
    await press(bot, callbacks.DEADLINES)
    assert list(buttons(bot).values())[:5] == [callbacks.deadlines("c", c)
                                               for c in ("GB", "RU", "KZ", "TR", "KR")]


async def test_typed_entry_date_gives_every_russian_rule_with_sources_and_the_disclaimer(bot):
    await to_entry_step(bot, "RU")
    assert "12.11.2026" in text(bot) and "12 ноября" in text(bot)
    await say(bot, "4 декабря")  # no year: the most recent 4 December
    assert RU("➕ Add a stay") in buttons(bot)  # Russia counts 90 days a year: earlier stays
    await press(bot, callbacks.deadlines("res"))
    answer = text(bot)
    for fragment in ("Миграционный учёт", "18 декабря 2026", "через 8 дн.",  # 15 days
                     "Патент: подать документы", "2 января 2027 (через 23 дн.)",  # 30 days
                     "Дактилоскопия и фото", "90 суток в календарном году",
                     "с 1 января 2026 по 10 декабря 2026: 7 из 90",
                     "31 марта 2027", "Источники расходятся",  # the disputed reading
                     "По другому прочтению: 24 декабря 2026 (требует уточнения)",
                     "Источники:", "Federal Law 260-FZ",
                     RU("This is a help to count, not a legal decision. The official count is "
                        "the one of the host country's authorities."),
                     "/mydata", "/delete"):
        assert fragment in answer, fragment
    (plan,) = await rows(bot, DeadlinePlan)
    assert (plan.country, plan.entry_date, plan.reminders) == ("RU", D("2026-12-04"), False)
    assert await rows(bot, DeadlineReminder) == []  # no reminders without consent
    assert await rows(bot, FlowState) == []  # the conversation is over: text is a search again
    logged = [(i.kind, i.topic_key, i.query) for i in await rows(bot, Interaction)]
    assert not any("12" in (q or "") or "декабр" in (q or "") for _, _, q in logged)


async def test_picked_entry_date_and_bad_input_each_get_a_clear_answer_and_the_step_again(bot):
    await to_entry_step(bot, "KZ")
    entry_screen = buttons(bot)
    assert "[10]" in entry_screen  # today, in Almaty, is marked
    for typed, why in (("hello there", "I could not read a date there. Please type it like "
                                       "12.11.2026, or pick the day below."),
                       ("31.04.2026", "There is no such day in the calendar. Please check the "
                                      "day and the month."),
                       ("01.01.2029", "That date is more than a year ahead. Please check the "
                                      "year."),
                       ("01.01.2010", "That date is more than ten years ago. Please check the "
                                      "year.")):
        await say(bot, typed)
        assert RU(why) in text(bot), typed
        assert "[10]" in buttons(bot)  # the calendar again
    await bot.feed(sticker_update(bot.bot, USER))
    assert RU("Please pick the day below or type the date.") in text(bot)
    # ‹ goes back a month; a forged day outside the calendar is refused.
    await press(bot, buttons(bot)["‹"])
    assert callbacks.deadlines("p", "entry", 20261101) in buttons(bot).values()
    await press(bot, callbacks.deadlines("p", "entry", 20261131))
    assert RU("There is no such day in the calendar. Please check the day and the month.") in text(bot)
    await press(bot, callbacks.deadlines("p", "entry", 20261101))
    (plan,) = await rows(bot, DeadlinePlan)
    assert plan.entry_date == D("2026-11-01")
    assert RU("No earlier stays added.") in text(bot)


async def test_earlier_stays_are_added_checked_removed_and_counted(bot):
    bot.services.deadlines.clock = lambda: datetime(2026, 6, 10, 6, tzinfo=UTC)
    await to_entry_step(bot, "KZ")
    await say(bot, "01.06.2026")
    await press(bot, callbacks.deadlines("add"))
    await say(bot, "01.07.2026")  # ahead of today
    assert RU("An earlier stay cannot be in the future. Please check the date.") in text(bot)
    await say(bot, "05.06.2026")  # after this entry
    assert "1 июня 2026" in text(bot) and "Прежняя поездка должна быть до" in text(bot)
    await say(bot, "10.01.2026")
    await say(bot, "05.01.2026")  # ends before it began
    assert "Поездка не может закончиться раньше" in text(bot)
    await say(bot, "28.02.2026")
    assert "10 января 2026 – 28 февраля 2026 (50 дн.)" in text(bot)
    await press(bot, callbacks.deadlines("res"))
    # The table's case: 50 days in Jan-Feb and 10 since 1 June are 60 of 90 in the last 180.
    assert "60 из 90" in text(bot) and "29 августа 2026" in text(bot)
    assert "Осталось дней: 30" in text(bot)
    (stay,) = await rows(bot, DeadlineStay)
    await press(bot, callbacks.deadlines("stays"))
    await press(bot, callbacks.deadlines("rm", str(stay.id)))
    assert await rows(bot, DeadlineStay) == []
    await press(bot, callbacks.deadlines("res"))
    assert "10 из 90" in text(bot)


async def test_korea_asks_for_the_labour_contract_and_can_skip_it(bot):
    await to_entry_step(bot, "KR")
    await say(bot, "15.11.2026")
    assert RU("Skip") in buttons(bot)
    await press(bot, callbacks.deadlines("skip"))
    assert RU("Add the date your labour contract took effect to count this.") in text(bot)
    await press(bot, callbacks.deadlines("ch", "contract"))
    await say(bot, "02.11.2026")
    assert "20 января 2027" in text(bot)  # day 80 from 2 November
    (plan,) = await rows(bot, DeadlinePlan)
    assert plan.contract_date == D("2026-11-02")


async def test_a_step_survives_a_restart(db_url):
    settings = make_settings(db_url)
    first = await start_harness(settings)
    first.services.deadlines.clock = lambda: NOW
    await to_entry_step(first, "TR")
    await stop_harness(first)
    second = await start_harness(settings)
    second.services.deadlines.clock = lambda: NOW
    try:
        await say(second, "01.12.2026")
        (plan,) = await rows(second, DeadlinePlan)
        assert (plan.country, plan.entry_date) == ("TR", D("2026-12-01"))
    finally:
        await stop_harness(second)


async def test_text_not_meant_for_the_conversation_is_searched_as_usual(bot):
    not_a_date = RU("I could not read a date there. Please type it like 12.11.2026, or pick the "
                    "day below.")
    await to_entry_step(bot, "RU")
    await say(bot, "04.12.2026")  # now at the stays step, which waits for buttons
    await say(bot, "patent")
    assert not_a_date not in text(bot) and await rows(bot, FlowState) == []
    # A date step left a while ago lets a question through; a date is still taken.
    await press(bot, callbacks.deadlines("ch", "entry"))
    async with AsyncSession(bot.services.engine) as session, session.begin():
        await session.execute(update(FlowState).values(
            updated_at=utcnow() - steps.STEP_PATIENCE - timedelta(minutes=1)))
    await say(bot, "05.12.2026")
    assert (await rows(bot, DeadlinePlan))[0].entry_date == D("2026-12-05")
    await press(bot, callbacks.deadlines("ch", "entry"))
    await say(bot, "how do I get a patent")
    assert not_a_date in text(bot)  # just asked: the step again
    async with AsyncSession(bot.services.engine) as session, session.begin():
        await session.execute(update(FlowState).values(
            updated_at=utcnow() - steps.STEP_PATIENCE - timedelta(minutes=1)))
    await say(bot, "how do I get a patent")
    assert not_a_date not in text(bot) and await rows(bot, FlowState) == []
    # Leaving by the screen's own menu button ends the step.
    await press(bot, callbacks.deadlines("ch", "entry"))
    await press(bot, callbacks.deadlines("menu"))
    assert await rows(bot, FlowState) == [] and RU("Choose a topic below.") in text(bot)


async def test_an_old_button_shows_where_the_user_is(bot):
    await set_up(bot, "RU")
    await press(bot, callbacks.deadlines("p", "entry", 20261201))  # the calendar is gone
    assert RU("That button is no longer current.") in text(bot)
    assert (await rows(bot, DeadlinePlan))[0].entry_date == D("2026-12-04")


# ---- reminders ----------------------------------------------------------------------------

async def test_reminders_only_after_consent_a_few_days_before_and_on_the_day_at_ten_local(bot):
    await set_up(bot, "RU")
    await press(bot, callbacks.deadlines("rem"))
    assert RU("How long: until the last deadline has passed; then it is all deleted.") in text(bot)
    await press(bot, callbacks.deadlines("yes"))
    assert RU("🔔 Reminders are on.") in text(bot)
    assert "10:00 (московское время)" in text(bot)
    reminders = sorted((r.rule_key, r.days_before, r.due_at) for r in await rows(bot, DeadlineReminder))
    ten_moscow = lambda day: datetime.fromisoformat(f"{day}T07:00:00+00:00")  # noqa: E731
    assert reminders == sorted([
        ("ru_registration", 3, ten_moscow("2026-12-15")), ("ru_registration", 0, ten_moscow("2026-12-18")),
        ("ru_patent_application", 3, ten_moscow("2026-12-30")),
        ("ru_patent_application", 0, ten_moscow("2027-01-02")),
        ("ru_fingerprinting", 3, ten_moscow("2026-12-30")),
        ("ru_fingerprinting", 0, ten_moscow("2027-01-02")),
        ("ru_stay_90_per_year", 3, ten_moscow("2027-03-28")),
        ("ru_stay_90_per_year", 0, ten_moscow("2027-03-31")),
    ])
    outbox = {(m.ref, m.due_at) for m in await rows(bot, OutboxMessage) if m.kind == "reminder"}
    assert outbox == {(r.id, r.due_at) for r in await rows(bot, DeadlineReminder)}
    # A new entry date recomputes everything.
    await press(bot, callbacks.deadlines("ch", "entry"))
    await press(bot, callbacks.deadlines("p", "entry", 20261206))
    registration = sorted(r.deadline for r in await rows(bot, DeadlineReminder)
                          if r.rule_key == "ru_registration")
    assert registration == [D("2026-12-20"), D("2026-12-20")]
    assert len([m for m in await rows(bot, OutboxMessage) if m.kind == "reminder"]) == 8


async def test_a_reminder_is_sent_at_its_time_once_then_done_and_stop_all(bot):
    await set_up(bot, "RU")
    await press(bot, callbacks.deadlines("rem"))
    await press(bot, callbacks.deadlines("yes"))
    ctx = BotContext(bot.app)
    bot.request.clear()
    await send_due_outbox(ctx)
    assert sent_to_user(bot) == []  # nothing is due yet
    first = min((r for r in await rows(bot, DeadlineReminder) if r.rule_key == "ru_registration"),
                key=lambda r: r.due_at)
    bot.services.deadlines.clock = lambda: first.due_at
    await make_due(bot, first.id)
    await send_due_outbox(ctx)
    await send_due_outbox(ctx)
    (reminder,) = sent_to_user(bot)
    assert "Напоминание: Миграционный учёт" in reminder.params["text"]
    assert "18 декабря 2026 (через 3 дн.)" in reminder.params["text"]
    labels = {b["text"]: b["callback_data"] for row in reminder.params["reply_markup"]["inline_keyboard"]
              for b in row}
    assert labels[RU("✅ Done, no more about this")] == "d|done|ru_registration"
    assert labels[RU("🔕 Stop all reminders")] == "d|stop"
    sent = {r.id: r.sent_at for r in await rows(bot, DeadlineReminder)}
    assert sent[first.id] is not None
    (message,) = [m for m in await rows(bot, OutboxMessage) if m.ref == first.id]
    assert message.done_at is not None and message.attempts == 1
    # "Done": no more about registration; the others stay.
    await press(bot, labels[RU("✅ Done, no more about this")])
    assert "больше напоминать не буду" in text(bot)
    pending = [r for r in await rows(bot, DeadlineReminder) if r.sent_at is None]
    assert {r.rule_key for r in pending} == {"ru_patent_application", "ru_fingerprinting",
                                             "ru_stay_90_per_year"}
    # "Stop all": nothing more is sent, and nothing waits in the outbox.
    await press(bot, labels[RU("🔕 Stop all reminders")])
    assert [r for r in await rows(bot, DeadlineReminder) if r.sent_at is None] == []
    assert [m for m in await rows(bot, OutboxMessage) if m.done_at is None] == []
    assert (await rows(bot, DeadlinePlan))[0].reminders is False


async def test_reminders_are_paced_as_bulk_sends(bot, monkeypatch):
    await set_up(bot, "RU")
    await press(bot, callbacks.deadlines("rem"))
    await press(bot, callbacks.deadlines("yes"))
    pacer = bot.app.bot.rate_limiter
    seen = []
    original = pacer.process_request

    async def spy(callback, args, kwargs, endpoint, data, rate_limit_args):
        seen.append((endpoint, data.get("chat_id"), rate_limit_args))
        return await original(callback, args, kwargs, endpoint, data, rate_limit_args)

    monkeypatch.setattr(pacer, "process_request", spy)
    first = min(await rows(bot, DeadlineReminder), key=lambda r: r.due_at)
    await make_due(bot, first.id)
    await send_due_outbox(BotContext(bot.app))
    assert ("sendMessage", USER, {"bulk": True}) in seen


async def test_a_stopped_or_late_reminder_that_was_already_claimed_is_not_sent(bot):
    await set_up(bot, "RU")
    await press(bot, callbacks.deadlines("rem"))
    await press(bot, callbacks.deadlines("yes"))
    before = [r for r in await rows(bot, DeadlineReminder) if r.days_before == 3]
    service = bot.services.deadlines
    # On the deadline's day the "3 days before" one is too late: the day's own one goes.
    service.clock = lambda: datetime(2026, 12, 18, 8, tzinfo=UTC)
    registration = next(r for r in before if r.rule_key == "ru_registration")
    assert await service.reminder_to_send(registration.id) is None
    (message,) = [m for m in await rows(bot, OutboxMessage) if m.ref == registration.id]
    assert message.done_at is not None and message.last_error == "too late"


async def test_a_reminder_to_a_user_who_blocked_the_bot_is_dropped(bot):
    await set_up(bot, "RU")
    await press(bot, callbacks.deadlines("rem"))
    await press(bot, callbacks.deadlines("yes"))
    first = min(await rows(bot, DeadlineReminder), key=lambda r: r.due_at)
    await make_due(bot, first.id)
    bot.request.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    ctx = BotContext(bot.app)
    await send_due_outbox(ctx)
    (message,) = [m for m in await rows(bot, OutboxMessage) if m.ref == first.id]
    assert message.done_at is not None and "blocked" in message.last_error
    assert {r.id: r.sent_at for r in await rows(bot, DeadlineReminder)}[first.id] is not None
    await make_due(bot, first.id)
    bot.request.clear()
    await send_due_outbox(ctx)
    assert sent_to_user(bot) == []  # dropped, not retried
    (user,) = [u for u in await rows(bot, User) if u.id == USER]
    assert user.is_active is False


async def test_a_failed_send_is_tried_again_later(bot):
    await set_up(bot, "RU")
    await press(bot, callbacks.deadlines("rem"))
    await press(bot, callbacks.deadlines("yes"))
    first = min(await rows(bot, DeadlineReminder), key=lambda r: r.due_at)
    bot.services.deadlines.clock = lambda: first.due_at
    await make_due(bot, first.id)
    bot.request.fail_next("sendMessage", 500, "Internal Server Error")
    ctx = BotContext(bot.app)
    bot.request.clear()
    await send_due_outbox(ctx)
    (message,) = [m for m in await rows(bot, OutboxMessage) if m.ref == first.id]
    assert message.done_at is None and message.due_at > utcnow()  # backed off
    await make_due(bot, first.id)
    await send_due_outbox(ctx)
    assert len(sent_to_user(bot)) == 2  # the failed try and the retry
    (message,) = [m for m in await rows(bot, OutboxMessage) if m.ref == first.id]
    assert message.done_at is not None


async def test_after_a_restart_a_reminder_is_neither_lost_nor_doubled(db_url):
    settings = make_settings(db_url)
    first = await start_harness(settings)
    first.services.deadlines.clock = lambda: NOW
    await set_up(first, "RU")
    await press(first, callbacks.deadlines("rem"))
    await press(first, callbacks.deadlines("yes"))
    due = min(await rows(first, DeadlineReminder), key=lambda r: r.due_at)
    await make_due(first, due.id)
    # A process claims it and dies before sending.
    dead = Outbox(make_sessionmaker(first.services.engine), "dead-worker")
    assert [m.ref for m in await dead.claim_due()] == [due.id]
    await stop_harness(first)
    second = await start_harness(settings)
    second.services.deadlines.clock = lambda: NOW
    try:
        ctx = BotContext(second.app)
        await send_due_outbox(ctx)
        assert sent_to_user(second) == []  # its lease still runs: it may be on its way
        async with AsyncSession(second.services.engine) as session, session.begin():
            await session.execute(update(OutboxMessage).where(OutboxMessage.ref == due.id)
                                  .values(claimed_until=utcnow() - timedelta(seconds=1)))
        await send_due_outbox(ctx)
        await send_due_outbox(ctx)
        (sent,) = sent_to_user(second)
        assert "Напоминание: Миграционный учёт" in sent.params["text"]
    finally:
        await stop_harness(second)


# ---- personal data ------------------------------------------------------------------------

async def test_mydata_shows_the_dates_and_delete_erases_them_with_the_reminders(bot):
    await set_up(bot, "KZ", entry="01.12.2026", stays=[("01.10.2026", "15.10.2026")])
    await press(bot, callbacks.deadlines("rem"))
    await press(bot, callbacks.deadlines("yes"))
    await say(bot, "/mydata")
    document = bot.request.of("sendDocument")[-1].params["files"]
    exported = json.loads(next(iter(document.values())).decode())["deadlines"]
    assert exported["country"] == "KZ" and exported["entry_date"] == "2026-12-01"
    assert exported["earlier_stays"] == [{"entered": "2026-10-01", "left": "2026-10-15"}]
    assert exported["reminders"] is True and exported["reminders_planned"]
    await press(bot, callbacks.ERASE_CONFIRMED)
    for model in (DeadlinePlan, DeadlineStay, DeadlineReminder):
        assert await rows(bot, model) == []
    assert [m for m in await rows(bot, OutboxMessage) if m.kind == "reminder"] == []


async def test_forget_my_dates(bot):
    await set_up(bot, "TR", entry="01.12.2026")
    await press(bot, callbacks.deadlines("forget"))
    assert RU("Your dates and reminders have been deleted.") in text(bot)
    assert await rows(bot, DeadlinePlan) == []


async def test_the_job_deletes_the_dates_once_no_deadline_is_ahead(bot):
    await set_up(bot, "TR", entry="01.12.2026", user_id=USER)  # 90 days: until 28 Feb 2027
    await set_up(bot, "KZ", entry="20.11.2026", user_id=OTHER)  # until 17 Feb 2027
    service = bot.services.deadlines
    assert await service.purge_past() == 0
    service.clock = lambda: datetime(2027, 2, 20, 12, tzinfo=UTC)
    assert await service.purge_past() == 1
    assert [p.user_id for p in await rows(bot, DeadlinePlan)] == [USER]
    service.clock = lambda: datetime(2027, 3, 1, 12, tzinfo=UTC)
    assert await service.purge_past() == 1
    assert await rows(bot, DeadlinePlan) == []


# ---- several processes --------------------------------------------------------------------

async def test_two_outboxes_claim_each_due_reminder_exactly_once(tmp_path):
    """Two processes' outboxes (own engines, own worker ids) on one PostgreSQL database."""
    database = fresh_database("postgresql", tmp_path)
    engines = [make_engine(database), make_engine(database)]
    try:
        sessions = [make_sessionmaker(engine) for engine in engines]
        count = 200
        async with sessions[0].begin() as session:
            from bot.db.repositories import DeadlineRepository

            repository = DeadlineRepository(session)
            for i in range(count):
                await repository.add_reminder(DeadlineReminder(
                    user_id=10_000 + i, rule_key="ru_registration", deadline=D("2026-12-18"),
                    days_before=0, due_at=utcnow() - timedelta(seconds=1)))
        outboxes = [Outbox(sessions[0], "worker-a"), Outbox(sessions[1], "worker-b")]
        claimed: dict[str, list[int]] = {"worker-a": [], "worker-b": []}

        async def drain(outbox: Outbox) -> None:
            while True:
                batch = await outbox.claim_due(limit=7)
                if not batch:
                    return
                claimed[outbox.worker] += [m.ref for m in batch]
                await asyncio.sleep(0)

        await asyncio.gather(*(drain(outbox) for outbox in outboxes))
        a, b = set(claimed["worker-a"]), set(claimed["worker-b"])
        assert len(claimed["worker-a"]) == len(a) and len(claimed["worker-b"]) == len(b)
        assert not a & b, "a reminder was claimed by both processes"
        assert len(a | b) == count
        assert a and b, "both processes took a share"
        # A claim not reported back (its process died) is taken again after the lease only.
        later = utcnow() + timedelta(seconds=61)
        again = await outboxes[1].claim_due(limit=count, now=later)
        assert len(again) == count
        assert await outboxes[0].claim_due(limit=count, now=later) == []
    finally:
        for engine in engines:
            await engine.dispose()


async def test_two_bot_processes_send_each_reminder_once(tmp_path):
    """Two Applications (own engines, own outbox worker ids) send due reminders at once."""
    database = fresh_database("postgresql", tmp_path)
    settings = make_settings(database)
    first = await start_harness(settings)
    second = None
    try:
        first.services.deadlines.clock = lambda: NOW
        users = list(range(800, 830))
        for user_id in users:
            await set_up(first, "RU", user_id=user_id)
            await press(first, callbacks.deadlines("rem"), user_id)
            await press(first, callbacks.deadlines("yes"), user_id)
        # Started once the users are set up: its dispatcher would take their updates too.
        second = await start_harness(settings)
        due = [r.id for r in await rows(first, DeadlineReminder)
               if r.rule_key == "ru_registration" and r.days_before == 3]
        async with AsyncSession(first.services.engine) as session, session.begin():
            await session.execute(update(OutboxMessage).where(
                OutboxMessage.kind == "reminder", OutboxMessage.ref.in_(due))
                .values(due_at=utcnow() - timedelta(seconds=1)))
        for h in (first, second):
            h.services.deadlines.clock = lambda: datetime(2026, 12, 15, 7, tzinfo=UTC)
            h.request.clear()
        contexts = [BotContext(first.app), BotContext(second.app)]
        for _ in range(10):
            await asyncio.gather(*(send_due_outbox(ctx) for ctx in contexts))
        sent = [c.params["chat_id"] for h in (first, second) for c in h.request.of("sendMessage")]
        assert sorted(sent) == users  # each user, once
        assert first.request.of("sendMessage") and second.request.of("sendMessage")
        outbox = [m for m in await rows(first, OutboxMessage) if m.ref in due]
        assert all(m.done_at is not None and m.attempts == 1 for m in outbox)
    finally:
        await stop_harness(first)
        if second is not None:
            await stop_harness(second)


# ---- pure parts ---------------------------------------------------------------------------

def test_reminder_times_follow_the_host_country_clock_and_its_summer_time():
    from bot.deadlines import load_rules

    book = load_rules(ROOT / "content").rules
    [season] = deadlines_for([book.find("gb_seasonal_6_in_12")], D("2026-04-01"), D("2026-04-01"))
    times = reminder_times([season], "GB", datetime(2026, 4, 1, tzinfo=UTC))
    assert [(r.days_before, r.due_at) for r in times] == [
        (3, datetime(2026, 9, 25, 9, tzinfo=UTC)),  # 10:00 British Summer Time
        (0, datetime(2026, 9, 28, 9, tzinfo=UTC))]
    assert remind_at("GB", D("2026-12-01")) == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert remind_at("KR", D("2026-12-01")) == datetime(2026, 12, 1, 1, tzinfo=UTC)
    assert remind_at("KZ", D("2026-12-01")) == datetime(2026, 12, 1, 5, tzinfo=UTC)  # UTC+5
    # Already past (or marked done): no reminder.
    assert reminder_times([season], "GB", datetime(2026, 9, 26, tzinfo=UTC)) == [times[1]]
    assert reminder_times([season], "GB", datetime(2026, 4, 1, tzinfo=UTC),
                          skip={"gb_seasonal_6_in_12"}) == []
    # Almaty's midnight is 19:00 UTC the day before.
    assert local_today("KZ", datetime(2026, 12, 9, 19, 30, tzinfo=UTC)) == D("2026-12-10")


def all_buttons(screen):
    return [b for row in screen.keyboard.inline_keyboard for b in row]


@pytest.mark.parametrize("locale", LOCALES)
def test_every_screen_fits_telegram_in_every_locale_and_country(locale):
    from bot.deadlines import load_rules
    from bot.i18n import Catalogs

    book = load_rules(ROOT / "content").rules
    tr = Catalogs(ROOT / "locales").get(locale)
    today = D("2026-12-10")
    stays = tuple((i, D("2026-01-01") + timedelta(days=2 * i), D("2026-01-01") + timedelta(days=2 * i))
                  for i in range(steps.MAX_STAYS))
    for country, rules in book.by_country.items():
        plan = steps.PlanView(1, country, D("2026-12-04"), D("2026-11-20"), stays, True,
                              frozenset(), (("x", D("2026-12-15"), 3, NOW),))
        found = tuple(deadlines_for(rules, plan.entry, today, [(a, b) for _, a, b in stays],
                                    labour_contract=plan.contract))
        shown = [steps.Step(steps.RESULT, today=today, plan=plan, rules=rules, deadlines=found,
                            country=country, notice=steps.REMINDERS_OFF),
                 steps.Step(steps.STAYS, today=today, plan=plan, rules=rules, country=country,
                            error=steps.TOO_MANY_STAYS),
                 steps.Step(steps.CONSENT, plan=plan, country=country),
                 steps.Step(steps.COUNTRIES, countries=tuple(book.by_country))]
        for field in ("entry", "contract", "from", "to"):
            shown.append(steps.Step(steps.DATE, today=today, country=country, field=field,
                                    month=D("2026-12-01"), earliest=D("2016-12-10"),
                                    latest=D("2027-12-11"), stay_from=D("2026-01-05"), plan=plan,
                                    error=steps.ENDS_BEFORE_START))
        for step in shown:
            screen = views.render(step, tr)
            assert 0 < telegram_length(screen.text) <= TELEGRAM_TEXT_LIMIT, (country, step.screen)
            for button in all_buttons(screen):
                assert 0 < len(button.callback_data.encode()) <= callbacks.CALLBACK_DATA_LIMIT
                assert callbacks.parse(button.callback_data) is not None
                assert button.text.strip()
        due = steps.ReminderDue(1, 1, locale, country, rules[0], D("2026-12-18"), 3)
        assert telegram_length(views.reminder(due, tr).text) <= TELEGRAM_TEXT_LIMIT


ODD_BUTTONS = ["d", "d|c|XX", "d|c|RU", "d|p|entry|99999999", "d|p|entry|99991231", "d|v|entry|999999",
               "d|v|entry|1", "d|rm|999", "d|rm|x", "d|done|nope", "d|done|kz_stay_90_in_180",
               "d|zzz", "d|ch|nope", "d|ch|contract", "d|skip", "d|add", "d|p|to|20260101",
               "d|stays", "d|yes", "d|no", "d|stop", "d|rem", "d|res", "d|forget", "d|p|from|1"]


async def test_odd_or_forged_buttons_and_text_never_break_the_conversation(bot):
    errors = []

    async def record(update, context):
        errors.append(context.error)

    bot.app.add_error_handler(record)
    await start(bot)
    for data in ODD_BUTTONS:  # without a plan
        await press(bot, data)
    await set_up(bot, "RU")
    for data in ODD_BUTTONS:  # with one
        await press(bot, data)
        await say(bot, "31.02")
        await bot.feed(sticker_update(bot.bot, USER))
    assert errors == []
    for call in bot.request.calls:
        if call.method in ("sendMessage", "editMessageText"):
            assert 0 < len(call.params["text"]) <= TELEGRAM_TEXT_LIMIT


def test_rules_store_takes_a_good_edit_and_keeps_the_last_good_rules_on_a_broken_one(tmp_path):
    source = (ROOT / "content" / "rules.yaml").read_text(encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(source, encoding="utf-8")
    moments = iter(range(0, 1000, 10))
    store = steps.RulesStore(tmp_path, check_every=5, clock=lambda: next(moments))
    store.load()
    assert store.current.find("ru_registration").reading.days == 15
    (tmp_path / "rules.yaml").write_text(source.replace("days: 15\n", "days: 16  # edited\n", 1),
                                         encoding="utf-8")
    assert store.current.find("ru_registration").reading.days == 16
    (tmp_path / "rules.yaml").write_text("countries: [broken", encoding="utf-8")
    assert store.current.find("ru_registration").reading.days == 16
