"""Half-filled forms, kept in the database: every step is saved before the next screen shows,
so any process can take the next step and a crash loses nothing."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta

from bot.db.engine import Transactions
from bot.db.models import utcnow
from bot.db.repositories import DraftRecords
from bot.services.inbox import NOT_READ

# A draft nobody finished is not kept: it was never consented to.
DRAFT_LIFETIME = timedelta(hours=24)


@dataclass
class Flow:
    name: str
    step: str
    data: dict = field(default_factory=dict)


class FlowService:
    def __init__(self, transactions: Transactions) -> None:
        self._transactions = transactions

    async def get(self, user_id: int, stored: object = NOT_READ) -> Flow | None:
        """The user's draft; `stored`: the row as read when the update was claimed."""
        state = stored
        if state is NOT_READ:
            state = await self._transactions.run(lambda session: DraftRecords(session).get(user_id))
        if state is None or utcnow() - state.updated_at > DRAFT_LIFETIME:
            return None
        return Flow(state.flow, state.step, json.loads(state.data))

    async def save(self, user_id: int, flow: Flow) -> None:
        data, at = json.dumps(flow.data, ensure_ascii=False), utcnow()
        await self._transactions.run(
            lambda session: DraftRecords(session).put(user_id, flow.name, flow.step, data, at))

    async def clear(self, user_id: int) -> None:
        await self._transactions.run(lambda session: DraftRecords(session).delete(user_id))

    async def purge_stale(self) -> None:
        before = utcnow() - DRAFT_LIFETIME
        await self._transactions.run(lambda session: DraftRecords(session).delete_older_than(before))
