"""The bot's HTTP transport, against the fake Telegram over real HTTP."""
from __future__ import annotations

import socket

import pytest
import pytest_asyncio
from telegram import InputFile
from telegram.ext import ExtBot
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.content.loader import load_content
from bot.i18n import Catalogs
from bot.request import AiohttpRequest
from bot.views import callbacks
from bot.views.screens import Screen, main_menu
from tests.conftest import ROOT
from tests.fakebot import FakeTelegram

TOKEN = "123456789:AAtransport-test-token"
USER = 4242


@pytest_asyncio.fixture
async def tg():
    async with FakeTelegram(token=TOKEN) as server:
        server.add_user(USER, "Dilnoza", language_code="uz")
        yield server


def agency_bot(base_url: str, **request_options) -> ExtBot:
    return ExtBot(TOKEN, base_url=base_url, request=AiohttpRequest(**request_options),
                     get_updates_request=AiohttpRequest())


async def test_typed_methods_uploads_and_screens_reach_telegram(tg):
    async with agency_bot(tg.base_url) as bot:
        sent = await bot.send_message(USER, "Salom, <b>Dilnoza</b> — сугʻурта",
                                      parse_mode="HTML")
        assert sent.text == "Salom, Dilnoza — сугʻурта" and sent.entities[0].type == "bold"
        await bot.send_document(USER, InputFile(b'{"a": 1}', filename="my-data.json"),
                                caption="Everything stored about you.")
        [document] = tg.documents(USER)
        assert (document.filename, document.content) == ("my-data.json", b'{"a": 1}')
        content = load_content(ROOT / "content").content
        screen = main_menu(content, Catalogs(ROOT / "locales").get("en"), "en")
        message = await bot.send_message(USER, **screen.message_parameters)
        assert message.chat.id == USER
        keyboard = message.reply_markup.inline_keyboard
        assert keyboard[-1][0].callback_data == callbacks.LANGUAGE_PICKER
        assert tg.calls_to("sendMessage")[-1]["link_preview_options"] == {"is_disabled": True}
        with pytest.raises(BadRequest):
            await bot.edit_message_text(chat_id=USER, message_id=999_999,
                                        **Screen("x").message_parameters)


async def test_a_5xx_is_retried_and_a_slow_answer_is_not(tg):
    async with agency_bot(tg.base_url, read_timeout=0.5) as bot:
        tg.fail("sendMessage", 502, times=2)
        await bot.send_message(USER, "after two 502s")
        assert len(tg.calls_to("sendMessage")) == 3
        tg.clear_calls()
        tg.fail("sendMessage", 200, delay=2)
        with pytest.raises(TimedOut):
            await bot.send_message(USER, "slow")
        # Telegram may have delivered it: sending again could show it twice.
        assert len(tg.calls_to("sendMessage")) == 1


async def test_an_unreachable_server_is_retried_then_reported():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as raised:
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
        assert not isinstance(raised.value, TimedOut)
    finally:
        await request.shutdown()
