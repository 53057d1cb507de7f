"""Queries of the console's logins: one-time links, sessions, attempts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ConsoleLoginAttempt, ConsoleLoginLink, ConsoleSession


@dataclass
class ConsoleRepository:
    session: AsyncSession

    def add(self, row: ConsoleLoginLink | ConsoleSession | ConsoleLoginAttempt) -> None:
        self.session.add(row)

    async def use_link(self, token_hash: str, now: datetime) -> int | None:
        """Mark an unused, unexpired link used and return its staff id; None otherwise. One
        UPDATE: two browsers racing with the same link cannot both win."""
        result = await self.session.execute(
            update(ConsoleLoginLink)
            .where(ConsoleLoginLink.token_hash == token_hash, ConsoleLoginLink.used_at.is_(None),
                   ConsoleLoginLink.expires_at > now)
            .values(used_at=now).returning(ConsoleLoginLink.staff_id))
        return result.scalar_one_or_none()

    async def live_session(self, token_hash: str, now: datetime) -> ConsoleSession | None:
        row = await self.session.get(ConsoleSession, token_hash)
        return row if row is not None and row.expires_at > now else None

    async def end_session(self, token_hash: str) -> None:
        await self.session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == token_hash))

    async def end_sessions_of(self, staff_id: int) -> int:
        result = await self.session.execute(delete(ConsoleSession).where(ConsoleSession.staff_id == staff_id))
        return result.rowcount

    async def failures_since(self, client: str, since: datetime) -> int:
        return (await self.session.execute(
            select(func.count()).select_from(ConsoleLoginAttempt)
            .where(ConsoleLoginAttempt.client == client, ConsoleLoginAttempt.at >= since,
                   ConsoleLoginAttempt.succeeded.is_(False)))).scalar_one()

    async def purge(self, now: datetime, attempts_before: datetime) -> None:
        await self.session.execute(delete(ConsoleLoginLink).where(ConsoleLoginLink.expires_at < now))
        await self.session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))
        await self.session.execute(delete(ConsoleLoginAttempt).where(ConsoleLoginAttempt.at < attempts_before))
