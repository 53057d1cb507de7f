"""Concurrent updates keep each user's order and do not make users wait for each other."""
from __future__ import annotations

import asyncio

from bot.ordering import PerUserOrderedProcessor
from tests.support.updates import text_update



async def test_one_users_updates_run_in_order_while_others_interleave():
    from telegram import Bot

    bot = Bot("1:x")
    processor = PerUserOrderedProcessor(max_concurrent_updates=16)
    events: list[tuple[int, int, str]] = []

    async def work(user, n, pause):
        events.append((user, n, "start"))
        await asyncio.sleep(pause)
        events.append((user, n, "end"))

    jobs = []
    for n, (user, pause) in enumerate([(1, 0.05), (1, 0.0), (2, 0.0), (1, 0.0)]):
        update = text_update(bot, user, f"m{n}")
        jobs.append(asyncio.create_task(processor.process_update(update, work(user, n, pause))))
    await asyncio.gather(*jobs)
    user_one = [(n, what) for user, n, what in events if user == 1]
    assert user_one == [(0, "start"), (0, "end"), (1, "start"), (1, "end"), (3, "start"), (3, "end")]
    assert events.index((2, 2, "end")) < events.index((1, 0, "end"))  # user 2 did not wait
    assert processor._locks == {}
