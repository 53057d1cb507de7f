"""Who is at the console: one-time links from /console, the Telegram Login Widget, sessions.

Only SHA-256 digests of links and session cookies are stored, so a copy of the database
opens no session. The role is read from staff_members on every request: a member removed is
out at once, and their sessions are ended too.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.db.console import ConsoleRepository
from bot.db.models import ConsoleLoginAttempt, ConsoleLoginLink, ConsoleSession, utcnow
from bot.db.repositories import AuditRepository, StaffRepository

LINK_LIFETIME = timedelta(minutes=5)
# Telegram's widget signs auth_date: older than this is refused (a replayed login).
WIDGET_LIFETIME = timedelta(hours=1)
# Failed logins per client in the window before it must wait.
MAX_FAILURES = 10
FAILURE_WINDOW = timedelta(minutes=15)
NAME_LIMIT = 64


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Who:
    """The staff member behind a request, as the database says now."""

    staff_id: int
    role: str
    name: str
    locale: str | None
    csrf_token: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class LoginRefused(Exception):
    """The link or widget data is wrong, used, or expired; or the client tried too often."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # invalid | too_many


class ConsoleAuth:
    def __init__(self, sessions: async_sessionmaker, session_hours: float) -> None:
        self._sessions = sessions
        self.session_lifetime = timedelta(hours=session_hours)

    async def issue_link(self, staff_id: int, name: str | None) -> str | None:
        """A one-time login token for a staff member (None for anyone else); their name is
        kept so colleagues see who holds a case."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        async with self._sessions.begin() as session:
            member = await StaffRepository(session).get(staff_id)
            if member is None:
                return None
            if name:
                member.name = name[:NAME_LIMIT]
            ConsoleRepository(session).add(ConsoleLoginLink(
                token_hash=digest(token), staff_id=staff_id, created_at=now,
                expires_at=now + LINK_LIFETIME))
            AuditRepository(session).add(staff_id, "console_link")
        return token

    async def redeem_link(self, token: str, client: str) -> str:
        """A new session's cookie value for a valid link, which is then used up."""
        now = utcnow()
        async with self._sessions.begin() as session:
            repository = ConsoleRepository(session)
            await self._refuse_if_too_many(repository, client, now)
            staff_id = await repository.use_link(digest(token), now) if token else None
            cookie = self._open_session(session, staff_id, client, now, "console_login_link")
        return _or_refuse(cookie)

    async def widget_login(self, fields: dict[str, str], bot_token: str, client: str) -> str:
        """A session for data signed by Telegram's Login Widget (as Telegram documents: the
        sorted key=value lines, HMAC-SHA-256 keyed with SHA-256 of the bot token)."""
        now = utcnow()
        async with self._sessions.begin() as session:
            repository = ConsoleRepository(session)
            await self._refuse_if_too_many(repository, client, now)
            staff_id = widget_user(fields, bot_token, now)
            if staff_id is not None and await StaffRepository(session).get(staff_id) is None:
                staff_id = None
            cookie = self._open_session(session, staff_id, client, now, "console_login_widget")
        return _or_refuse(cookie)

    async def _refuse_if_too_many(self, repository: ConsoleRepository, client: str,
                                  now: datetime) -> None:
        if await repository.failures_since(client, now - FAILURE_WINDOW) >= MAX_FAILURES:
            raise LoginRefused("too_many")

    def _open_session(self, session, staff_id: int | None, client: str, now: datetime,
                      action: str) -> str | None:
        """Count the attempt; a session's cookie if it succeeded. A failed one is committed
        too: it counts against the client."""
        repository = ConsoleRepository(session)
        repository.add(ConsoleLoginAttempt(client=client, succeeded=staff_id is not None, at=now))
        if staff_id is None:
            AuditRepository(session).add(None, "console_login_refused")
            return None
        cookie = secrets.token_urlsafe(32)
        repository.add(ConsoleSession(token_hash=digest(cookie), staff_id=staff_id,
                                      csrf_token=secrets.token_urlsafe(32), created_at=now,
                                      expires_at=now + self.session_lifetime))
        AuditRepository(session).add(staff_id, action)
        return cookie

    async def who(self, cookie: str | None) -> Who | None:
        """The member behind a session cookie, or None (no session, expired, or no longer
        staff)."""
        if not cookie:
            return None
        async with self._sessions() as session:
            row = await ConsoleRepository(session).live_session(digest(cookie), utcnow())
            member = await StaffRepository(session).get(row.staff_id) if row else None
            if member is None:
                return None
            return Who(member.user_id, member.role, member.name or str(member.user_id),
                       member.console_locale, row.csrf_token)

    async def logout(self, cookie: str, staff_id: int) -> None:
        async with self._sessions.begin() as session:
            await ConsoleRepository(session).end_session(digest(cookie))
            AuditRepository(session).add(staff_id, "console_logout")

    async def set_locale(self, staff_id: int, locale: str) -> None:
        async with self._sessions.begin() as session:
            member = await StaffRepository(session).get(staff_id)
            if member is not None:
                member.console_locale = locale

    async def purge(self) -> None:
        now = utcnow()
        async with self._sessions.begin() as session:
            await ConsoleRepository(session).purge(now, now - FAILURE_WINDOW)


def _or_refuse(cookie: str | None) -> str:
    if cookie is None:
        raise LoginRefused("invalid")
    return cookie


def widget_user(fields: dict[str, str], bot_token: str, now: datetime) -> int | None:
    """The Telegram user id in Login Widget data, if its hash and auth_date are good."""
    received = fields.get("hash", "")
    checked = "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")
    secret = hashlib.sha256(bot_token.encode()).digest()
    expected = hmac.new(secret, checked.encode(), hashlib.sha256).hexdigest()
    if not received or not hmac.compare_digest(expected, received):
        return None
    try:
        signed_at = datetime.fromtimestamp(int(fields.get("auth_date", "")), now.tzinfo)
        user_id = int(fields.get("id", ""))
    except (ValueError, OverflowError, OSError):
        return None
    if not now - WIDGET_LIFETIME <= signed_at <= now + timedelta(minutes=5):
        return None
    return user_id


def client_key(address: str | None) -> str:
    """What login attempts are counted under: a digest, so no address is stored."""
    return digest(f"console-client:{address or '-'}")
