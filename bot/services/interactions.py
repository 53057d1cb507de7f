"""What a user did, for the record: written with the update it belongs to (see inbox.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.db.models import utcnow


@dataclass(frozen=True)
class InteractionRecord:
    user_key: str
    kind: str  # command, view, page, language, unknown, search, ...
    locale: str
    topic_key: str | None = None
    query: str | None = None
    result_count: int | None = None
    created_at: datetime = field(default_factory=utcnow)
