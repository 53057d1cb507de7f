"""Staff roles, checked against the database on every use, and the audit log."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.db.admin import AdminRepository, AuditQuery
from bot.db.console import ConsoleRepository
from bot.db.models import AuditEntry, StaffMember
from bot.db.repositories import AuditRepository, StaffRepository

ROLES = ("staff", "admin")
AUDIT_PAGE = 50


class StaffChangeRefused(Exception):
    """An admin may not remove themselves, nor leave the team without an admin."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # self | last_admin


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    pages: int
    names: dict[int, str] = field(default_factory=dict)  # staff id → name, where known


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
            member = await StaffRepository(session).get(user_id)
            if member is None:
                return False
            await _remove(session, actor_id, member)
            return True

    async def enlist(self, actor_id: int, user_id: int, role: str) -> bool:
        """From the console: add a new member; False (nothing changed) if they are one."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
        try:
            async with self._sessions.begin() as session:
                staff = StaffRepository(session)
                if await staff.get(user_id) is not None:
                    return False
                staff.add(StaffMember(user_id=user_id, role=role, added_by=actor_id))
                AuditRepository(session).add(actor_id, "staff_add", str(user_id), role)
        except IntegrityError:  # added by someone else at the same moment
            return False
        return True

    async def change_role(self, actor_id: int, user_id: int, role: str) -> StaffMember | None:
        """From the console: None if they are not staff (any more). The last admin stays one."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
        async with self._sessions.begin() as session:
            member = await StaffRepository(session).get(user_id)
            if member is None or member.role == role:
                return member
            if role != "admin" and await AdminRepository(session).admin_ids() == [user_id]:
                raise StaffChangeRefused("last_admin")
            member.role = role
            AuditRepository(session).add(actor_id, "staff_role", str(user_id), role)
            return member

    async def dismiss(self, actor_id: int, user_id: int) -> bool:
        """From the console: remove a member, never oneself nor the last admin."""
        if actor_id == user_id:
            raise StaffChangeRefused("self")
        async with self._sessions.begin() as session:
            member = await StaffRepository(session).get(user_id)
            if member is None:
                return False
            if member.role == "admin" and await AdminRepository(session).admin_ids() == [user_id]:
                raise StaffChangeRefused("last_admin")
            await _remove(session, actor_id, member)
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

    async def audit_log(self, query: AuditQuery, page: int = 0) -> AuditPage:
        """One page of the log, newest first, with the names of the staff it mentions."""
        page = max(page, 0)
        async with self._sessions() as session:
            entries, total = await AdminRepository(session).audit_page(query, page * AUDIT_PAGE,
                                                                       AUDIT_PAGE)
            names = {m.user_id: m.name for m in await StaffRepository(session).all() if m.name}
        return AuditPage(entries, total, page, max(1, -(-total // AUDIT_PAGE)), names)


async def _remove(session, actor_id: int | None, member: StaffMember) -> None:
    """The member goes, and so do their console sessions: they are out at once."""
    await StaffRepository(session).remove(member)
    await ConsoleRepository(session).end_sessions_of(member.user_id)
    AuditRepository(session).add(actor_id, "staff_remove", str(member.user_id))
