"""Half-filled forms, kept in the database so a restart in the middle loses nothing."""
from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.db.engine import DATABASE_ERRORS, Reader
from bot.db.models import utcnow
from bot.db.repositories import FlowRepository, find_draft
from bot.services.cache import MISSING, BoundedCache

log = logging.getLogger(__name__)

# A draft nobody finished is not kept: it was never consented to.
DRAFT_LIFETIME = timedelta(hours=24)


@dataclass
class Flow:
    name: str
    step: str
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Saved:
    flow: Flow
    at: datetime


class FlowService:
    """Drafts are kept in memory (bounded) and written to the database by `flush`, which the
    bot runs every second and at shutdown: a restart loses nothing, a crash at most the last
    second's steps, and a step of the form costs no transaction of its own. Only the one
    polling process writes drafts."""

    def __init__(self, sessions: async_sessionmaker, reader: Reader,
                 cache_size: int = 10_000) -> None:
        self._sessions = sessions
        self._reader = reader
        self._cache: BoundedCache[int, Saved | None] = BoundedCache(cache_size)
        # Per user, what the next flush writes: the draft, or None to delete it.
        self._pending: dict[int, Saved | None] = {}
        self._flushing = asyncio.Lock()

    async def get(self, user_id: int) -> Flow | None:
        saved = self._cache.get(user_id, MISSING)
        if saved is MISSING:
            saved = self._pending.get(user_id, MISSING)
        if saved is MISSING:
            state = await self._reader.run(partial(find_draft, user_id=user_id))
            saved = None if state is None else Saved(
                Flow(state.flow, state.step, json.loads(state.data)), state.updated_at)
            self._cache.put(user_id, saved)
        if saved is None or utcnow() - saved.at > DRAFT_LIFETIME:
            return None
        return copy.deepcopy(saved.flow)

    async def save(self, user_id: int, flow: Flow) -> None:
        self._keep(user_id, Saved(copy.deepcopy(flow), utcnow()))

    async def clear(self, user_id: int) -> None:
        self._keep(user_id, None)

    def know_none(self, user_id: int) -> None:
        self._cache.put(user_id, None)

    @contextlib.asynccontextmanager
    async def ending(self, user_id: int):
        """Around another service's transaction that deletes the user's draft (filing it):
        no write of the draft may land after that delete, and if the transaction fails the
        draft is still kept."""
        async with self._flushing:
            unsaved = self._pending.pop(user_id, MISSING)
            try:
                yield
            except BaseException:
                if unsaved is not MISSING:
                    self._pending.setdefault(user_id, unsaved)
                raise
        self._cache.pop(user_id)

    def forget(self, user_id: int) -> None:
        """The user's data was erased: nothing of their draft is kept or written back."""
        self._cache.pop(user_id)
        self._pending.pop(user_id, None)

    async def flush(self) -> int:
        async with self._flushing:
            if not self._pending:
                return 0
            batch, self._pending = self._pending, {}
            try:
                async with self._sessions.begin() as session:
                    await FlowRepository(session).write(
                        {user_id: None if saved is None else (
                            saved.flow.name, saved.flow.step,
                            json.dumps(saved.flow.data, ensure_ascii=False), saved.at)
                         for user_id, saved in batch.items()})
            except DATABASE_ERRORS as exc:
                for user_id, saved in batch.items():  # newer steps since then win
                    self._pending.setdefault(user_id, saved)
                log.warning("saving drafts failed, %d kept for retry: %s", len(batch), exc)
                return 0
            return len(batch)

    async def purge_stale(self) -> None:
        async with self._sessions.begin() as session:
            await FlowRepository(session).delete_older_than(utcnow() - DRAFT_LIFETIME)

    def _keep(self, user_id: int, saved: Saved | None) -> None:
        self._cache.put(user_id, saved)
        self._pending.pop(user_id, None)
        self._pending[user_id] = saved
