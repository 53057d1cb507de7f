"""Messages sent later, one row each: claimed by one process, sent, marked done.

A claim has a lease: a message whose sender died (or is stuck) is taken again when the lease
runs out, never while its first send may still be on its way. Failed sends wait longer each
time (BACKOFF), up to MAX_ATTEMPTS.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import OutboxMessage, utcnow
from bot.db.repositories import OutboxRepository

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1))
MAX_ATTEMPTS = 20


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    ref: int
    attempts: int


def claim_now(session: AsyncSession, kind: str, ref: int, worker: str) -> OutboxMessage:
    """Within the caller's transaction: a message the caller sends at once itself. If it never
    reports back, the message is sent by whoever claims it after the lease."""
    now = utcnow()
    return OutboxRepository(session).add(kind, ref, now, claimed_by=worker,
                                         claimed_until=now + LEASE)


async def queue_once(session: AsyncSession, kind: str, ref: int,
                     due_at: datetime | None = None) -> bool:
    """Within the caller's transaction: a message for `ref`, unless one is already waiting
    (not done and not being sent). For messages that read what they send when they are sent
    (a card's edit), one waiting is enough however often the case changes."""
    now = utcnow()
    outbox = OutboxRepository(session)
    if await outbox.waiting(kind, ref, now) is not None:
        return False
    outbox.add(kind, ref, due_at or now)
    return True


class Outbox:
    def __init__(self, sessions: async_sessionmaker, worker: str) -> None:
        self._sessions = sessions
        self.worker = worker

    async def claim_due(self, limit: int = 20, now: datetime | None = None) -> list[Claimed]:
        now = now or utcnow()
        async with self._sessions.begin() as session:
            rows = await OutboxRepository(session).claim_due(self.worker, now, now + LEASE, limit)
            return [Claimed(r.id, r.kind, r.ref, r.attempts) for r in rows]

    async def done(self, kind: str, ref: int, session: AsyncSession | None = None) -> None:
        """Mark the row of (kind, ref) done: for kinds with one row per ref."""
        async def mark(own: AsyncSession) -> None:
            _finish(await OutboxRepository(own).for_ref(kind, ref))

        await self._in_transaction(session, mark)

    async def failed(self, kind: str, ref: int, error: str) -> None:
        """Try again later; give up (and say so in the log) after MAX_ATTEMPTS."""
        async with self._sessions.begin() as session:
            _later(await OutboxRepository(session).for_ref(kind, ref), error)

    async def finish(self, message_id: int, session: AsyncSession | None = None) -> None:
        """Mark one row done by its id: for kinds with several rows per ref over time."""
        async def mark(own: AsyncSession) -> None:
            _finish(await OutboxRepository(own).get(message_id))

        await self._in_transaction(session, mark)

    async def _in_transaction(self, session: AsyncSession | None, work) -> None:
        """In the caller's transaction if there is one, else in one of our own."""
        if session is not None:
            await work(session)
            return
        async with self._sessions.begin() as own:
            await work(own)

    async def purge_done(self, kinds: tuple[str, ...], before: datetime) -> int:
        """Forget rows of these kinds sent (or given up) before `before`: for kinds whose
        rows nothing looks up once done."""
        async with self._sessions.begin() as session:
            return await OutboxRepository(session).delete_done(kinds, before)

    async def retry(self, message_id: int, error: str) -> None:
        """`failed`, for one row by its id."""
        async with self._sessions.begin() as session:
            _later(await OutboxRepository(session).get(message_id), error)


def _finish(message: OutboxMessage | None) -> None:
    if message is not None:
        message.done_at, message.claimed_until = utcnow(), None


def _later(message: OutboxMessage | None, error: str) -> None:
    if message is None or message.done_at is not None:
        return
    message.last_error = error[:500]
    message.claimed_until = None
    if message.attempts >= MAX_ATTEMPTS:
        message.done_at = utcnow()
        log.error("%s %s not sent after %d attempts: %s", message.kind, message.ref,
                  message.attempts, error)
        return
    message.due_at = utcnow() + BACKOFF[min(message.attempts, len(BACKOFF) - 1)]
