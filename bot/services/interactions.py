"""The interaction log, written in batches so logging never slows an answer down."""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.db.engine import DATABASE_ERRORS
from bot.db.models import utcnow
from bot.db.repositories import InteractionRepository

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InteractionRecord:
    user_key: str
    kind: str  # command, view, page, language, unknown, search, ...
    locale: str
    topic_key: str | None = None
    query: str | None = None
    result_count: int | None = None
    created_at: datetime = field(default_factory=utcnow)


class InteractionLog:
    """Buffers records and writes them together when the bot flushes (every second, users
    first, so no record is written before its user); a failed write keeps them for the next
    try."""

    def __init__(self, sessions: async_sessionmaker, max_pending: int = 100_000) -> None:
        self._sessions = sessions
        self._pending: list[InteractionRecord] = []
        self._max_pending = max_pending
        self.written = 0

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def record(self, record: InteractionRecord) -> None:
        self._pending.append(record)
        if len(self._pending) > self._max_pending:
            dropped = len(self._pending) - self._max_pending
            del self._pending[:dropped]
            log.error("interaction log backlog full: %d oldest records dropped", dropped)

    async def flush(self) -> int:
        if not self._pending:
            return 0
        batch, self._pending = self._pending, []
        try:
            async with self._sessions.begin() as session:
                await InteractionRepository(session).add_many([asdict(r) for r in batch])
        except DATABASE_ERRORS as exc:
            self._pending[:0] = batch
            log.warning("interaction log write failed, %d kept for retry: %s", len(batch), exc)
            return 0
        self.written += len(batch)
        return len(batch)
