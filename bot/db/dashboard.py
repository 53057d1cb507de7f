"""Queries of the staff dashboard: read only, on the caller's session, never committing.

Each returns plain rows with only the columns the figures need: a 90-day window (and the one
before it) is a few thousand requests, so grouping them in Python is cheap and the same on
SQLite and PostgreSQL, whose date functions differ."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import HelpRequest, Interaction


@dataclass
class DashboardRepository:
    session: AsyncSession

    async def requests_filed(self, start: datetime, end: datetime) -> list:
        """(created_at, status, topic_key, country, locale, first_reply_at, resolved_at) of
        the requests filed in [start, end), those the user deleted included: their figures
        stay although their contents are gone."""
        query = (select(HelpRequest.created_at, HelpRequest.status, HelpRequest.topic_key,
                        HelpRequest.country, HelpRequest.locale, HelpRequest.first_reply_at,
                        HelpRequest.resolved_at)
                 .where(HelpRequest.created_at >= start, HelpRequest.created_at < end)
                 .order_by(HelpRequest.id))
        return list((await self.session.execute(query)).all())

    async def ratings(self, start: datetime, end: datetime) -> list:
        """(id, number, satisfaction, comment, asked_at) of the requests whose user was asked
        "did it help?" in [start, end), the latest first."""
        query = (select(HelpRequest.id, HelpRequest.number, HelpRequest.satisfaction,
                        HelpRequest.satisfaction_comment, HelpRequest.satisfaction_asked_at)
                 .where(HelpRequest.satisfaction_asked_at >= start,
                        HelpRequest.satisfaction_asked_at < end)
                 .order_by(HelpRequest.satisfaction_asked_at.desc(), HelpRequest.id.desc()))
        return list((await self.session.execute(query)).all())

    async def topic_counts(self, kind: str, start: datetime, end: datetime,
                           limit: int) -> list[tuple[str, int]]:
        """The topics most often met as `kind` interactions in [start, end), with counts."""
        count = func.count().label("n")
        query = (select(Interaction.topic_key, count)
                 .where(Interaction.kind == kind, Interaction.topic_key.is_not(None),
                        Interaction.created_at >= start, Interaction.created_at < end)
                 .group_by(Interaction.topic_key).order_by(count.desc(), Interaction.topic_key)
                 .limit(limit))
        return [(key, n) for key, n in (await self.session.execute(query)).all()]

    async def unanswered_queries(self, start: datetime, end: datetime) -> list[str]:
        query = select(Interaction.query).where(
            Interaction.kind == "search", Interaction.result_count == 0,
            Interaction.query.is_not(None),
            Interaction.created_at >= start, Interaction.created_at < end)
        return list((await self.session.execute(query)).scalars())
