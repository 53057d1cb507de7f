"""Who the user is and which locale they chose: cached, and written in batches."""
from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.db.engine import DATABASE_ERRORS, Reader
from bot.db.models import utcnow
from bot.db.repositories import UserRepository, find_user
from bot.services.cache import BoundedCache

log = logging.getLogger(__name__)

LAST_SEEN_PRECISION = timedelta(minutes=5)
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
    """Reads go to a bounded cache first; writes (a new user, a visit, a language, a block)
    are kept in memory and saved together by `flush`, which the bot runs every second like
    the interaction log's. A crowd of new users then costs one statement a second instead of
    a transaction each, queued behind one another on SQLite's single writer."""

    def __init__(self, sessions: async_sessionmaker, reader: Reader,
                 cache_size: int = 10_000, max_pending: int = 100_000) -> None:
        self._sessions = sessions
        self._reader = reader
        self._cache: BoundedCache[int, UserProfile] = BoundedCache(cache_size)
        # Per user, the row the next flush writes; bounded like the interaction log's backlog.
        self._pending: dict[int, dict] = {}
        self._saving: dict[int, dict] = {}  # the batch a flush is writing right now
        self._flushing = asyncio.Lock()
        self._max_pending = max_pending

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _remember(self, profile: UserProfile) -> UserProfile:
        self._cache.put(profile.id, replace(profile, is_new=False))
        return profile

    async def seen(self, user_id: int, language_code: str | None) -> UserProfile:
        """Record that the user is here; create them on first contact. With the database
        away, browsing goes on from memory: the last known profile, or a passing one."""
        now = utcnow()
        known = self._cache.get(user_id)
        if known is not None and now - known.last_seen < LAST_SEEN_PRECISION:
            return known
        if known is None:
            try:
                known = await self._known(user_id)
            except DATABASE_ERRORS as exc:
                log.warning("database unavailable, user %s served from memory: %s", user_id, exc)
                return UserProfile(user_id, UNSAVED_PSEUDONYM, None, now)
        if known is None:
            profile = UserProfile(user_id, secrets.token_hex(16), None, now, is_new=True)
        else:
            profile = replace(known, last_seen=now)
        self._write(profile, language_code=language_code, is_active=True)
        return self._remember(profile)

    async def set_locale(self, user_id: int, locale: str) -> None:
        known = self._cache.get(user_id) or await self._known(user_id)
        if known is None:
            return
        profile = replace(known, locale=locale)
        self._write(profile)
        self._remember(profile)

    async def mark_inactive(self, user_id: int) -> None:
        """The user blocked the bot; a later visit makes them active again."""
        known = self._cache.pop(user_id) or await self._known(user_id)
        if known is not None:
            self._write(known, is_active=False)

    def cached_locale(self, user_id: int) -> str | None:
        cached = self._cache.get(user_id)
        return cached.locale if cached else None

    def forget(self, user_id: int) -> None:
        """The user's data was erased: nothing about them is kept or written back."""
        self._cache.pop(user_id, None)
        self._pending.pop(user_id, None)

    async def flush(self) -> int:
        async with self._flushing:  # a second flush returns once the first one's rows are in
            if not self._pending:
                return 0
            batch = self._saving = self._pending
            self._pending = {}
            try:
                async with self._sessions.begin() as session:
                    await UserRepository(session).save_visits(list(batch.values()))
            except DATABASE_ERRORS as exc:
                self._requeue(batch)
                log.warning("saving users failed, %d kept for retry: %s", len(batch), exc)
                return 0
            finally:
                self._saving = {}
            return len(batch)

    async def _known(self, user_id: int) -> UserProfile | None:
        """A user not in the cache: from the rows waiting to be written, else the database."""
        row = self._pending.get(user_id) or self._saving.get(user_id)
        if row is None:
            user = await self._reader.run(partial(find_user, user_id=user_id))
            if user is None:
                return None
            row = {"id": user.id, "pseudonym": user.pseudonym, "locale": user.locale,
                   "last_seen": user.last_seen}
        return UserProfile(row["id"], row["pseudonym"], row["locale"], row["last_seen"])

    def _write(self, profile: UserProfile, language_code: str | None = None,
               is_active: bool | None = None) -> None:
        row = self._pending.pop(user_id := profile.id, None) or {
            "id": user_id, "first_seen": profile.last_seen, "language_code": None,
            "is_active": True}
        row.update(pseudonym=profile.pseudonym, locale=profile.locale,
                   last_seen=profile.last_seen)
        if language_code is not None:
            row["language_code"] = language_code
        if is_active is not None:
            row["is_active"] = is_active
        self._pending[user_id] = row  # re-inserted last: the oldest rows are first
        if len(self._pending) > self._max_pending:
            del self._pending[next(iter(self._pending))]
            log.error("user backlog full: the oldest unsaved visit was dropped")

    def _requeue(self, batch: dict[int, dict]) -> None:
        """A failed write goes back before what came since; newer values win."""
        for user_id, newer in self._pending.items():
            older = batch.pop(user_id, None)
            batch[user_id] = newer if older is None else {
                **older, **newer, "first_seen": min(older["first_seen"], newer["first_seen"]),
                "language_code": newer["language_code"] or older["language_code"]}
        self._pending = batch
