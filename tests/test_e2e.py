"""End to end: the bot as users run it (`python -m bot run`), over HTTP, against a fake Telegram."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import make_engine
from bot.db.models import HelpRequest, Interaction, RequestMessage
from bot.i18n import Catalogs
from tests.conftest import ROOT, run_in_thread
from tests.fakebot import FakeTelegram
from tests.support.botprocess import BotProcess, bot_environment

pytestmark = pytest.mark.e2e

TOKEN = "424242:E2E-secret-token"
RU = Catalogs(ROOT / "locales").get("ru")
USER, ADMIN, STAFF_CHAT = 1001, 2002, -1003003


def buttons(message) -> dict[str, str]:
    markup = message.get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}


async def _rows(database_url, model):
    engine = make_engine(database_url)
    try:
        async with AsyncSession(engine) as session:
            return list((await session.execute(select(model).order_by(model.id))).scalars())
    finally:
        await engine.dispose()


def rows(database_url, model):
    return run_in_thread(asyncio.run, _rows(database_url, model))


@pytest.fixture
def telegram():
    tg = FakeTelegram(token=TOKEN).start_in_thread()
    tg.add_user(USER, first_name="Dilnoza", language_code="ru")
    tg.add_user(ADMIN, first_name="Staff", language_code="uz")
    tg.add_group(STAFF_CHAT, "Migration Agency desk")
    tg.add_member(STAFF_CHAT, ADMIN)
    yield tg
    tg.stop()


@pytest.fixture
def running_bot(telegram, db_url, tmp_path):
    env = bot_environment(telegram.url, TOKEN, db_url, STAFF_CHAT_ID=str(STAFF_CHAT),
                          ADMIN_IDS=str(ADMIN))
    bot = BotProcess(env, tmp_path / "bot.log")
    telegram.wait_for_sync(lambda: telegram.calls_to("getUpdates"), timeout=60)
    yield bot
    bot.stop()
    assert TOKEN not in bot.log(), "the token leaked into the log"


def press(tg, user_id, label, chat_id=None):
    message = tg.last_message(chat_id or user_id)
    tg.press(user_id, message["message_id"], buttons(message)[label], chat_id=chat_id)


def wait_text(tg, chat_id, fragment, timeout=15):
    tg.wait_for_sync(lambda: fragment in (tg.last_text(chat_id) or ""), timeout=timeout)


def test_new_user_browses_to_a_topic_and_back_and_is_logged(telegram, running_bot, db_url):
    tg = telegram
    tg.send_text(USER, "/start")
    wait_text(tg, USER, "Выберите язык")
    press(tg, USER, "Русский")
    wait_text(tg, USER, RU("Which country are you in, or going to?"))  # asked once
    press(tg, USER, "🇷🇺 " + RU("Russia"))
    wait_text(tg, USER, RU("Main menu"))
    section = [label for label in buttons(tg.last_message(USER)) if "виз" in label.lower()][0]
    press(tg, USER, section)
    back_is = lambda data: tg.wait_for_sync(  # noqa: E731
        lambda: buttons(tg.last_message(USER)).get("‹ Назад") == data, timeout=15)
    back_is("m")
    russia = next(label for label, data in buttons(tg.last_message(USER)).items()
                  if data == "t|visas_russia")
    press(tg, USER, russia)
    back_is("t|visas")
    leaf = next(label for label, data in buttons(tg.last_message(USER)).items()
                if data == "t|russia_stay")
    press(tg, USER, leaf)
    back_is("t|visas_russia")
    assert "Источники" in tg.last_text(USER)
    press(tg, USER, "‹ Назад")
    back_is("t|visas")
    press(tg, USER, "Главное меню")
    wait_text(tg, USER, "Выберите тему ниже")
    # Navigation edited one message in place: the user has at most two bot messages.
    assert len(tg.sent(USER)) <= 2
    assert tg.commands(language_code="ru")
    running_bot.stop()
    kinds = [(i.kind, i.topic_key) for i in rows(db_url, Interaction)]
    assert ("command", None) in kinds and ("language", None) in kinds
    assert ("view", "visas") in kinds and ("view", "visas_russia") in kinds
    assert ("view", "russia_stay") in kinds
    assert ("country", None) in kinds


def test_request_goes_to_staff_and_the_answer_comes_back(telegram, running_bot, db_url):
    tg = telegram
    tg.send_text(USER, "/start")
    wait_text(tg, USER, "Выберите язык")
    press(tg, USER, "Русский")
    wait_text(tg, USER, RU("Which country are you in, or going to?"))
    press(tg, USER, RU("Skip ›"))
    wait_text(tg, USER, "Главное меню")
    press(tg, USER, RU("❓ Ask a question"))
    tg.wait_for_sync(lambda: RU("Other question") in buttons(tg.last_message(USER)), timeout=15)
    press(tg, USER, RU("Other question"))
    tg.wait_for_sync(lambda: RU("Russia") in buttons(tg.last_message(USER)), timeout=15)
    press(tg, USER, RU("Russia"))
    tg.wait_for_sync(lambda: len(buttons(tg.last_message(USER))) == 5, timeout=15)  # 3, Back, Cancel
    press(tg, USER, list(buttons(tg.last_message(USER)))[0])
    tg.wait_for_sync(lambda: "2000" in (tg.last_text(USER) or ""), timeout=15)
    tg.send_text(USER, "Работодатель не платит зарплату <3 месяца>")
    tg.wait_for_sync(lambda: tg.reply_keyboard(USER), timeout=15)
    tg.send_text(USER, RU("Skip"))
    tg.wait_for_sync(lambda: "/delete" in (tg.last_text(USER) or ""), timeout=15)
    press(tg, USER, RU("✅ I agree, send"))
    tg.wait_for_sync(lambda: tg.sent(STAFF_CHAT), timeout=15)
    (request,) = rows(db_url, HelpRequest)
    assert request.number in tg.last_text(USER)
    card = tg.last_message(STAFF_CHAT)
    assert request.number in card["text"] and "<3 месяца>" in card["text"]
    tg.send_text(ADMIN, "Напишите, пожалуйста, название компании.", chat_id=STAFF_CHAT,
                 reply_to=card["message_id"])
    wait_text(tg, USER, "Напишите, пожалуйста, название компании.")
    assert request.number in tg.last_text(USER)
    tg.send_text(USER, "ООО Стройка")
    tg.wait_for_sync(lambda: "ООО Стройка" in (tg.last_text(STAFF_CHAT) or ""), timeout=15)
    tg.press(ADMIN, card["message_id"], buttons(card)[next(k for k in buttons(card) if "✅" in k)],
             chat_id=STAFF_CHAT)
    tg.wait_for_sync(lambda: rows(db_url, HelpRequest)[0].status == "resolved", timeout=15)
    thread = [(m.author, m.text) for m in rows(db_url, RequestMessage)]
    assert thread == [("user", "Работодатель не платит зарплату <3 месяца>"),
                      ("staff", "Напишите, пожалуйста, название компании."),
                      ("user", "ООО Стройка")]
