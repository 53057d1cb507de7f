"""Sending announcements: through the fake Telegram with 429s, 403s and 5xx injected; several
processes on one PostgreSQL database, of which exactly one sends; one that dies mid-send is
taken over after its lease, and nobody gets the announcement twice."""
from __future__ import annotations

import asyncio
import random
import threading
import time

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import build_application
from bot.context import BotContext
from bot.db.engine import make_engine, make_sessionmaker
from bot.db.models import AnnouncementRecipient, OutboxMessage, User
from bot.runner import send_due_outbox
from bot.services import announcements as announcements_module
from bot.services.announcements import (ANNOUNCEMENT, AnnouncementSender, AnnouncementService,
                                        Draft, Outcome, Segment)
from bot.services.outbox import Outbox
from tests.conftest import fresh_database, make_settings
from tests.fakebot import FakeTelegram
from tests.test_announcements import ADMIN, rows, seed

TOKEN = "424242:ANNOUNCE-test-token"
STAFF_CHAT = -100555


async def wait_until(predicate, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def finished(engine, announcement_id) -> bool:
    from bot.db.models import Announcement

    async with AsyncSession(engine) as session:
        row = await session.get(Announcement, announcement_id)
    return row.reported_at is not None


@pytest.fixture
async def live(db_url, monkeypatch):
    """The real Application and transport against an in-process fake Telegram."""
    monkeypatch.setattr("bot.request.RETRY_DELAYS", (0.01, 0.01, 0.01))
    async with FakeTelegram(token=TOKEN) as tg:
        tg.add_group(STAFF_CHAT, "staff")
        tg.add_user(ADMIN, language_code="en")
        settings = make_settings(db_url, telegram_bot_token=TOKEN, telegram_api_url=tg.url,
                                 staff_chat_id=STAFF_CHAT, admin_ids=(ADMIN,), staff_locale="en",
                                 announce_messages_per_second=100)
        app = build_application(settings)
        await app.initialize()
        await app.post_init(app)
        try:
            yield app, tg
        finally:
            await app.post_shutdown(app)
            await app.shutdown()


async def test_429_403_and_5xx_from_telegram_each_recipient_gets_it_once(live):
    app, tg = live
    services = app.bot_data["services"]
    engine = services.engine
    reachable = list(range(500, 517))
    for user in reachable + [520, 521]:
        tg.add_user(user, language_code="en")
    tg.block(520)
    tg.block(521)
    await seed(engine, [dict(id=user, locale="en") for user in reachable + [520, 521, 522]])
    _, progress = await services.announcements.confirm(
        ADMIN, Draft({"en": "<b>Entry rules changed</b>"}, None, Segment(locales=("en",))))
    tg.clear_calls()
    tg.fail("sendMessage", 429, retry_after=1)  # waited out by the pacer, then sent
    tg.fail("sendMessage", 502, times=4)  # retried by the transport, a few sends at once
    tg.fail("sendMessage", 500, times=2)
    started = time.monotonic()
    await send_due_outbox(BotContext(app))
    await wait_until(lambda: finished(engine, progress.id), what="the report")
    assert time.monotonic() - started >= 1.0  # the 429's retry_after was honoured
    for user in reachable:
        assert [m["text"] for m in tg.sent(user)] == ["Entry rules changed"], user
    assert tg.sent(520) == [] and tg.sent(521) == [] and tg.sent(522) == []
    recipients = {r.user_id: r for r in await rows(engine, AnnouncementRecipient)}
    assert {u for u, r in recipients.items() if r.status == "sent"} == set(reachable)
    assert {u: recipients[u].status for u in (520, 521, 522)} == \
        {520: "blocked", 521: "blocked", 522: "blocked"}  # 403 twice, "chat not found"
    inactive = {u.id for u in await rows(engine, User) if not u.is_active}
    assert inactive == {520, 521, 522}
    to_users = [c for c in tg.calls_to("sendMessage") if int(c["chat_id"]) != STAFF_CHAT
                and int(c["chat_id"]) != ADMIN]
    # 17 delivered + 3 refused, the 429, the 4 + 2 failed tries: no send beyond those.
    assert len(to_users) == 17 + 3 + 1 + 4 + 2
    (report,) = tg.sent(STAFF_CHAT)
    assert "✅ Sent: 17 · ⏳ Pending: 0 · 🚫 Blocked: 3 · ❌ Failed: 0 · ⏭ Not sent: 0" in report["text"]
    # Later segments leave the unreachable out.
    assert (await services.announcements.audience(Segment()))["en"] == len(reachable)


async def test_errors_are_tried_three_times_and_a_long_429_is_waited_out(live):
    app, tg = live
    services = app.bot_data["services"]
    engine = services.engine
    for user in (601, 602, 603):
        tg.add_user(user, language_code="ru")

    async def announce(user, text, country):
        """To this one user: the faults go to their sends, one at a time."""
        await seed(engine, [dict(id=user, locale="ru", country=country)])
        _, progress = await services.announcements.confirm(
            ADMIN, Draft({"ru": text}, None, Segment(countries=(country,))))
        await send_due_outbox(BotContext(app))
        return progress

    # Every transport attempt of one try fails: the recipient is tried again, and gets it.
    tg.fail("sendMessage", 500, times=4)
    first = await announce(601, "Раз", "DE")
    await wait_until(lambda: finished(engine, first.id), what="the first report")
    (recipient,) = await rows(engine, AnnouncementRecipient)
    assert (recipient.status, recipient.attempts) == ("sent", 2)
    assert [m["text"] for m in tg.sent(601)] == ["Раз"]

    # Three such tries: failed, and said so in the report.
    tg.fail("sendMessage", 500, times=3 * 4)
    second = await announce(602, "Два", "PL")
    await wait_until(lambda: finished(engine, second.id), what="the second report")
    (failed,) = [r for r in await rows(engine, AnnouncementRecipient) if r.user_id == 602]
    assert (failed.status, failed.attempts) == ("failed", 3)
    assert "Internal Server Error" in failed.last_error or "500" in failed.last_error
    assert tg.sent(602) == []
    assert "❌ Failed: 1" in tg.sent(STAFF_CHAT)[-1]["text"]

    # More 429s than the pacer tries: the announcement waits retry_after, then goes on.
    tg.clear_faults()
    tg.fail("sendMessage", 429, times=4, retry_after=1)
    third = await announce(603, "Три", "TR")
    await wait_until(lambda: _outbox_waits(engine, third.id), timeout=20, what="the wait")
    assert tg.sent(603) == []
    await asyncio.sleep(1.2)
    await send_due_outbox(BotContext(app))  # as the job loop does: due again after the wait
    await wait_until(lambda: finished(engine, third.id), what="the third report")
    assert [m["text"] for m in tg.sent(603)] == ["Три"]


async def _outbox_waits(engine, announcement_id) -> bool:
    outbox = [m for m in await rows(engine, OutboxMessage)
              if m.kind == ANNOUNCEMENT and m.ref == announcement_id]
    return bool(outbox) and outbox[0].claimed_until is None and outbox[0].done_at is None


# Several processes on one PostgreSQL database.

class Process:
    """What one bot process does for announcements: its job loop claims due outbox rows and
    works them. Its own engine, its own worker id."""

    def __init__(self, name: str, url: str, deliveries: list, active: dict,
                 in_flight: int | None = None) -> None:
        self.name, self.deliveries, self.active = name, deliveries, active
        self.engine = make_engine(url, connect_args={"server_settings": {"application_name": name}})
        sessions = make_sessionmaker(self.engine)
        self.outbox = Outbox(sessions, f"worker-{name}")
        self.service = AnnouncementService(sessions, self.outbox.worker, 1000, "uz")
        self.sender = AnnouncementSender(self.service, 200, in_flight=in_flight, slice_size=10)
        self.gate: threading.Event | None = None  # when set up, the Nth delivery hangs here
        self.hang_at: int | None = None
        self.hung = threading.Event()

    async def deliver(self, announcement, recipient) -> Outcome:
        others = [name for name, n in self.active.items() if n and name != self.name]
        assert not others, f"{self.name} sends while {others} do"
        self.active[self.name] += 1
        try:
            mine = sum(1 for name, _ in self.deliveries if name == self.name)
            if self.hang_at is not None and mine + 1 >= self.hang_at:
                self.hung.set()
                while True:  # a request that never gets through; the process dies here
                    await asyncio.sleep(3600)
            await asyncio.sleep(random.uniform(0, 0.004))
            self.deliveries.append((self.name, recipient.user_id))
            return Outcome("sent")
        finally:
            self.active[self.name] -= 1

    async def report(self, announcement) -> None:
        self.deliveries.append((self.name, "report"))

    async def job_loop(self, until: asyncio.Event) -> None:
        while not until.is_set():
            for claimed in await self.outbox.claim_due():
                if claimed.kind == ANNOUNCEMENT:
                    await self.sender.run(claimed.ref, self.deliver, self.report,
                                          given_to=self.outbox.worker)
            await asyncio.sleep(random.uniform(0.01, 0.05))


async def _announcement_for(url, users: int) -> int:
    engine = make_engine(url)
    try:
        await seed(engine, [dict(id=7000 + i, locale="ru") for i in range(users)], admins=(ADMIN,))
        service = AnnouncementService(make_sessionmaker(engine), "setup", 1000, "uz")
        _, progress = await service.confirm(ADMIN, Draft({"ru": "Новости"}, None, Segment()))
        return progress.id
    finally:
        await engine.dispose()


async def test_two_processes_one_sender_everyone_once(tmp_path):
    url = fresh_database("postgresql", tmp_path)
    announcement_id = await _announcement_for(url, 200)
    deliveries: list = []
    active = {"a": 0, "b": 0}
    processes = [Process(name, url, deliveries, active) for name in active]
    done = asyncio.Event()
    loops = [asyncio.create_task(p.job_loop(done)) for p in processes]
    try:
        await wait_until(lambda: _reported(deliveries), what="the report")
    finally:
        done.set()
        await asyncio.gather(*loops)
        for p in processes:
            await p.engine.dispose()
    users = [user for _, user in deliveries if user != "report"]
    assert sorted(users) == [7000 + i for i in range(200)]  # everyone, once
    assert [d for d in deliveries if d[1] == "report"].__len__() == 1
    engine = make_engine(url)
    try:
        assert {r.status for r in await rows(engine, AnnouncementRecipient)} == {"sent"}
        (outbox,) = await rows(engine, OutboxMessage)
        assert outbox.ref == announcement_id and outbox.done_at is not None
    finally:
        await engine.dispose()


async def _reported(deliveries) -> bool:
    return any(user == "report" for _, user in deliveries)


async def test_a_sender_that_dies_is_taken_over_after_its_lease_and_nobody_gets_it_twice(
        tmp_path, monkeypatch):
    monkeypatch.setattr(announcements_module, "LEASE", announcements_module.timedelta(seconds=3))
    monkeypatch.setattr(announcements_module, "LEASE_MARGIN", announcements_module.timedelta(seconds=1))
    monkeypatch.setattr(announcements_module, "HEARTBEAT_SECONDS", 0.5)
    url = fresh_database("postgresql", tmp_path)
    await _announcement_for(url, 60)
    deliveries: list = []
    active = {"a": 0, "b": 0}

    # Process a runs in a thread of its own (its own event loop) and dies there, mid-send.
    a_ready: dict = {}

    def process_a() -> None:
        loop = asyncio.new_event_loop()
        a_ready["loop"] = loop
        a = Process("a", url, deliveries, active, in_flight=1)
        a.hang_at = 25
        a_ready["process"] = a
        loop.create_task(a.job_loop(asyncio.Event()))
        loop.run_forever()  # stopped from outside: nothing of it runs any more

    thread = threading.Thread(target=process_a, daemon=True)
    thread.start()
    await wait_until(lambda: _set(a_ready, "process"), what="process a")
    a = a_ready["process"]
    await wait_until(lambda: _hung(a), what="a to hang mid-send")
    a_ready["loop"].call_soon_threadsafe(a_ready["loop"].stop)
    thread.join(5)
    await _kill_connections(url, "a")  # its sockets close, as when a process is killed
    sent_by_a = [user for name, user in deliveries if name == "a"]
    assert len(sent_by_a) == 24

    b = Process("b", url, deliveries, active)
    active["a"] = 0  # a's hung delivery will never return: a is gone
    done = asyncio.Event()
    started = time.monotonic()
    loop_b = asyncio.create_task(b.job_loop(done))
    try:
        await wait_until(lambda: _reported(deliveries), what="b to finish")
    finally:
        done.set()
        await loop_b
        await b.engine.dispose()
    assert time.monotonic() - started >= 1.0  # b waited for a's lease to run out
    users = [user for _, user in deliveries if user != "report"]
    assert sorted(users) == [7000 + i for i in range(60)]  # none missed, none twice
    assert {name for name, user in deliveries if user == "report"} == {"b"}
    _bury(a_ready["loop"], a)


def _bury(loop, process) -> None:
    """What is left of the dead process, once the test no longer needs it dead."""
    def clean() -> None:
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.run_until_complete(process.engine.dispose())
        loop.close()

    thread = threading.Thread(target=clean)
    thread.start()
    thread.join(10)


async def _set(mapping, key) -> bool:
    return key in mapping


async def _hung(process) -> bool:
    return process.hung.is_set()


async def _kill_connections(url: str, application_name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE application_name = $1", application_name)
    finally:
        await connection.close()
