"""Quick exit: /hide and the button on the trafficking, documents and wages topics delete the
bot's messages and the user's own in the chat and leave one neutral message; nothing else is
lost (drafts and cases stay). The message ids are kept 48 hours and erased by /delete."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import USER_COMMANDS
from bot.db.models import ChatMessage, FlowState, HelpRequest, utcnow
from bot.i18n import Catalogs
from bot.views import callbacks, screens
from tests.conftest import ROOT
from tests.support.updates import text_update
from tests.test_e2e import TOKEN, buttons as fake_buttons, running_bot, telegram  # noqa: F401
from tests.test_requests_flow import (USER, buttons, desk, file_request, press, rows,  # noqa: F401
                                      say)

RU = Catalogs(ROOT / "locales").get("ru")
NEUTRAL = "Здравствуйте! Отправьте /start, чтобы начать."


def bot_message_ids(h, chat_id=USER) -> set[int]:
    """The recording Telegram numbers each chat's new messages 1, 2, 3, … (edits keep theirs)."""
    sends = [c for c in h.request.calls if c.method in ("sendMessage", "sendDocument")
             and c.params.get("chat_id") == chat_id]
    return set(range(1, len(sends) + 1))


async def test_quick_exit_button_is_on_every_page_of_the_sensitive_topics(desk):
    await say(desk, "/start")
    await press(desk, callbacks.language("ru"))
    content = desk.services.content.current
    for key in ("rights_trafficking", "rights_documents", "rights_passport_taken",
                "rights_unpaid_wages"):
        pages = len(screens.topic_pages(content, RU, "ru", key))
        for page in range(pages):
            await press(desk, callbacks.topic(key, page))
            assert buttons(desk.request.last_screen())[0] == (RU("🚪 Quick exit"), callbacks.HIDE)
    await press(desk, callbacks.topic("russia_patent"))
    assert callbacks.HIDE not in [d for _, d in buttons(desk.request.last_screen())]


async def test_hide_deletes_every_message_of_the_chat_and_keeps_drafts_and_cases(desk):
    desk.request.clear()
    await file_request(desk, text="Хозяин держит наши паспорта")  # a case
    user_messages = []

    async def say_and_remember(text):
        update = text_update(desk.bot, USER, text, language_code="ru")
        user_messages.append(update.message.message_id)
        await desk.feed(update)

    await say_and_remember("/menu")
    await press(desk, callbacks.topic("rights_trafficking"))
    await say_and_remember("нас заперли")
    await press(desk, callbacks.ASK)  # a draft, half filled
    await press(desk, callbacks.flow("topic", "rights_trafficking"))
    bot_messages = bot_message_ids(desk)
    recorded = {row.message_id for row in await rows(desk, ChatMessage)}
    assert set(user_messages) | bot_messages <= recorded
    desk.request.clear()
    await say_and_remember("/hide")
    deleted = {c.params["message_id"] for c in desk.request.of("deleteMessage")}
    assert recorded | {user_messages[-1]} <= deleted  # the bot's, the user's, and /hide itself
    (neutral,) = [c for c in desk.request.of("sendMessage") if c.params["chat_id"] == USER]
    assert neutral.params["text"] == NEUTRAL
    assert "remove_keyboard" in str(neutral.params["reply_markup"])
    assert desk.request.methods()[-1] == "sendMessage"  # the neutral message comes last
    # Nothing else is lost; only the neutral message is left to delete next time.
    assert len(await rows(desk, HelpRequest)) == 1
    (draft,) = await rows(desk, FlowState)
    assert draft.step == "country"
    left = await rows(desk, ChatMessage)
    assert len(left) == 1 and left[0].message_id not in deleted


async def test_the_button_deletes_the_screen_it_is_on_too(desk):
    await say(desk, "/start")
    await press(desk, callbacks.language("ru"))
    desk.request.clear()
    await press(desk, callbacks.HIDE)
    deleted = {c.params["message_id"] for c in desk.request.of("deleteMessage")}
    assert 1 in deleted  # the pressed message (callback_update's message id)
    assert desk.request.sent_texts()[-1] == NEUTRAL


async def test_messages_older_than_48_hours_are_not_tried_and_are_purged(desk):
    await say(desk, "/start")
    await press(desk, callbacks.language("ru"))
    async with AsyncSession(desk.services.engine) as session, session.begin():
        await session.execute(update(ChatMessage).values(sent_at=utcnow() - timedelta(hours=49)))
    assert await desk.services.quick_exit.deletable(USER) == []
    assert await desk.services.quick_exit.purge() >= 1
    assert await rows(desk, ChatMessage) == []


async def test_delete_erases_the_message_ids(desk):
    await say(desk, "/start")
    await press(desk, callbacks.language("ru"))
    assert await rows(desk, ChatMessage)
    await say(desk, "/delete")
    await press(desk, callbacks.ERASE_CONFIRMED)
    assert await rows(desk, ChatMessage) == []


def test_hide_is_in_the_command_list_and_in_help():
    assert "hide" in dict(USER_COMMANDS)
    assert "/hide" in screens.help_screen(RU).text


@pytest.mark.e2e
def test_quick_exit_end_to_end_leaves_one_neutral_message(telegram, running_bot, db_url):
    tg, user = telegram, 1001
    tg.send_text(user, "/start")
    tg.wait_for_sync(lambda: "Русский" in fake_buttons(tg.last_message(user) or {}), timeout=15)
    message = tg.last_message(user)
    tg.press(user, message["message_id"], fake_buttons(message)["Русский"])
    tg.wait_for_sync(lambda: RU("Skip ›") in fake_buttons(tg.last_message(user) or {}), timeout=15)
    tg.send_text(user, "they took my passport and won't let me leave")
    tg.wait_for_sync(lambda: RU("🚪 Quick exit") in fake_buttons(tg.last_message(user) or {}),
                     timeout=15)
    assert len(tg.history(user)) >= 4
    answer = tg.last_message(user)
    tg.press(user, answer["message_id"], fake_buttons(answer)[RU("🚪 Quick exit")])
    tg.wait_for_sync(lambda: [m.get("text") for m in tg.history(user)] == [NEUTRAL], timeout=15)
