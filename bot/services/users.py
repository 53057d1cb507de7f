"""Who the user is and which locale they chose; a bounded cache spares a query per update."""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.db.models import User, utcnow
from bot.db.repositories import UserRepository
from bot.services.cache import BoundedCache

log = logging.getLogger(__name__)

LAST_SEEN_PRECISION = timedelta(minutes=5)
DATABASE_ERRORS = (OperationalError, DBAPIError, OSError, ConnectionError)
# Interactions of a visit the database could not record stay anonymous.
UNSAVED_PSEUDONYM = "unsaved"


@dataclass(frozen=True)
class UserProfile:
    id: int
    pseudonym: str
    locale: str | None
    last_seen: datetime
    is_new: bool = False


class UserService:
    def __init__(self, sessions: async_sessionmaker, cache_size: int = 10_000) -> None:
        self._sessions = sessions
        self._cache: BoundedCache[int, UserProfile] = BoundedCache(cache_size)

    def _remember(self, profile: UserProfile) -> UserProfile:
        self._cache.put(profile.id, replace(profile, is_new=False))
        return profile

    async def seen(self, user_id: int, language_code: str | None) -> UserProfile:
        """Record that the user is here; create them on first contact. With the database
        away, browsing goes on from memory: the last known profile, or a passing one."""
        now = utcnow()
        cached = self._cache.get(user_id)
        if cached is not None and now - cached.last_seen < LAST_SEEN_PRECISION:
            return cached
        try:
            return await self._record_visit(user_id, language_code, now)
        except DATABASE_ERRORS as exc:
            log.warning("database unavailable, user %s served from memory: %s", user_id, exc)
            return cached or UserProfile(user_id, UNSAVED_PSEUDONYM, None, now)

    async def _record_visit(self, user_id: int, language_code: str | None,
                            now: datetime) -> UserProfile:
        async with self._sessions.begin() as session:
            users = UserRepository(session)
            user = await users.get(user_id)
            is_new = user is None
            if user is None:
                user = User(id=user_id, pseudonym=secrets.token_hex(16), first_seen=now)
                users.add(user)
            user.last_seen = now
            user.language_code = language_code
            user.is_active = True
            profile = UserProfile(user.id, user.pseudonym, user.locale, now, is_new)
        return self._remember(profile)

    async def set_locale(self, user_id: int, locale: str) -> None:
        async with self._sessions.begin() as session:
            user = await UserRepository(session).get(user_id)
            if user is None:
                return
            user.locale = locale
            profile = UserProfile(user.id, user.pseudonym, locale, user.last_seen)
        self._remember(profile)

    async def mark_inactive(self, user_id: int) -> None:
        """The user blocked the bot; a later visit makes them active again."""
        async with self._sessions.begin() as session:
            user = await UserRepository(session).get(user_id)
            if user is not None:
                user.is_active = False
        self.forget(user_id)

    def cached_locale(self, user_id: int) -> str | None:
        cached = self._cache.get(user_id)
        return cached.locale if cached else None

    def forget(self, user_id: int) -> None:
        self._cache.pop(user_id, None)
