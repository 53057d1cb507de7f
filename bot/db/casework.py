"""Queries of the staff's case work: the inbox, notes, canned replies, a case's history."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AuditEntry, CannedReply, CaseNote, HelpRequest, RequestMessage

# What staff type is matched literally: LIKE's own wildcards are escaped, and each of the
# apostrophes people type for ʻ and ʼ matches any one character, so "o'zbek" finds "oʻzbek".
APOSTROPHES = "'`ʻʼ‘’´"


def like_pattern(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    for mark in APOSTROPHES:
        escaped = escaped.replace(mark, "_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class InboxQuery:
    statuses: tuple[str, ...]
    topic: str | None = None
    country: str | None = None
    locale: str | None = None
    assignee: int | None = None
    unassigned: bool = False
    waiting_before: datetime | None = None  # waiting since before this moment
    text: str = ""


@dataclass
class CaseworkRepository:
    session: AsyncSession

    def _where(self, query: InboxQuery) -> list:
        where = [HelpRequest.deleted_by_user.is_(False), HelpRequest.status.in_(query.statuses)]
        for column, value in ((HelpRequest.topic_key, query.topic),
                              (HelpRequest.country, query.country),
                              (HelpRequest.locale, query.locale),
                              (HelpRequest.assignee_id, query.assignee)):
            if value is not None:
                where.append(column == value)
        if query.unassigned:
            where.append(HelpRequest.assignee_id.is_(None))
        if query.waiting_before is not None:
            where.append(HelpRequest.waiting_since < query.waiting_before)
        if query.text:
            pattern = like_pattern(query.text)
            in_thread = select(RequestMessage.request_id).where(
                func.lower(RequestMessage.text).like(pattern, escape="\\"))
            where.append(or_(func.lower(HelpRequest.number).like(pattern, escape="\\"),
                             HelpRequest.id.in_(in_thread)))
        return where

    async def inbox(self, query: InboxQuery, offset: int, limit: int) -> tuple[list[HelpRequest], int]:
        where = self._where(query)
        total = (await self.session.execute(
            select(func.count()).select_from(HelpRequest).where(*where))).scalar_one()
        # A cry for help first, then the longest wait, then the oldest case.
        rows = await self.session.execute(
            select(HelpRequest).where(*where)
            .order_by(HelpRequest.urgent.desc(), HelpRequest.waiting_since.is_(None),
                      HelpRequest.waiting_since, HelpRequest.id)
            .offset(offset).limit(limit))
        return list(rows.scalars()), total

    async def first_messages(self, request_ids: list[int]) -> dict[int, str]:
        """Each case's question: its first message."""
        if not request_ids:
            return {}
        first = (select(func.min(RequestMessage.id)).where(RequestMessage.request_id.in_(request_ids))
                 .group_by(RequestMessage.request_id))
        rows = await self.session.execute(select(RequestMessage.request_id, RequestMessage.text)
                                          .where(RequestMessage.id.in_(first)))
        return dict(rows.all())

    async def last_change(self) -> tuple:
        """Changes whenever a case or a message is added or changed: the inbox's version."""
        cases = await self.session.execute(
            select(func.max(HelpRequest.updated_at), func.count(HelpRequest.id)))
        messages = await self.session.execute(select(func.max(RequestMessage.id)))
        return (*cases.one(), messages.scalar_one())

    def add_note(self, note: CaseNote) -> None:
        self.session.add(note)

    async def notes(self, request_id: int) -> list[CaseNote]:
        rows = await self.session.execute(select(CaseNote).where(CaseNote.request_id == request_id)
                                          .order_by(CaseNote.id))
        return list(rows.scalars())

    async def history(self, number: str) -> list[AuditEntry]:
        rows = await self.session.execute(select(AuditEntry).where(AuditEntry.target == number)
                                          .order_by(AuditEntry.id))
        return list(rows.scalars())


@dataclass
class CannedReplyRepository:
    session: AsyncSession

    def add(self, reply: CannedReply) -> None:
        self.session.add(reply)

    async def get(self, reply_id: int) -> CannedReply | None:
        return await self.session.get(CannedReply, reply_id)

    async def listed(self, locale: str | None = None) -> list[CannedReply]:
        query = select(CannedReply).order_by(CannedReply.locale, CannedReply.title, CannedReply.id)
        if locale is not None:
            query = query.where(CannedReply.locale == locale)
        return list((await self.session.execute(query)).scalars())

    async def remove(self, reply_id: int) -> bool:
        result = await self.session.execute(delete(CannedReply).where(CannedReply.id == reply_id))
        return result.rowcount > 0
