"""Tests of the fake Telegram Bot API server, driven by a real PTB 22 telegram.Bot."""

from __future__ import annotations

import asyncio
import datetime as dtm
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters
from telegram.request import HTTPXRequest

from tests.fakebot import FakeTelegram
from tests.fakebot.formatting import parse_html, parse_markdown_v2

TOKEN = "987654321:AAtest-token-for-the-fake"
ALI, VALI = 1001, 1002
GROUP, FORUM = -1001, -1002
PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest_asyncio.fixture
async def tg():
    async with FakeTelegram(token=TOKEN, bot_username="migrant_help_bot") as server:
        server.add_user(ALI, "Ali", language_code="uz")
        server.add_user(VALI, "Vali", language_code="ru")
        server.add_group(GROUP, "Migrants")
        server.add_member(GROUP, ALI)
        yield server


@pytest_asyncio.fixture
async def bot(tg):
    async with telegram.Bot(TOKEN, base_url=tg.base_url) as client:
        yield client


async def raw_call(tg: FakeTelegram, method: str, **params) -> tuple[int, dict]:
    """Call the fake without PTB, which rewrites descriptions (see test_ptb_rewrites_...)."""
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{tg.url}/bot{TOKEN}/{method}", json=params)
    return response.status_code, response.json()


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d or "empty", callback_data=d)] for d in data])


# ---------------------------------------------------------------- basics


@pytest.mark.asyncio
async def test_get_me_describes_the_bot(bot):
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (987654321, "migrant_help_bot", True)
    assert me.can_read_all_group_messages is False  # privacy mode on by default


@pytest.mark.asyncio
async def test_wrong_token_is_unauthorized_and_unknown_method_not_found(tg):
    with pytest.raises(InvalidToken, match="was rejected by the server"):
        async with telegram.Bot("111:wrong", base_url=tg.base_url):  # initialize() calls getMe
            pass
    async with httpx.AsyncClient() as client:
        wrong = await client.post(f"{tg.url}/bot111:wrong/getMe")
        unknown = await client.post(f"{tg.url}/bot{TOKEN}/sendTelepathy")
    assert (wrong.status_code, wrong.json()) == (
        401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    assert (unknown.status_code, unknown.json()["description"]) == (404, "Not Found")


@pytest.mark.asyncio
async def test_send_message_round_trip_with_per_chat_message_ids(tg, bot):
    first = await bot.send_message(ALI, "Salom!")
    second = await bot.send_message(ALI, "Qalaysiz?")
    in_other_chat = await bot.send_message(VALI, "Привет")

    assert (first.message_id, second.message_id, in_other_chat.message_id) == (1, 2, 1)
    assert first.from_user.id == bot.id and first.chat.id == ALI and first.text == "Salom!"
    assert [m["text"] for m in tg.sent(ALI)] == ["Salom!", "Qalaysiz?"]
    assert tg.last_text(VALI) == "Привет"
    assert tg.calls_to("sendMessage")[0] == {"chat_id": ALI, "text": "Salom!"}


@pytest.mark.asyncio
async def test_message_ids_are_shared_with_the_users_messages(tg, bot):
    tg.send_text(ALI, "hello")
    reply = await bot.send_message(ALI, "hi", reply_parameters=ReplyParameters(1))
    assert reply.message_id == 2
    assert reply.reply_to_message.text == "hello"
    assert reply.reply_to_message.from_user.id == ALI


@pytest.mark.asyncio
async def test_reply_to_a_missing_message(bot):
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(ALI, "hi", reply_parameters=ReplyParameters(42))
    sent = await bot.send_message(
        ALI, "hi", reply_parameters=ReplyParameters(42, allow_sending_without_reply=True))
    assert sent.reply_to_message is None


@pytest.mark.asyncio
async def test_unknown_chat_and_empty_text(bot):
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(555, "hi")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(ALI, "   \n ")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(ALI, "<b></b>", parse_mode="HTML")


# ---------------------------------------------------------------- limits and formatting


@pytest.mark.asyncio
async def test_too_long_text_is_counted_in_utf16_after_parsing(bot):
    await bot.send_message(ALI, "a" * 4096)
    await bot.send_message(ALI, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")  # tags don't count
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(ALI, "a" * 4097)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(ALI, "😀" * 2049)  # 2049 emoji = 4098 UTF-16 units


@pytest.mark.asyncio
@pytest.mark.parametrize(("html", "reason"), [
    ("<div>hi</div>", 'Unsupported start tag "div" at byte offset 0'),
    ("<b>bold", "Can't find end tag corresponding to start tag b"),
    ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
    ("x</b>", "Unexpected end tag at byte offset 1"),
    ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
    ("Ім'я <ім'я>", 'Unsupported start tag "ім\'я" at byte offset 8'),
    ('<span class="bold">x</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ("<b", "Unclosed start tag at byte offset 0"),
])
async def test_html_parse_errors_match_telegram(tg, bot, html, reason):
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(ALI, html, parse_mode="HTML")
    status, body = await raw_call(tg, "sendMessage", chat_id=ALI, text=html, parse_mode="HTML")
    assert (status, body["description"]) == (400, f"Bad Request: can't parse entities: {reason}")


@pytest.mark.asyncio
async def test_ptb_rewrites_error_descriptions(bot):
    # PTB strips "Bad Request: " and then str.capitalize()s the rest, lowercasing it.
    with pytest.raises(BadRequest) as error:
        await bot.send_message(ALI, "<div>", parse_mode="HTML")
    assert error.value.message == "Can't parse entities: unsupported start tag \"div\" at byte offset 0"


@pytest.mark.asyncio
async def test_valid_html_becomes_entities(tg, bot):
    message = await bot.send_message(
        ALI, '<b>Ish</b> &amp; <a href="https://example.com">havola</a> &lt;3 &nbsp; '
             '<tg-spoiler>sir</tg-spoiler> <pre><code class="language-python">x=1</code></pre>',
        parse_mode="HTML")
    # &nbsp; is not one of Telegram's four named entities: it stays as literal text.
    assert message.text == "Ish & havola <3 &nbsp; sir x=1"
    kinds = [(e.type, e.offset, e.length) for e in message.entities]
    assert kinds == [("bold", 0, 3), ("text_link", 6, 6), ("spoiler", 23, 3), ("pre", 27, 3)]
    assert message.entities[1].url == "https://example.com"
    assert message.entities[3].language == "python"
    assert tg.sent(ALI)[0]["entities"][0] == {"type": "bold", "offset": 0, "length": 3}


def test_html_offsets_are_utf16():
    parsed = parse_html("😀 <b>Ўзбек</b>")
    assert parsed.entities == [{"type": "bold", "offset": 3, "length": 5}]


@pytest.mark.asyncio
async def test_markdown_v2_reserved_characters(tg, bot):
    with pytest.raises(BadRequest, match="(?i)character '.' is reserved"):
        await bot.send_message(ALI, "Narxi: 10.5 so'm", parse_mode="MarkdownV2")
    _, body = await raw_call(tg, "sendMessage", chat_id=ALI, text="*a* 1.5", parse_mode="MarkdownV2")
    assert body["description"] == ("Bad Request: can't parse entities: Character '.' is reserved "
                                   "and must be escaped with the preceding '\\'")
    message = await bot.send_message(ALI, r"*Narxi:* 10\.5", parse_mode="MarkdownV2")
    assert message.text == "Narxi: 10.5" and message.entities[0].type == "bold"
    assert parse_markdown_v2("_a __b__ c_").entities == [
        {"type": "italic", "offset": 0, "length": 5}, {"type": "underline", "offset": 2, "length": 1}]


@pytest.mark.asyncio
async def test_unsupported_parse_mode(bot):
    with pytest.raises(BadRequest, match="Unsupported parse_mode"):
        await bot.send_message(ALI, "x", parse_mode="XML")


# ---------------------------------------------------------------- keyboards and callbacks


@pytest.mark.asyncio
async def test_callback_data_is_limited_to_64_bytes(bot):
    await bot.send_message(ALI, "ok", reply_markup=keyboard("x" * 64))
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(ALI, "too long", reply_markup=keyboard("x" * 65))
    with pytest.raises(BadRequest, match="Button_data_invalid"):  # 33 Cyrillic letters = 66 bytes
        await bot.send_message(ALI, "bytes, not chars", reply_markup=keyboard("ж" * 33))
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(ALI, "empty", reply_markup=keyboard(""))


@pytest.mark.asyncio
async def test_button_text_and_action_are_required(tg, bot):
    empty_text = InlineKeyboardMarkup([[InlineKeyboardButton("", callback_data="a")]])
    with pytest.raises(BadRequest, match="Button_text_invalid"):
        await bot.send_message(ALI, "x", reply_markup=empty_text)
    with pytest.raises(BadRequest, match="(?i)text buttons are unallowed in the inline keyboard"):
        await bot.send_message(ALI, "x", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("bare")]]))
    status, body = await raw_call(tg, "sendMessage", chat_id=ALI, text="x",
                                  reply_markup={"inline_keyboard": [[{"text": "bare"}]]})
    assert (status, body["description"]) == (400, "Bad Request: can't parse inline keyboard "
                                                   "button: Text buttons are unallowed in the "
                                                   "inline keyboard")


@pytest.mark.asyncio
async def test_press_delivers_a_callback_query_with_the_message(tg, bot):
    sent = await bot.send_message(ALI, "Tilni tanlang", reply_markup=keyboard("lang:uz", "lang:ru"))
    query = tg.press(ALI, sent.message_id, "lang:ru")
    [update] = await bot.get_updates()
    assert update.callback_query.id == query["id"]
    assert update.callback_query.data == "lang:ru"
    assert update.callback_query.message.reply_markup == sent.reply_markup
    assert update.callback_query.from_user.language_code == "uz"
    with pytest.raises(ValueError, match="no button with callback_data 'lang:en'"):
        tg.press(ALI, sent.message_id, "lang:en")


@pytest.mark.asyncio
async def test_answer_callback_query(tg, bot):
    sent = await bot.send_message(ALI, "?", reply_markup=keyboard("yes"))
    query = tg.press(ALI, sent.message_id, "yes")
    with pytest.raises(BadRequest, match="Message_too_long"):
        await bot.answer_callback_query(query["id"], "x" * 201)
    assert await bot.answer_callback_query(query["id"], "Saqlandi", show_alert=True)
    assert tg.answered_callbacks == [{"callback_query_id": query["id"], "text": "Saqlandi",
                                      "show_alert": True, "url": None, "cache_time": None}]
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query["id"])


# ---------------------------------------------------------------- edits and deletes


@pytest.mark.asyncio
async def test_edit_to_the_same_content_is_not_modified(tg, bot):
    sent = await bot.send_message(ALI, "<b>Menu</b>", parse_mode="HTML", reply_markup=keyboard("a"))
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("<b>Menu</b>", ALI, sent.message_id, parse_mode="HTML",
                                    reply_markup=keyboard("a"))
    status, body = await raw_call(tg, "editMessageText", chat_id=ALI, message_id=sent.message_id,
                                  text="<b>Menu</b>", parse_mode="HTML",
                                  reply_markup=keyboard("a").to_dict())
    assert (status, body["description"]) == (400, (
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message"))
    # Same text but no bold any more is a modification, and leaving out reply_markup drops it.
    edited = await bot.edit_message_text("Menu", ALI, sent.message_id)
    assert edited.text == "Menu" and edited.reply_markup is None and edited.edit_date
    assert tg.sent(ALI)[0].get("entities") is None and "reply_markup" not in tg.sent(ALI)[0]


@pytest.mark.asyncio
async def test_edit_reply_markup_and_missing_messages(tg, bot):
    sent = await bot.send_message(ALI, "Menu", reply_markup=keyboard("a"))
    await bot.edit_message_reply_markup(ALI, sent.message_id, reply_markup=keyboard("b"))
    assert tg.sent(ALI)[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "b"
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(ALI, sent.message_id, reply_markup=keyboard("b"))
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", ALI, 99)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_reply_markup(ALI, 99)
    tg.send_text(ALI, "user text")
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("x", ALI, 2)


@pytest.mark.asyncio
async def test_delete_message(tg, bot):
    sent = await bot.send_message(ALI, "temporary")
    assert await bot.delete_message(ALI, sent.message_id)
    assert tg.sent(ALI) == []
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(ALI, sent.message_id)


# ---------------------------------------------------------------- users, errors, faults


@pytest.mark.asyncio
async def test_blocked_user_is_forbidden(tg, bot):
    tg.block(ALI)
    with pytest.raises(Forbidden, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(ALI, "hi")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(ALI, "typing")
    assert await bot.send_message(VALI, "others still work")
    tg.unblock(ALI)
    assert await bot.send_message(ALI, "welcome back")


# PTB 22.2+ warns that int durations (retry_after, Voice.duration) become timedeltas.
IGNORE_PTB_TIMEDELTA_WARNING = pytest.mark.filterwarnings(
    "ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.mark.asyncio
@IGNORE_PTB_TIMEDELTA_WARNING
async def test_injected_429_raises_retry_after(tg, bot):
    tg.fail("sendMessage", 429, retry_after=7, times=2)
    for _ in range(2):
        with pytest.raises(RetryAfter) as error:
            await bot.send_message(ALI, "hi")
        assert error.value.retry_after in (7, dtm.timedelta(seconds=7))
    assert (await bot.send_message(ALI, "hi")).message_id == 1  # failures stored nothing
    assert len(tg.calls_to("sendMessage")) == 3


@pytest.mark.asyncio
async def test_injected_server_errors_and_delays(tg):
    request = HTTPXRequest(read_timeout=0.3)
    async with telegram.Bot(TOKEN, base_url=tg.base_url, request=request) as client:
        tg.fail("getMe", 500)
        tg.fail("getMe", 502)
        tg.fail("getMe", 200, delay=1.0)  # slow answer: the client gives up first
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await client.get_me()
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await client.get_me()
        with pytest.raises(TimedOut):
            await client.get_me()
        tg.fail("getMe", 500, times=3)
        tg.clear_faults()
        assert (await client.get_me()).username == "migrant_help_bot"


@pytest.mark.asyncio
async def test_fail_rejects_unknown_methods(tg):
    with pytest.raises(ValueError, match="unknown Bot API method"):
        tg.fail("sendMesage", 500)


# ---------------------------------------------------------------- long polling


@pytest.mark.asyncio
async def test_long_polling_returns_queued_updates_and_respects_offset(tg, bot):
    tg.send_text(ALI, "/start")
    tg.send_text(VALI, "salom")
    first, second = await bot.get_updates(timeout=0)
    assert first.message.text == "/start" and second.message.chat.id == VALI
    assert first.message.entities[0].type == "bot_command"
    # Without an offset nothing is confirmed: the same updates come again.
    assert [u.update_id for u in await bot.get_updates()] == [first.update_id, second.update_id]
    # offset = last + 1 confirms both; they are gone for good.
    assert await bot.get_updates(offset=second.update_id + 1, timeout=0) == ()
    assert tg.pending_updates == []
    tg.send_text(ALI, "again")
    assert [u.message.text for u in await bot.get_updates(offset=first.update_id)] == ["again"]


@pytest.mark.asyncio
async def test_long_poll_answers_as_soon_as_an_update_arrives(tg, bot):
    async def write_later():
        await asyncio.sleep(0.2)
        tg.send_text(ALI, "late")

    writer = asyncio.create_task(write_later())
    started = time.monotonic()
    updates = await bot.get_updates(timeout=5)
    await writer
    assert [u.message.text for u in updates] == ["late"]
    assert time.monotonic() - started < 2


@pytest.mark.asyncio
async def test_long_poll_waits_for_the_timeout_when_idle(bot):
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 3


@pytest.mark.asyncio
async def test_limit_and_negative_offset(tg, bot):
    for n in range(5):
        tg.send_text(ALI, f"m{n}")
    assert [u.message.text for u in await bot.get_updates(limit=2)] == ["m0", "m1"]
    assert [u.message.text for u in await bot.get_updates(offset=-1)] == ["m4"]
    assert len(tg.pending_updates) == 1


@pytest.mark.asyncio
async def test_get_updates_conflicts(tg, bot):
    await bot.set_webhook("https://example.com/hook")
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    assert (await bot.get_webhook_info()).url == "https://example.com/hook"
    await bot.delete_webhook()

    first_poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    async with telegram.Bot(TOKEN, base_url=tg.base_url) as second_instance:
        await second_instance.get_updates(timeout=0)
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first_poll


@pytest.mark.asyncio
async def test_allowed_updates_filter(tg, bot):
    sent = await bot.send_message(ALI, "?", reply_markup=keyboard("a"))
    tg.send_text(ALI, "text")
    tg.press(ALI, sent.message_id, "a")
    updates = await bot.get_updates(allowed_updates=["callback_query"])
    assert [u.callback_query.data for u in updates] == ["a"]


# ---------------------------------------------------------------- groups


@pytest.mark.asyncio
async def test_privacy_mode_in_groups(tg, bot):
    tg.add_member(GROUP, VALI)
    tg.send_text(ALI, "just chatting", chat_id=GROUP)                       # dropped
    tg.send_text(ALI, "/help", chat_id=GROUP)                               # command
    tg.send_text(ALI, "/help@other_bot", chat_id=GROUP)                     # someone else's
    tg.send_text(VALI, "/start@migrant_help_bot", chat_id=GROUP)            # addressed to us
    tg.send_text(VALI, "hey @migrant_help_bot", chat_id=GROUP)              # mention
    bot_message = await bot.send_message(GROUP, "I am here")
    tg.send_text(ALI, "thanks", chat_id=GROUP, reply_to=bot_message.message_id)  # reply to bot
    tg.send_text(ALI, "reply to a human", chat_id=GROUP, reply_to=1)        # dropped

    delivered = [u.message.text for u in await bot.get_updates()]
    assert delivered == ["/help", "/start@migrant_help_bot", "hey @migrant_help_bot", "thanks"]
    assert [m["text"] for m in tg.dropped] == ["just chatting", "/help@other_bot", "reply to a human"]
    assert bot_message.message_id == 6  # dropped messages still take ids in the group


@pytest.mark.asyncio
async def test_privacy_mode_off_delivers_everything():
    async with FakeTelegram(token=TOKEN, privacy_mode=False) as server:
        server.add_user(ALI)
        server.add_group(GROUP)
        server.add_member(GROUP, ALI)
        server.send_text(ALI, "just chatting", chat_id=GROUP)
        async with telegram.Bot(TOKEN, base_url=server.base_url) as client:
            assert [u.message.text for u in await client.get_updates()] == ["just chatting"]


@pytest.mark.asyncio
async def test_forum_topics_and_threads(tg, bot):
    tg.add_group(FORUM, "Help desk", forum=True)
    tg.add_member(FORUM, ALI)
    tg.send_text(ALI, "/ask", chat_id=FORUM, thread_id=7)
    [update] = await bot.get_updates()
    assert update.message.message_thread_id == 7 and update.message.is_topic_message
    answer = await bot.send_message(FORUM, "answer", message_thread_id=7)
    assert answer.message_thread_id == 7 and answer.chat.is_forum
    chat = await bot.get_chat(FORUM)
    assert chat.type == "supergroup" and chat.is_forum


@pytest.mark.asyncio
async def test_create_forum_topic_opens_a_thread_the_bot_can_post_in(tg, bot):
    tg.add_group(FORUM, "Help desk", forum=True)
    tg.add_member(FORUM, ALI)
    topic = await bot.create_forum_topic(FORUM, "M-2026-000001 · Visas")
    assert (topic.name, topic.icon_color) == ("M-2026-000001 · Visas", 7322096)
    opened = tg.history(FORUM)[-1]  # the service message that opens it carries the thread id
    assert opened["message_id"] == topic.message_thread_id
    assert opened["forum_topic_created"]["name"] == "M-2026-000001 · Visas"
    assert opened["from"]["id"] == bot.id and opened["is_topic_message"]
    card = await bot.send_message(FORUM, "card", message_thread_id=topic.message_thread_id)
    assert card.message_thread_id == topic.message_thread_id and card.is_topic_message
    tg.send_text(ALI, "answer", chat_id=FORUM, reply_to=card.message_id,
                 thread_id=topic.message_thread_id)
    [update] = await bot.get_updates()
    assert update.message.message_thread_id == topic.message_thread_id
    assert update.message.reply_to_message.message_id == card.message_id
    assert tg.topics(FORUM) == {topic.message_thread_id: "M-2026-000001 · Visas"}
    staff_topic = tg.add_forum_topic(FORUM, "Chat", creator_id=ALI)
    assert tg.topics(FORUM)[staff_topic] == "Chat"
    assert tg.history(FORUM)[-1]["from"]["id"] == ALI


@pytest.mark.asyncio
async def test_forum_topic_errors(tg, bot):
    tg.add_group(FORUM, "Help desk", forum=True)
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_message(FORUM, "lost", message_thread_id=999)
    with pytest.raises(BadRequest, match="(?i)the chat is not a forum"):
        await bot.create_forum_topic(GROUP, "Visas")
    status, body = await raw_call(tg, "createForumTopic", chat_id=FORUM, name="x" * 129)
    assert (status, body["description"]) == (400, "Bad Request: TOPIC_NAME_INVALID")
    status, body = await raw_call(tg, "createForumTopic", chat_id=FORUM, name="Visas",
                                  icon_color=123)
    assert status == 400
    await bot.create_forum_topic(FORUM, "x" * 128, icon_color=16766590)
    # In a group that is not a forum a thread id is not checked (reply threads are not simulated).
    await bot.send_message(GROUP, "plain", message_thread_id=999)
    assert tg.topics(GROUP) == {}


# ---------------------------------------------------------------- other update kinds


@pytest.mark.asyncio
@IGNORE_PTB_TIMEDELTA_WARNING
async def test_user_side_media_and_raw_updates(tg, bot):
    tg.send_contact(ALI, "+998901234567")
    tg.send_location(ALI, 41.3, 69.2)
    tg.send_sticker(ALI, "🔥")
    tg.send_photo(ALI, caption="pasport")
    tg.send_voice(ALI, duration=4)
    tg.send_update({"edited_message": {"message_id": 1, "chat": {"id": ALI, "type": "private"},
                                       "from": {"id": ALI, "is_bot": False, "first_name": "Ali"},
                                       "text": "edited", "edit_date": 1}})
    tg.send_update({"channel_post": {"chat": {"id": -100777, "type": "channel", "title": "News"},
                                     "text": "post"}})
    updates = await bot.get_updates()
    contact, location, sticker, photo, voice, edited, post = updates
    assert contact.message.contact.user_id == ALI
    assert contact.message.contact.phone_number == "+998901234567"
    assert location.message.location.latitude == pytest.approx(41.3)
    assert sticker.message.sticker.emoji == "🔥"
    assert photo.message.photo[-1].width == 800 and photo.message.caption == "pasport"
    assert voice.message.voice.duration in (4, dtm.timedelta(seconds=4))
    assert edited.edited_message.text == "edited"
    assert post.channel_post.sender_chat is None and post.channel_post.from_user is None
    # The raw channel post was remembered, so the bot can answer in that channel.
    assert (await bot.send_message(-100777, "reply")).message_id == 2


# ---------------------------------------------------------------- bot settings and files


@pytest.mark.asyncio
async def test_commands_are_stored_per_scope_and_language(tg, bot):
    from telegram import BotCommand, BotCommandScopeAllPrivateChats

    await bot.set_my_commands([BotCommand("start", "Boshlash")], language_code="uz")
    await bot.set_my_commands([BotCommand("start", "Начать"), BotCommand("help", "Помощь")],
                              scope=BotCommandScopeAllPrivateChats(), language_code="ru")
    assert [c.description for c in await bot.get_my_commands(language_code="uz")] == ["Boshlash"]
    assert await bot.get_my_commands() == ()
    assert len(tg.commands({"type": "all_private_chats"}, "ru")) == 2
    with pytest.raises(BadRequest, match="Bot_commands_too_much"):
        await bot.set_my_commands([BotCommand(f"c{n}", "d") for n in range(101)])
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start-Now", "d")])


@pytest.mark.asyncio
async def test_descriptions_menu_button_chat_action_and_get_chat(tg, bot):
    from telegram import MenuButtonCommands

    await bot.set_my_description("Migrantlar uchun yordam", language_code="uz")
    await bot.set_my_short_description("Yordam")
    assert (await bot.get_my_description("uz")).description == "Migrantlar uchun yordam"
    assert tg.short_description() == "Yordam"
    await bot.set_chat_menu_button(ALI, MenuButtonCommands())
    assert tg.menu_button(ALI) == {"type": "commands"}
    await bot.send_chat_action(ALI, "typing")
    assert tg.chat_actions == [(ALI, "typing")]
    chat = await bot.get_chat(ALI)
    assert chat.first_name == "Ali" and chat.type == "private"
    assert await bot.close() and await bot.log_out()


@pytest.mark.asyncio
async def test_send_document_stores_name_and_bytes(tg, bot):
    message = await bot.send_document(ALI, b"%PDF-1.4 contract", filename="shartnoma.pdf",
                                      caption="<b>Shartnoma</b>", parse_mode="HTML")
    assert message.document.file_name == "shartnoma.pdf" and message.caption == "Shartnoma"
    [stored] = tg.documents(ALI)
    assert (stored.filename, stored.content) == ("shartnoma.pdf", b"%PDF-1.4 contract")
    again = await bot.send_document(VALI, message.document.file_id)
    assert again.document.file_name == "shartnoma.pdf"
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_document(ALI, b"x", filename="a.txt", caption="c" * 1025)


# ---------------------------------------------------------------- a real PTB Application


@pytest.mark.asyncio
async def test_ptb_application_polls_and_answers(tg):
    async def start(update, context):
        await update.message.reply_text("Tilni tanlang", reply_markup=keyboard("uz", "ru"))

    async def chosen(update, context):
        await update.callback_query.answer()
        await update.callback_query.edit_message_text(f"Til: {update.callback_query.data}")

    async def echo(update, context):
        await update.message.reply_text(update.message.text.upper())

    app = Application.builder().token(TOKEN).base_url(tg.base_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(chosen))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with app:
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        try:
            tg.send_text(ALI, "/start")
            menu = await tg.wait_for(lambda: tg.last_message(ALI))
            tg.press(ALI, menu["message_id"], "ru")
            await tg.wait_for(lambda: tg.last_text(ALI) == "Til: ru")
            assert len(tg.answered_callbacks) == 1
            tg.send_text(ALI, "salom")
            await tg.wait_for(lambda: tg.last_text(ALI) == "SALOM")
        finally:
            await app.updater.stop()
            await app.stop()


@pytest.mark.asyncio
async def test_wait_for_reports_recent_calls_on_timeout(tg, bot):
    await bot.send_message(ALI, "something else")
    with pytest.raises(AssertionError) as error:
        await tg.wait_for(lambda: tg.last_text(ALI) == "expected", timeout=0.2)
    report = str(error.value)
    assert "tg.last_text(ALI) == \"expected\"" in report
    assert "sendMessage" in report and "something else" in report


# ---------------------------------------------------------------- thread mode and standalone


def test_thread_mode_works_from_sync_code():
    with FakeTelegram(token=TOKEN) as server:
        server.add_user(ALI, "Ali")
        response = httpx.post(f"{server.url}/bot{TOKEN}/sendMessage",
                              json={"chat_id": ALI, "text": "from sync code"})
        assert response.json()["result"]["message_id"] == 1

        async def use_ptb():
            async with telegram.Bot(TOKEN, base_url=server.base_url) as client:
                return await client.get_updates(timeout=5)

        server.send_text(ALI, "queued from the test thread")
        [update] = asyncio.run(use_ptb())
        assert update.message.text == "queued from the test thread"
        assert server.wait_for_sync(lambda: server.last_text(ALI) == "from sync code")
        with pytest.raises(AssertionError, match="condition not met"):
            server.wait_for_sync(lambda: server.last_text(ALI) == "never", timeout=0.1)


def test_start_in_thread_and_stop_explicitly():
    server = FakeTelegram(token=TOKEN).start_in_thread()
    try:
        assert httpx.get(f"{server.url}/bot{TOKEN}/getMe").json()["ok"] is True
    finally:
        server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/bot{TOKEN}/getMe")


def test_standalone_module_prints_url_and_stops_on_sigterm():
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakebot", "--port", "0", "--token", TOKEN, "--user", "7"],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert httpx.post(f"{url}/bot{TOKEN}/getMe").json()["result"]["is_bot"] is True
        httpx.post(f"{url}/fake/send_text", json={"user_id": 7, "text": "/start"})
        updates = httpx.post(f"{url}/bot{TOKEN}/getUpdates").json()["result"]
        assert updates[0]["message"]["text"] == "/start"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
