"""Queries of the admin pages: the audit log with its filters, the admins while one changes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AuditEntry, StaffMember


@dataclass(frozen=True)
class AuditQuery:
    """Every field optional; `after` inclusive, `before` exclusive."""

    actor: int | None = None
    action: str | None = None
    target: str | None = None
    after: datetime | None = None
    before: datetime | None = None


@dataclass
class AdminRepository:
    session: AsyncSession

    @staticmethod
    def _where(query: AuditQuery) -> list:
        where = []
        for column, value in ((AuditEntry.actor_id, query.actor), (AuditEntry.action, query.action),
                              (AuditEntry.target, query.target)):
            if value is not None:
                where.append(column == value)
        if query.after is not None:
            where.append(AuditEntry.created_at >= query.after)
        if query.before is not None:
            where.append(AuditEntry.created_at < query.before)
        return where

    async def audit_page(self, query: AuditQuery, offset: int, limit: int) -> tuple[list[AuditEntry], int]:
        """The entries that match, newest first, and how many match in all."""
        where = self._where(query)
        total = (await self.session.execute(
            select(func.count()).select_from(AuditEntry).where(*where))).scalar_one()
        rows = await self.session.execute(select(AuditEntry).where(*where)
                                          .order_by(AuditEntry.id.desc()).offset(offset).limit(limit))
        return list(rows.scalars()), total

    async def admin_ids(self) -> list[int]:
        """The admins, their rows locked (PostgreSQL) until the transaction ends: two admins
        stepping down at once cannot leave none."""
        rows = await self.session.execute(select(StaffMember.user_id)
                                          .where(StaffMember.role == "admin").with_for_update())
        return list(rows.scalars())
