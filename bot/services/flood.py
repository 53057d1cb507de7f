"""Per-user flood limit over the updates the database holds, so every process counts alike.

Past the limit only the excess is dropped: the first dropped update gets one answer saying how
many seconds to wait, and as soon as the user slows down they are served again. The counts
come with the update when it is claimed (see Inbox), so checking costs no query.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from bot.db.models import utcnow
from bot.services.inbox import FLOOD_WINDOW, Recent


@dataclass(frozen=True)
class Verdict:
    serve: bool
    warn: bool = False
    wait_seconds: int = 0


SERVE = Verdict(True)


class FloodGuard:
    def __init__(self, limit: int = 20, window: timedelta = FLOOD_WINDOW) -> None:
        self.limit, self.window = limit, window

    def check(self, recent: Recent) -> Verdict:
        if recent.served < self.limit:
            return SERVE
        free_at = recent.oldest_served + self.window
        wait = max(1, math.ceil((free_at - utcnow()).total_seconds()))
        return Verdict(False, warn=recent.dropped == 0, wait_seconds=wait)
