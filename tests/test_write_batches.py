"""Users, drafts and the interaction log are written in batches: nothing is lost, nothing
written twice, nothing comes back after it was erased, and values survive the trip."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.db.engine import Reader, make_engine, make_sessionmaker
from bot.db.models import FlowState, Interaction, User, utcnow
from bot.db.repositories import InteractionRepository
from bot.services.flows import Flow, FlowService
from bot.services.users import UserService
from tests.conftest import make_settings, start_harness, stop_harness
from tests.support.updates import text_update


@pytest.fixture
async def database(db_url):
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    reader = Reader(db_url, sessions)
    yield sessions, reader
    reader.close()
    await engine.dispose()


async def all_rows(sessions, model):
    async with sessions() as session:
        return list((await session.execute(select(model))).scalars())


async def test_a_new_user_is_written_at_the_flush_and_known_after_a_restart(database):
    sessions, reads = database
    users = UserService(sessions, reads)
    first = await users.seen(501, "ru")
    assert first.is_new and await all_rows(sessions, User) == []
    assert (await users.seen(501, "ru")).is_new is False  # from memory, not created twice
    await users.set_locale(501, "uz_Cyrl")
    assert await users.flush() == 1
    (row,) = await all_rows(sessions, User)
    assert (row.pseudonym, row.locale, row.language_code, row.is_active) == (
        first.pseudonym, "uz_Cyrl", "ru", True)

    restarted = UserService(sessions, reads)  # an empty cache, as after a restart
    again = await restarted.seen(501, None)
    assert not again.is_new and again.pseudonym == first.pseudonym and again.locale == "uz_Cyrl"
    await restarted.mark_inactive(501)
    await restarted.flush()
    (row,) = await all_rows(sessions, User)
    # A visit never clears a known language or changes who the user is.
    assert (row.is_active, row.language_code, row.pseudonym) == (False, "ru", first.pseudonym)
    assert row.first_seen == first.last_seen and row.first_seen.tzinfo is not None


async def test_an_erased_user_is_not_written_back(database):
    sessions, reads = database
    users = UserService(sessions, reads)
    await users.seen(502, "en")
    users.forget(502)
    assert users.pending == 0 and await users.flush() == 0
    assert await all_rows(sessions, User) == []


async def test_a_failed_user_write_is_kept_and_newer_values_win(database):
    sessions, reads = database

    class Broken:
        def begin(self):
            raise OperationalError("INSERT", {}, Exception("database is locked"))

    users = UserService(sessions, reads)
    await users.seen(503, "en")
    working = users._sessions
    users._sessions = Broken()
    assert await users.flush() == 0 and users.pending == 1
    await users.set_locale(503, "ru")
    users._sessions = working
    assert await users.flush() == 1
    (row,) = await all_rows(sessions, User)
    assert (row.locale, row.language_code) == ("ru", "en")


async def test_batched_rows_keep_every_value(database):
    sessions, _ = database
    at = utcnow().replace(microsecond=123456)
    records = [
        {"user_key": "a" * 32, "kind": "search", "locale": "uz", "topic_key": None,
         "query": "sugʻurta 'quote' \"double\" \\ back", "result_count": 0, "created_at": at},
        {"user_key": "b" * 32, "kind": "view", "locale": "uz_Cyrl", "topic_key": "visas",
         "query": None, "result_count": None, "created_at": at + timedelta(seconds=1)},
    ]
    async with sessions.begin() as session:
        await InteractionRepository(session).add_many(records)
        await InteractionRepository(session).add_many([])
    stored = sorted(await all_rows(sessions, Interaction), key=lambda i: i.user_key)
    assert [{k: getattr(i, k) for k in records[0]} for i in stored] == records


async def test_drafts_are_kept_in_memory_until_the_flush_and_survive_a_restart(database):
    sessions, reads = database
    flows = FlowService(sessions, reads, cache_size=1)
    await flows.save(601, Flow("ask", "country", {"topic": "visas"}))
    await flows.save(602, Flow("ask", "asker", {"country": "RU"}))  # evicts 601 from the cache
    assert (await flows.get(601)).step == "country"  # still known, though not yet written
    assert await all_rows(sessions, FlowState) == []
    assert await flows.flush() == 2
    await flows.clear(602)
    await flows.flush()
    restarted = FlowService(sessions, reads)
    assert (await restarted.get(601)).data == {"topic": "visas"}
    assert await restarted.get(602) is None
    assert [s.user_id for s in await all_rows(sessions, FlowState)] == [601]


async def test_a_filed_draft_is_never_written_back_and_a_failed_filing_keeps_it(database):
    sessions, reads = database
    flows = FlowService(sessions, reads)
    await flows.save(603, Flow("ask", "consent", {"text": "?"}))
    with pytest.raises(RuntimeError):
        async with flows.ending(603):
            raise RuntimeError("the filing transaction failed")
    assert (await flows.get(603)).step == "consent"
    async with flows.ending(603):
        pass  # the filing transaction deletes the stored draft here
    assert await flows.flush() == 0
    assert await all_rows(sessions, FlowState) == []


async def test_the_user_row_is_read_while_a_batch_waits_to_be_written(database):
    sessions, reads = database
    users = UserService(sessions, reads, cache_size=1)
    first = await users.seen(701, "en")
    await users.seen(702, "en")  # 701 leaves the cache before its row is written
    assert (await users.seen(701, "en")).pseudonym == first.pseudonym
    async with sessions() as session:
        assert await session.get(User, 701) is None


async def test_the_running_bot_saves_its_batches_by_itself(db_url):
    harness = await start_harness(make_settings(db_url))
    try:
        await harness.feed(text_update(harness.bot, 801, "/start"))
        sessions = make_sessionmaker(harness.services.engine)
        for _ in range(50):  # saved about a second later, without anyone asking
            if await all_rows(sessions, User) and await all_rows(sessions, Interaction):
                break
            await asyncio.sleep(0.1)
        assert [u.id for u in await all_rows(sessions, User)] == [801]
        assert [i.kind for i in await all_rows(sessions, Interaction)] == ["command"]
    finally:
        await stop_harness(harness)
