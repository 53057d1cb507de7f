"""The webhook's front door, the outgoing pace, and the inbox's order and leases."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from telegram.error import RetryAfter

from bot.db.models import InboxUpdate, utcnow
from bot.ratelimit import BULK, TelegramPacer
from bot.runner import HEALTH_PATH, SECRET_HEADER, webhook_app
from bot.services.inbox import Inbox
from tests.conftest import make_settings, start_harness, stop_harness
from tests.support.updates import message

SECRET = "front-door-secret"


@pytest.fixture
async def webhook(db_url):
    harness = await start_harness(make_settings(db_url, webhook_url="https://bot.example/tg/hook",
                                                webhook_secret=SECRET))
    client = TestClient(TestServer(webhook_app(harness.services, harness.dispatcher)))
    await client.start_server()
    yield harness, client
    await client.close()
    await stop_harness(harness)


async def stored_ids(harness) -> list[int]:
    async with AsyncSession(harness.services.engine) as session:
        return list((await session.execute(select(InboxUpdate.update_id))).scalars())


async def test_webhook_stores_an_update_once_and_refuses_a_wrong_secret(webhook):
    harness, client = webhook
    update = {"update_id": 77, "message": message(501, "/start")}
    refused = await client.post("/tg/hook", json=update, headers={SECRET_HEADER: "guess"})
    assert refused.status == 403
    missing = await client.post("/tg/hook", json=update)
    assert missing.status == 403
    assert await stored_ids(harness) == []
    for _ in range(2):  # Telegram delivers again when it did not see the first 200
        accepted = await client.post("/tg/hook", json=update, headers={SECRET_HEADER: SECRET})
        assert accepted.status == 200
    assert await stored_ids(harness) == [77]
    wrong_path = await client.post("/123456:TEST-token", json=update,
                                   headers={SECRET_HEADER: SECRET})
    assert wrong_path.status == 404  # the token is not in the URL any more
    garbage = await client.post("/tg/hook", data=b"not json", headers={SECRET_HEADER: SECRET})
    assert garbage.status == 400


async def test_health_says_whether_the_database_answers(webhook):
    harness, client = webhook
    answer = await client.get(HEALTH_PATH)
    assert answer.status == 200 and (await answer.json())["status"] == "ok"
    original = harness.services.engine

    class Unreachable:
        def connect(self):
            raise OSError("database is away")

    harness.services.engine = Unreachable()
    try:
        assert (await client.get(HEALTH_PATH)).status == 503
    finally:
        harness.services.engine = original


async def test_a_user_s_updates_are_claimed_one_at_a_time_in_order(db_url):
    harness = await start_harness(make_settings(db_url))
    try:
        inbox = Inbox(harness.services.transactions, worker="other-process")
        await inbox.put([{"update_id": n, "message": message(600, f"m{n}")} for n in (3, 1, 2)]
                        + [{"update_id": 4, "message": message(601, "x")}])
        first = await inbox.claim(10)
        assert [c.unit.update_id for c in first] == [1, 4]  # one per user, the earliest
        assert await inbox.claim(10) == []  # 2 and 3 wait for 1
        await inbox.finish(first[0].unit)
        assert [c.unit.update_id for c in await inbox.claim(10)] == [2]
    finally:
        await stop_harness(harness)


async def test_an_update_whose_process_died_is_taken_over_after_its_lease(db_url):
    harness = await start_harness(make_settings(db_url))
    try:
        dead = Inbox(harness.services.transactions, worker="dead-process")
        await dead.put([{"update_id": 9, "message": message(700, "/help")}])
        (claimed,) = await dead.claim(1)
        alive = Inbox(harness.services.transactions, worker="alive")
        assert await alive.claim(5) == []  # still leased
        async with AsyncSession(harness.services.engine) as session, session.begin():
            await session.execute(update(InboxUpdate).values(
                claimed_until=utcnow() - timedelta(seconds=1)))
        (taken,) = await alive.claim(5)
        assert taken.unit.update_id == 9
        await dead.finish(claimed.unit)  # too late: not marked done by the dead one
        async with AsyncSession(harness.services.engine) as session:
            row = await session.get(InboxUpdate, 9)
        assert row.status == "claimed" and row.claimed_by == "alive"
    finally:
        await stop_harness(harness)


def _chat_send(calls: list, name: str, fail_first: int = 0):
    async def send(*_args, **_kwargs):
        calls.append(name)
        if calls.count(name) <= fail_first:
            raise RetryAfter(0)
        return name
    return send


async def test_a_private_reply_never_waits_behind_a_group_or_a_broadcast():
    pacer = TelegramPacer(bulk_per_second=1)
    calls: list[str] = []
    group = {"chat_id": -100}
    for _ in range(20):  # the group's minute is used up
        await pacer.process_request(_chat_send(calls, "group"), (), {}, "sendMessage", group, None)
    await pacer.process_request(_chat_send(calls, "bulk"), (), {}, "sendMessage",
                                {"chat_id": 5}, {BULK: True})
    waiting = [asyncio.create_task(pacer.process_request(
        _chat_send(calls, "group"), (), {}, "sendMessage", group, None)),
        asyncio.create_task(pacer.process_request(
            _chat_send(calls, "bulk"), (), {}, "sendMessage", {"chat_id": 6}, {BULK: True}))]
    answer = await pacer.process_request(_chat_send(calls, "reply"), (), {}, "sendMessage",
                                         {"chat_id": 7}, None)
    assert answer == "reply"
    assert calls.count("group") == 20 and calls.count("bulk") == 1  # those still wait
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)


async def test_every_429_is_waited_out_and_tried_again():
    pacer = TelegramPacer(max_retries=3)
    calls: list[str] = []
    answer = await pacer.process_request(_chat_send(calls, "edit", fail_first=2), (), {},
                                         "editMessageText", {"chat_id": 8}, None)
    assert answer == "edit" and calls == ["edit"] * 3
    with pytest.raises(RetryAfter):
        await TelegramPacer(max_retries=1).process_request(
            _chat_send(calls, "never", fail_first=5), (), {}, "sendMessage", {"chat_id": 9}, None)
