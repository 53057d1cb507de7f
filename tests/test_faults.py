"""Faults: Telegram errors, a killed bot, a locked or vanished database. Nothing is lost."""
from __future__ import annotations

import re
import sqlite3
import threading
import time

import pytest

from bot.db.engine import DATABASE_ERRORS
from bot.db.models import HelpRequest, Interaction, RequestMessage, User
from bot.i18n import Catalogs
from bot.views import callbacks
from tests.conftest import POSTGRES_URL, ROOT, fresh_database, make_settings, start_harness, stop_harness
from tests.fakebot import FakeTelegram
from tests.support.botprocess import BotProcess, bot_environment
from tests.support.tcpproxy import TcpProxy
from tests.support.updates import callback_update, text_update
from tests.test_e2e import TOKEN, buttons, rows
from tests.test_requests_flow import rows as harness_rows
from tests.test_requests_flow import to_question_step

CASE = re.compile(r"M-\d{4}-\d{6}")
EN = Catalogs(ROOT / "locales").get("en")


@pytest.fixture
def telegram():
    tg = FakeTelegram(token=TOKEN).start_in_thread()
    yield tg
    tg.stop()


def start_bot(tg, db_url, tmp_path, name="bot.log") -> BotProcess:
    calls_before = len(tg.calls_to("getUpdates"))
    bot = BotProcess(bot_environment(tg.url, TOKEN, db_url, STAFF_CHAT_ID="-1009"),
                     tmp_path / name)
    tg.wait_for_sync(lambda: len(tg.calls_to("getUpdates")) > calls_before, timeout=60)
    return bot


def bot_texts(tg, chat_id) -> list[str]:
    return [m.get("text", "") for m in tg.sent(chat_id)]


def test_telegram_errors_are_retried_once_and_never_duplicate(telegram, db_url, tmp_path):
    tg = telegram
    tg.add_group(-1009, "staff")
    for user in (11, 12, 13, 14):
        tg.add_user(user, language_code="en")
    bot = start_bot(tg, db_url, tmp_path)
    try:
        tg.fail("sendMessage", 429, retry_after=1)
        tg.send_text(11, "/start")
        tg.wait_for_sync(lambda: bot_texts(tg, 11), timeout=20)
        tg.fail("sendMessage", 502, times=2)
        tg.send_text(12, "/start")
        tg.wait_for_sync(lambda: bot_texts(tg, 12), timeout=20)
        tg.fail("sendMessage", 200, delay=8)  # slower than the bot's read timeout
        tg.send_text(13, "/start")
        time.sleep(10)
        tg.send_text(13, "/help")
        tg.wait_for_sync(lambda: any("/menu" in t for t in bot_texts(tg, 13)), timeout=20)
        tg.block(14)
        tg.send_text(14, "/start")
        tg.wait_for_sync(lambda: any(c.get("chat_id") in (14, "14") for c in tg.calls_to("sendMessage")),
                         timeout=20)
        time.sleep(1)
    finally:
        bot.stop()
    assert len(bot_texts(tg, 11)) == 1 and len(bot_texts(tg, 12)) == 1
    assert len([t for t in bot_texts(tg, 13) if "Choose your language" in t]) <= 1
    users = {u.id: u for u in rows(db_url, User)}
    assert users[14].is_active is False and users[11].is_active is True
    assert "Traceback" not in bot.log() or "RetryAfter" not in bot.log()


def file_until_consent(tg, user):
    """Drive a user through the request flow up to the consent screen."""
    tg.send_text(user, "/start")
    tg.wait_for_sync(lambda: "English" in buttons(tg.last_message(user) or {}), timeout=30)
    steps = [("English", EN("Skip ›")), (EN("Skip ›"), EN("Main menu")),
             (EN("❓ Ask a question"), EN("Other question")),
             (EN("Other question"), EN("Russia")), (EN("Russia"), EN("For myself")),
             (EN("For myself"), None)]
    for label, next_label in steps:
        message = tg.last_message(user)
        tg.press(user, message["message_id"], buttons(message)[label])
        if next_label:
            tg.wait_for_sync(lambda: next_label in buttons(tg.last_message(user) or {})  # noqa: B023
                             or next_label in (tg.last_text(user) or ""), timeout=30)  # noqa: B023
    tg.wait_for_sync(lambda: "2000" in (tg.last_text(user) or ""), timeout=30)
    tg.send_text(user, f"Question from user {user}")
    tg.wait_for_sync(lambda: tg.reply_keyboard(user), timeout=30)
    tg.send_text(user, EN("Skip"))
    tg.wait_for_sync(lambda: EN("✅ I agree, send") in buttons(tg.last_message(user) or {}), timeout=30)


def test_kill_9_while_users_file_requests_loses_nothing_and_duplicates_nothing(
        telegram, db_url, tmp_path):
    tg = telegram
    tg.add_group(-1009, "staff")
    users = list(range(300, 316))
    for user in users:
        tg.add_user(user, language_code="en")
    bot = start_bot(tg, db_url, tmp_path)
    for user in users:
        file_until_consent(tg, user)
    for user in users:  # all press "I agree" at once; the bot dies in the middle
        message = tg.last_message(user)
        tg.press(user, message["message_id"], buttons(message)[EN("✅ I agree, send")])
    time.sleep(0.15)
    bot.kill()
    restarted = start_bot(tg, db_url, tmp_path, "restarted.log")
    try:
        time.sleep(4)
        for user in users:  # whoever saw no case number presses again, as a person would
            if not any(CASE.search(t) for t in bot_texts(tg, user)):
                consent = [m for m in tg.sent(user)
                           if EN("✅ I agree, send") in buttons(m)]
                if consent:
                    tg.press(user, consent[-1]["message_id"],
                             buttons(consent[-1])[EN("✅ I agree, send")])
        tg.wait_for_sync(lambda: all(any(CASE.search(t) for t in bot_texts(tg, u)) for u in users),
                         timeout=60)
    finally:
        restarted.stop()
    stored = {r.number: r for r in rows(db_url, HelpRequest)}
    texts = {m.request_id: m.text for m in rows(db_url, RequestMessage)}
    for user in users:
        numbers = {n for t in bot_texts(tg, user) for n in CASE.findall(t)}
        assert len(numbers) == 1, (user, numbers)  # no duplicate case
        (number,) = numbers
        assert number in stored and stored[number].user_id == user
        assert texts[stored[number].id] == f"Question from user {user}"
        announced = [t for t in bot_texts(tg, user) if number in t]
        assert len(announced) == 1  # no doubled message
    assert len(stored) == len(users)


async def test_sqlite_locked_for_a_few_seconds_waits_or_is_delivered_again(tmp_path):
    database = fresh_database("sqlite", tmp_path)
    harness = await start_harness(make_settings(database))
    path = database.split("///", 1)[1]

    def hold_write_lock(seconds: float, taken: threading.Event) -> None:
        connection = sqlite3.connect(path)
        connection.execute("BEGIN IMMEDIATE")
        taken.set()
        time.sleep(seconds)
        connection.rollback()
        connection.close()

    async def through_consent(user):
        await to_question_step(harness, user, country="KZ")
        await harness.feed(text_update(harness.bot, user, "Locked question"))
        await harness.feed(text_update(harness.bot, user, "Skip"))

    try:
        await through_consent(31)
        taken = threading.Event()
        holder = threading.Thread(target=hold_write_lock, args=(2, taken))
        holder.start()
        taken.wait()
        await harness.feed(callback_update(harness.bot, 31, callbacks.flow("consent", "yes")))
        holder.join()
        assert len(await harness_rows(harness, HelpRequest)) == 1  # waited out the lock

        await through_consent(32)
        taken = threading.Event()
        holder = threading.Thread(target=hold_write_lock, args=(7, taken))
        holder.start()
        taken.wait()
        harness.request.clear()
        press = callback_update(harness.bot, 32, callbacks.flow("consent", "yes"))
        with pytest.raises(DATABASE_ERRORS):  # not stored, so not acknowledged to Telegram
            await harness.feed(press)
        holder.join()
        assert (await harness.services.flows.get(32)).step == "consent"  # the draft survived
        await harness.feed(press)  # Telegram delivers it again
        assert len(await harness_rows(harness, HelpRequest)) == 2
    finally:
        await stop_harness(harness)


async def test_postgres_unreachable_updates_wait_and_nothing_is_lost(tmp_path):
    fresh_database("postgresql", tmp_path)
    host_port = POSTGRES_URL.rsplit("@", 1)[1].split("/", 1)[0]
    proxy = await TcpProxy(host_port.split(":")[0], int(host_port.split(":")[1])).start()
    url = POSTGRES_URL.replace(host_port, f"127.0.0.1:{proxy.port}")
    harness = await start_harness(make_settings(url))
    user = 41
    try:
        await to_question_step(harness, user, country="TR")
        await harness.feed(text_update(harness.bot, user, "Question during an outage"))
        await harness.feed(text_update(harness.bot, user, "Skip"))
        await harness.feed(callback_update(harness.bot, user, callbacks.topic("kz_stay")))
        await proxy.cut()
        harness.request.clear()
        press = callback_update(harness.bot, user, callbacks.flow("consent", "yes"))
        with pytest.raises(DATABASE_ERRORS):  # not stored, so not acknowledged to Telegram
            await harness.feed(press)
        assert harness.request.sent_texts() == []  # nothing half-done was shown
        await proxy.restore()
        await harness.feed(press)  # Telegram delivers it again
        (request,) = await harness_rows(harness, HelpRequest)
        assert request.user_id == user
        kinds = [(i.kind, i.topic_key) for i in await harness_rows(harness, Interaction)]
        assert ("view", "kz_stay") in kinds and ("ask_filed", None) in kinds
    finally:
        await stop_harness(harness)
        await proxy.cut()
