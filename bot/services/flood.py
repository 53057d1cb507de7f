"""Per-user flood limit: past the limit one warning, then silence for a while; others unaffected."""
from __future__ import annotations

from bot.services.cache import BoundedCache


class _Window:
    """Per user: when the current counting window began, how many updates it has seen, and
    until when the user is silenced. Three numbers, so many users cost little memory."""

    __slots__ = ("started", "count", "quiet_until")

    def __init__(self, now: float) -> None:
        self.started, self.count, self.quiet_until = now, 0, 0.0


class FloodGuard:
    OK, WARN, DROP = "ok", "warn", "drop"

    def __init__(self, limit: int = 20, window: float = 10.0, cooldown: float = 30.0,
                 max_users: int = 10_000) -> None:
        self.limit, self.window, self.cooldown = limit, window, cooldown
        self._users: BoundedCache[int, _Window] = BoundedCache(max_users)

    def check(self, user_id: int, now: float) -> str:
        state = self._users.get(user_id)
        if state is None:
            state = _Window(now)
            self._users.put(user_id, state)
        if now < state.quiet_until:
            return self.DROP
        if now - state.started >= self.window:
            state.started, state.count = now, 0
        state.count += 1
        if state.count > self.limit:
            state.quiet_until = now + self.cooldown
            state.started, state.count = state.quiet_until, 0
            return self.WARN
        return self.OK
