"""Who the user is and which locale they chose: read from the database on every update."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.db.engine import DATABASE_ERRORS, Transactions
from bot.db.models import User, utcnow
from bot.db.repositories import UserRecords
from bot.services.inbox import NOT_READ

# A visit is written at most this often per user: "last seen" is for retention, not tracking.
LAST_SEEN_PRECISION = timedelta(minutes=5)


@dataclass(frozen=True)
class UserProfile:
    id: int
    pseudonym: str
    locale: str | None
    last_seen: datetime
    is_new: bool = False
    # Columns to bring up to date when the update is done (the visit), or None.
    changes: dict | None = None
    # The country they are in or going to: its topics first (None: not told, all countries).
    country: str | None = None


def _profile(user: User, is_new: bool = False, changes: dict | None = None) -> UserProfile:
    return UserProfile(user.id, user.pseudonym, user.locale, user.last_seen, is_new, changes,
                       country=user.country)


class UserService:
    """Every read and write of a user row runs in one transaction of `Transactions` (on
    SQLite the one connection that also stores the updates, so none waits for another)."""

    def __init__(self, transactions: Transactions) -> None:
        self._transactions = transactions

    async def seen(self, user_id: int, language_code: str | None,
                   stored: object = NOT_READ) -> UserProfile:
        """The user as stored (`stored`: as read when the update was claimed), created on
        first contact; `changes` holds what this visit updates (written with the update, see
        Inbox.finish)."""
        now = utcnow()
        user = stored
        if user is NOT_READ:
            user = await self._transactions.run(lambda session: UserRecords(session).get(user_id))
        if user is None:
            return await self._create(user_id, language_code, now)
        changes = {}
        if now - user.last_seen >= LAST_SEEN_PRECISION:
            changes["last_seen"] = now
        if not user.is_active:
            changes["is_active"] = True
        if language_code and language_code != user.language_code:
            changes["language_code"] = language_code
        return _profile(user, changes=changes or None)

    async def _create(self, user_id: int, language_code: str | None, now: datetime) -> UserProfile:
        row = {"id": user_id, "pseudonym": secrets.token_hex(16), "locale": None,
               "language_code": language_code, "is_active": True, "first_seen": now,
               "last_seen": now}

        def create(session: Session) -> User:
            users = UserRecords(session)
            users.add_if_new(row)
            return users.get(user_id)

        user = await self._transactions.run(create)
        return _profile(user, is_new=user.pseudonym == row["pseudonym"])

    async def stored_locale(self, user_id: int) -> str | None:
        """The user's locale, or None when unknown or the database is away (error replies)."""
        try:
            user = await self._transactions.run(lambda session: UserRecords(session).get(user_id))
        except DATABASE_ERRORS:
            return None
        return user.locale if user else None

    async def set_locale(self, user_id: int, locale: str) -> None:
        await self._change(user_id, locale=locale)

    async def mark_inactive(self, user_id: int) -> None:
        """The user blocked the bot; a later visit makes them active again."""
        await self._change(user_id, is_active=False)

    async def take_unanswered(self, user_id: int) -> str | None:
        def take(session: Session) -> str | None:
            users = UserRecords(session)
            user = users.get(user_id)
            text = user.last_unanswered if user else None
            if text is not None:
                users.change(user_id, last_unanswered=None)
            return text

        return await self._transactions.run(take)

    async def _change(self, user_id: int, **values: object) -> None:
        await self._transactions.run(lambda session: UserRecords(session).change(user_id, **values))
