"""Queries only: repositories add and read rows on the caller's session and never commit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Interaction, User


@dataclass
class UserRepository:
    session: AsyncSession

    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    def add(self, user: User) -> None:
        self.session.add(user)


@dataclass
class InteractionRepository:
    session: AsyncSession

    def add_many(self, rows: list[dict]) -> None:
        self.session.add_all(Interaction(**row) for row in rows)

    async def count(self, **filters: object) -> int:
        query = select(func.count()).select_from(Interaction).filter_by(**filters)
        return (await self.session.execute(query)).scalar_one()

    async def list_since(self, since: datetime) -> list[Interaction]:
        query = select(Interaction).where(Interaction.created_at >= since).order_by(Interaction.id)
        return list((await self.session.execute(query)).scalars())
