"""Half-filled forms kept in the database, so a restart in the middle loses nothing."""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.db.models import utcnow
from bot.db.repositories import FlowRepository
from bot.services.cache import MISSING, BoundedCache

# A draft nobody finished is not kept: it was never consented to.
DRAFT_LIFETIME = timedelta(hours=24)


@dataclass
class Flow:
    name: str
    step: str
    data: dict = field(default_factory=dict)


class FlowService:
    """Drafts live in the database; a bounded write-through cache spares the query that every
    plain message would otherwise cost. Only the one polling process writes drafts."""

    def __init__(self, sessions: async_sessionmaker, cache_size: int = 10_000) -> None:
        self._sessions = sessions
        self._cache: BoundedCache[int, tuple[Flow, datetime] | None] = BoundedCache(cache_size)

    async def get(self, user_id: int) -> Flow | None:
        cached = self._cache.get(user_id, MISSING)
        if cached is MISSING:
            async with self._sessions() as session:
                state = await FlowRepository(session).get(user_id)
            cached = None if state is None else (
                Flow(state.flow, state.step, json.loads(state.data)), state.updated_at)
            self._cache.put(user_id, cached)
        if cached is None or utcnow() - cached[1] > DRAFT_LIFETIME:
            return None
        flow = cached[0]
        return Flow(flow.name, flow.step, copy.deepcopy(flow.data))

    async def save(self, user_id: int, flow: Flow) -> None:
        async with self._sessions.begin() as session:
            await FlowRepository(session).save(user_id, flow.name, flow.step,
                                               json.dumps(flow.data, ensure_ascii=False))
        self._cache.put(user_id, (Flow(flow.name, flow.step, copy.deepcopy(flow.data)), utcnow()))

    async def clear(self, user_id: int) -> None:
        async with self._sessions.begin() as session:
            await FlowRepository(session).delete(user_id)
        self._cache.put(user_id, None)

    def forget(self, user_id: int) -> None:
        """Another service ended the draft in its own transaction."""
        self._cache.pop(user_id)

    async def purge_stale(self) -> None:
        async with self._sessions.begin() as session:
            await FlowRepository(session).delete_older_than(utcnow() - DRAFT_LIFETIME)
