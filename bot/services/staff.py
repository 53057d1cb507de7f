"""Staff roles, checked against the database on every use, and the audit log."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.db.console import ConsoleRepository
from bot.db.models import StaffMember
from bot.db.repositories import AuditRepository, StaffRepository

ROLES = ("staff", "admin")


class StaffService:
    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions

    async def role_of(self, user_id: int) -> str | None:
        async with self._sessions() as session:
            member = await StaffRepository(session).get(user_id)
            return member.role if member else None

    async def is_staff(self, user_id: int) -> bool:
        return await self.role_of(user_id) is not None

    async def is_admin(self, user_id: int) -> bool:
        return await self.role_of(user_id) == "admin"

    async def ensure_admins(self, user_ids: tuple[int, ...]) -> None:
        """ADMIN_IDS make the first admins; an existing staff member is promoted. Safe when
        several processes start at once: each id is made admin by one of them, audited once."""
        async with self._sessions.begin() as session:
            staff, audit = StaffRepository(session), AuditRepository(session)
            for user_id in user_ids:
                if await staff.make_admin(user_id):
                    audit.add(None, "admin_from_settings", str(user_id))

    async def add(self, actor_id: int | None, user_id: int, role: str = "staff") -> bool:
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
        async with self._sessions.begin() as session:
            staff = StaffRepository(session)
            member = await staff.get(user_id)
            if member is not None and member.role == role:
                return False
            if member is None:
                staff.add(StaffMember(user_id=user_id, role=role, added_by=actor_id))
            else:
                member.role = role
            AuditRepository(session).add(actor_id, "staff_add", str(user_id), role)
            return True

    async def remove(self, actor_id: int | None, user_id: int) -> bool:
        async with self._sessions.begin() as session:
            staff = StaffRepository(session)
            member = await staff.get(user_id)
            if member is None:
                return False
            await staff.remove(member)
            await ConsoleRepository(session).end_sessions_of(user_id)
            AuditRepository(session).add(actor_id, "staff_remove", str(user_id))
            return True

    async def listed(self) -> list[StaffMember]:
        async with self._sessions() as session:
            return await StaffRepository(session).all()

    async def members(self) -> list[tuple[int, str]]:
        async with self._sessions() as session:
            return [(m.user_id, m.role) for m in await StaffRepository(session).all()]

    async def audit(self, actor_id: int | None, action: str, target: str | None = None,
                    details: str | None = None) -> None:
        async with self._sessions.begin() as session:
            AuditRepository(session).add(actor_id, action, target, details)
