"""Repeating jobs that run once across all processes: each is a row whose next run time the
one process that runs it moves forward in the same statement that checks it is due."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.db.models import utcnow
from bot.db.repositories import JobRepository


class JobClock:
    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions

    async def take_if_due(self, name: str, every: timedelta, first_after: timedelta) -> bool:
        now = utcnow()
        async with self._sessions.begin() as session:
            jobs = JobRepository(session)
            await jobs.ensure(name, now + first_after)
            return await jobs.take_if_due(name, now, now + every)
