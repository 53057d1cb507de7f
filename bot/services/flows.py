"""Half-filled forms, kept in the database: every step is saved before the next screen shows,
so any process can take the next step and a crash loses nothing."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.db.models import utcnow
from bot.db.repositories import FlowRepository

# A draft nobody finished is not kept: it was never consented to.
DRAFT_LIFETIME = timedelta(hours=24)


@dataclass
class Flow:
    name: str
    step: str
    data: dict = field(default_factory=dict)


class FlowService:
    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions

    async def get(self, user_id: int) -> Flow | None:
        async with self._sessions() as session:
            state = await FlowRepository(session).get(user_id)
        if state is None or utcnow() - state.updated_at > DRAFT_LIFETIME:
            return None
        return Flow(state.flow, state.step, json.loads(state.data))

    async def save(self, user_id: int, flow: Flow) -> None:
        async with self._sessions.begin() as session:
            await FlowRepository(session).put(user_id, flow.name, flow.step,
                                              json.dumps(flow.data, ensure_ascii=False), utcnow())

    async def clear(self, user_id: int) -> None:
        async with self._sessions.begin() as session:
            await FlowRepository(session).delete(user_id)

    async def purge_stale(self) -> None:
        async with self._sessions.begin() as session:
            await FlowRepository(session).delete_older_than(utcnow() - DRAFT_LIFETIME)
