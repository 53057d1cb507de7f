"""Per-user flood limit: past the limit one warning, then silence for a while; others unaffected."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from bot.services.cache import BoundedCache


@dataclass
class _Window:
    times: deque = field(default_factory=deque)
    quiet_until: float = 0.0


class FloodGuard:
    OK, WARN, DROP = "ok", "warn", "drop"

    def __init__(self, limit: int = 20, window: float = 10.0, cooldown: float = 30.0,
                 max_users: int = 50_000) -> None:
        self.limit, self.window, self.cooldown = limit, window, cooldown
        self._users: BoundedCache[int, _Window] = BoundedCache(max_users)

    def check(self, user_id: int, now: float) -> str:
        state = self._users.get(user_id)
        if state is None:
            state = _Window()
            self._users.put(user_id, state)
        if now < state.quiet_until:
            return self.DROP
        times = state.times
        times.append(now)
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) > self.limit:
            state.quiet_until = now + self.cooldown
            times.clear()
            return self.WARN
        return self.OK
