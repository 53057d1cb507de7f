"""Property-based: thousands of generated updates through the real Application.

No unhandled exception, every reply within Telegram's limits and valid Telegram HTML, and user
text never becomes markup.
"""
from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import fresh_database, make_settings, start_harness, stop_harness
from tests.fakebot.formatting import parse_html, utf16_len

BATCHES = 500
BATCH_SIZE = 20  # 500 × 20 = 10,000 updates
USERS = [101, 102, 103, 900]
STAFF_CHAT = -100777
_ids = itertools.count(1)

weird_text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.sampled_from("\u200f\u200e\u200b\u2066\u202e<>&\"'ʻʼ`😀🇺🇿abcвиза"), max_size=200),
    st.builds(lambda c, n: c * n, st.sampled_from(["x", "ж", "😀", "<b>", "&amp;"]),
              st.integers(1000, 10000)),
    st.sampled_from(["/start", "/start visas", "/start ../../etc", "/start " + "k" * 80, "/menu",
                     "/help@OtherBot", "/menu@migrant_help_test_bot", "/nonsense", "/cancel",
                     "/queue", "/case M-2026-000001", "/find <b>", "/stats", "/gaps",
                     "/staff add 1", "/delete", "/mydata", "/privacy", "/myrequests", "sugʻurta",
                     "виза", "Skip"]),
)
callback_data = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["m", "L", "n", "a", "aq", "r", "del", "t|visas", "t|visas|7", "t|nope",
                     "l|uz|visas", "l|xx", "f|topic|-", "f|country|RU", "f|asker|self",
                     "f|consent|yes", "f|consent|no", "r|1", "r|999999999999", "w|1", "s|take|1",
                     "s|close|1", "q|3", "c|1|5", "a|russia_stay", "x" * 200]),
)


def _chat(kind: str, user_id: int) -> dict:
    return {"private": {"id": user_id, "type": "private"},
            "group": {"id": -5005, "type": "group", "title": "g"},
            "supergroup": {"id": STAFF_CHAT, "type": "supergroup", "title": "staff"},
            "channel": {"id": -100999, "type": "channel", "title": "news"}}[kind]


@st.composite
def an_update(draw) -> dict:
    user_id = draw(st.sampled_from(USERS))
    sender = {"id": user_id, "is_bot": False, "first_name": draw(st.text(min_size=1, max_size=20)),
              "language_code": draw(st.sampled_from(["uz", "ru", "en", "kk", None]))}
    chat = _chat(draw(st.sampled_from(["private", "private", "private", "group", "supergroup",
                                       "channel"])), user_id)
    message = {"message_id": next(_ids), "date": int(time.time()), "chat": chat}
    if chat["type"] != "channel" and draw(st.booleans() | st.just(True)):
        message["from"] = sender
    payload = draw(st.sampled_from(["text", "text", "text", "sticker", "photo", "contact",
                                    "location", "voice", "reply"]))
    if payload in ("text", "reply"):
        message["text"] = draw(weird_text)
        if message["text"].startswith("/"):
            word = message["text"].split()[0] if message["text"].split() else "/"
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(word)}]
        if payload == "reply":
            message["reply_to_message"] = {
                "message_id": 1, "date": 1, "chat": chat, "text": "M-2026-000001 card",
                "from": {"id": 7000000001, "is_bot": True, "first_name": "Migrant Help"}}
    elif payload == "sticker":
        message["sticker"] = {"file_id": "s", "file_unique_id": "s", "type": "regular",
                              "width": 1, "height": 1, "is_animated": False, "is_video": False}
    elif payload == "photo":
        message["photo"] = [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]
        message["caption"] = draw(st.text(max_size=50))
    elif payload == "contact":
        message["contact"] = {"phone_number": draw(st.from_regex(r"\+?[0-9]{5,15}", fullmatch=True)),
                              "first_name": "A", "user_id": draw(st.sampled_from([user_id, 5]))}
    elif payload == "location":
        message["location"] = {"latitude": 41.3, "longitude": 69.2}
    else:
        message["voice"] = {"file_id": "v", "file_unique_id": "v", "duration": 1}
    kind = draw(st.sampled_from(["message", "message", "message", "edited_message",
                                 "channel_post", "callback_query"]))
    if kind == "callback_query":
        return {"update_id": next(_ids), "callback_query": {
            "id": str(next(_ids)), "from": sender, "chat_instance": "c",
            "data": draw(callback_data),
            "message": {"message_id": 1, "date": 1, "chat": _chat("private", user_id),
                        "text": "menu", "from": {"id": 7000000001, "is_bot": True,
                                                 "first_name": "Migrant Help"}}}}
    if kind == "edited_message":
        message["edit_date"] = int(time.time())
    if kind == "channel_post":
        message["chat"] = _chat("channel", user_id)
        message.pop("from", None)
    return {"update_id": next(_ids), kind: message}


def check_call(method: str, params: dict) -> None:
    text = params.get("text") or params.get("caption")
    if text is not None:
        formatted = parse_html(text) if params.get("parse_mode") == "HTML" else None
        plain = formatted.text if formatted else text
        assert 0 < utf16_len(plain) <= 4096, (method, len(plain))
    markup = params.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []):
        for button in row:
            assert 0 < len(button["callback_data"].encode()) <= 64
            assert button["text"]
    if method == "answerCallbackQuery":
        assert len(params.get("text") or "") <= 200


@pytest.mark.parametrize("backend", ["sqlite"])
def test_generated_updates_never_break_the_bot(backend, tmp_path):
    from telegram import Update

    runner = asyncio.Runner()
    database = fresh_database(backend, tmp_path)
    harness = runner.run(start_harness(make_settings(database, staff_chat_id=STAFF_CHAT,
                                                     admin_ids=(900,))))
    errors: list[BaseException] = []

    async def record_error(update, context) -> None:
        errors.append(context.error)

    harness.app.add_error_handler(record_error)
    # The flood guard would silence the few fuzzed users; the fuzzer tests everything else.
    harness.services.flood.limit = 10 ** 9
    fed = 0

    @settings(max_examples=BATCHES, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(an_update(), min_size=BATCH_SIZE, max_size=BATCH_SIZE))
    def batch(updates):
        nonlocal fed
        harness.request.clear()
        for data in updates:
            runner.run(harness.feed(Update.de_json(data, harness.bot)))
            fed += 1
        for call in harness.request.calls:
            check_call(call.method, call.params)
        assert errors == [], errors

    try:
        batch()
    finally:
        runner.run(stop_harness(harness))
        runner.close()
    print(f"generated updates run: {fed}")
    assert fed >= BATCHES * BATCH_SIZE
