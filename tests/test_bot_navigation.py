"""Real updates through the real Application, recording what the bot asks Telegram to do."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Interaction, User
from bot.views import callbacks
from tests.support.updates import callback_update, raw_update, sticker_update, text_update

USER = 501


def buttons(call) -> list[tuple[str, str]]:
    markup = call.params.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data")) for row in markup.get("inline_keyboard", [])
            for b in row]


async def rows(harness, model):
    async with AsyncSession(harness.services.engine) as session:
        return list((await session.execute(select(model))).scalars())


async def choose(harness, locale: str = "en", user_id: int = USER) -> None:
    await harness.feed(text_update(harness.bot, user_id, "/start"))
    await harness.feed(callback_update(harness.bot, user_id, callbacks.language(locale)))
    harness.request.clear()


async def test_new_user_gets_language_picker_with_guess_first(harness):
    await harness.feed(text_update(harness.bot, USER, "/start", language_code="ru"))
    screen = harness.request.last_screen()
    labels = [text for text, _ in buttons(screen)]
    assert labels == ["Русский", "Oʻzbekcha (lotin)", "Ўзбекча (кирилл)", "English"]
    assert "Выберите язык" in screen.params["text"]


async def test_language_pick_is_remembered_and_returning_user_sees_menu(harness):
    await choose(harness, "uz_Cyrl")
    (user,) = await rows(harness, User)
    assert user.locale == "uz_Cyrl"
    await harness.feed(text_update(harness.bot, USER, "/start"))
    screen = harness.request.last_screen()
    assert "Бош меню" in screen.params["text"]
    assert ("🌐 Тил", callbacks.LANGUAGE_PICKER) in buttons(screen)


async def test_navigate_to_leaf_and_back_edits_one_message(harness):
    await choose(harness, "en")
    content = harness.services.content.current
    await harness.feed(callback_update(harness.bot, USER, callbacks.topic("visas")))
    section = harness.request.last_screen()
    assert section.method == "editMessageText"
    assert (content.text("en", "visas_russia").title, "t|visas_russia") in buttons(section)
    await harness.feed(callback_update(harness.bot, USER, callbacks.topic("visas_russia")))
    await harness.feed(callback_update(harness.bot, USER, callbacks.topic("russia_stay")))
    leaf = harness.request.last_screen()
    assert "Main menu › Visas and exit-entry › Russia" in leaf.params["text"].replace("&amp;", "&") or \
        content.text("en", "visas_russia").title in leaf.params["text"]
    assert ("‹ Back", "t|visas_russia") in buttons(leaf)
    assert ("Main menu", callbacks.MAIN_MENU) in buttons(leaf)
    assert "Sources:" in leaf.params["text"]
    await harness.feed(callback_update(harness.bot, USER, "t|visas_russia"))
    await harness.feed(callback_update(harness.bot, USER, callbacks.MAIN_MENU))
    assert harness.request.last_screen().params["text"].startswith("<b>Main menu</b>")
    assert {c.method for c in harness.request.calls} <= {"editMessageText", "answerCallbackQuery"}


async def test_unverified_topic_is_marked_to_be_confirmed(harness):
    await choose(harness, "en")
    await harness.feed(callback_update(harness.bot, USER, callbacks.topic("russia_patent")))
    assert "To be confirmed" in harness.request.last_screen().params["text"]


async def test_long_topic_is_paged(harness):
    await choose(harness, "en")
    content = harness.services.content.current
    long_blocks = tuple(f"Paragraph {i} " + "word " * 300 for i in range(6))
    key = "russia_stay"
    original = content.texts[("en", key)]
    from dataclasses import replace
    content.texts[("en", key)] = replace(original, blocks=long_blocks)
    try:
        await harness.feed(callback_update(harness.bot, USER, callbacks.topic(key)))
        first = harness.request.last_screen()
        pager = [b for b in buttons(first) if b[1] in (callbacks.NOOP, "t|russia_stay|1")]
        assert ("1/3", callbacks.NOOP) in pager and ("›", "t|russia_stay|1") in pager
        await harness.feed(callback_update(harness.bot, USER, "t|russia_stay|2"))
        last = harness.request.last_screen()
        assert "Paragraph 5" in last.params["text"] and "Sources:" in last.params["text"]
        assert all(len(text) <= 4096 for text in harness.request.sent_texts())
    finally:
        content.texts[("en", key)] = original


async def test_deep_link_opens_topic_after_language_for_new_user(harness):
    await harness.feed(text_update(harness.bot, USER, "/start korea_eps_topik", language_code="en"))
    picker = harness.request.last_screen()
    assert ("English", "l|en|korea_eps_topik") in buttons(picker)
    await harness.feed(callback_update(harness.bot, USER, "l|en|korea_eps_topik"))
    assert "EPS-TOPIK" in harness.request.last_screen().params["text"]
    harness.request.clear()
    await harness.feed(text_update(harness.bot, USER, "/start visas_uk"))
    assert harness.services.content.current.text("en", "visas_uk").title in \
        harness.request.last_screen().params["text"]


@pytest.mark.parametrize("data", ["t|no_such_topic", "t|visas|999", "x|forged", "l|xx",
                                  "t|VISAS", "m|extra", "🙂"])
async def test_stale_or_forged_buttons_get_menu_not_error(harness, data):
    await choose(harness, "en")
    await harness.feed(callback_update(harness.bot, USER, data))
    screen = harness.request.last_screen()
    assert "Main menu" in screen.params["text"] or "Visas" in screen.params["text"]
    assert "answerCallbackQuery" in harness.request.methods()
    assert not any("went wrong" in text for text in harness.request.sent_texts())


async def test_sticker_and_unknown_command_get_localized_answer_and_menu(harness):
    await choose(harness, "ru")
    await harness.feed(sticker_update(harness.bot, USER))
    assert "я не понял" in harness.request.last_screen().params["text"]
    await harness.feed(text_update(harness.bot, USER, "/frobnicate"))
    screen = harness.request.last_screen()
    assert "Такой команды нет" in screen.params["text"]
    assert buttons(screen)


async def test_commands_work_anywhere(harness):
    await choose(harness, "en")
    for command, expected in [("/menu", "Main menu"), ("/help", "How to use this bot"),
                              ("/language", "Choose your language"), ("/cancel", "Cancelled.")]:
        await harness.feed(text_update(harness.bot, USER, command))
        assert expected in harness.request.last_screen().params["text"]


async def test_edited_messages_and_channel_posts_are_ignored_quietly(harness):
    await choose(harness, "en")
    edited = {"message_id": 5, "date": 1, "edit_date": 2, "chat": {"id": USER, "type": "private"},
              "from": {"id": USER, "is_bot": False, "first_name": "A"}, "text": "hi"}
    await harness.feed(raw_update(harness.bot, edited_message=edited))
    post = {"message_id": 6, "date": 1, "chat": {"id": -100, "type": "channel", "title": "c"},
            "text": "news"}
    await harness.feed(raw_update(harness.bot, channel_post=post))
    assert harness.request.calls == []


async def test_every_interaction_is_logged_with_user_kind_topic_locale(harness):
    await choose(harness, "en")
    await harness.feed(callback_update(harness.bot, USER, callbacks.topic("insurance")))
    await harness.feed(sticker_update(harness.bot, USER))
    logged = await rows(harness, Interaction)
    kinds = [(i.kind, i.topic_key, i.locale) for i in logged]
    assert ("command", None, "uz") in kinds  # /start before a language was chosen
    assert ("language", None, "en") in kinds
    assert ("view", "insurance", "en") in kinds
    assert ("unknown", None, "en") in kinds
    (user,) = await rows(harness, User)
    assert {i.user_key for i in logged} == {user.pseudonym}
    assert str(USER) not in {i.user_key for i in logged}


async def test_not_modified_edit_is_ignored(harness):
    await choose(harness, "en")
    harness.request.fail_next("editMessageText", 400, "Bad Request: message is not modified: "
                              "specified new message content and reply markup are exactly the same")
    await harness.feed(callback_update(harness.bot, USER, callbacks.MAIN_MENU))
    assert harness.request.methods().count("sendMessage") == 0
