"""Outgoing pace: each of Telegram's limits applied where Telegram applies it.

- A group or channel takes about 20 messages a minute: each has its own limiter (the staff
  group's cards queue there, nobody else's replies do).
- Telegram takes about 30 messages a second from one bot in all. Bulk sends (announcements,
  reminders: `rate_limit_args={"bulk": True}`) wait for room in that budget (`SendBudget`);
  every other new message takes its room without waiting, so a broadcast slows down while
  people are writing, and never crowds out the answers to them.
- A reply to someone who just wrote goes out at once: one chat takes short bursts, and the
  flood guard already bounds how fast one user can make the bot answer.
- Every 429 is honoured: its chat (or all bulk sends) waits `retry_after`, and the call is tried
  again, up to `max_retries` times.
"""
from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.warnings import PTBDeprecationWarning
from telegram.ext import BaseRateLimiter

from bot.services.cache import BoundedCache

log = logging.getLogger(__name__)

GROUP_MESSAGES_PER_MINUTE = 20
BULK_MESSAGES_PER_SECOND = 30
BULK = "bulk"


def retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB warns that it will become a timedelta: both are fine
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _chat_of(data: dict[str, Any]) -> int | str | None:
    chat_id = data.get("chat_id")
    try:
        return int(chat_id) if chat_id is not None else None
    except (TypeError, ValueError):
        return chat_id  # an @username: a channel or supergroup


def _is_group(chat: int | str | None) -> bool:
    return isinstance(chat, str) or (isinstance(chat, int) and chat < 0)


class SendBudget:
    """The bot's messages per second, as a token bucket holding a fifth of a second's worth
    (so no second takes much more than `per_second`). Bulk sends wait for a token, in turn;
    any other message takes one at once, leaving the bucket in debt (at most a second's
    worth) that the next bulk sends wait out."""

    def __init__(self, per_second: float) -> None:
        self.per_second = per_second
        self._capacity = max(1.0, per_second / 5)
        self._tokens = self._capacity
        self._updated = time.monotonic()
        self._turn = asyncio.Lock()  # first come, first served

    def _refill(self) -> None:
        now = time.monotonic()
        self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self.per_second)
        self._updated = now

    def take_now(self) -> None:
        self._refill()
        self._tokens = max(self._tokens - 1, -self.per_second)

    async def __aenter__(self) -> None:
        async with self._turn:
            while True:
                self._refill()
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self.per_second)

    async def __aexit__(self, *exc_info) -> None:
        return None


def _is_new_message(endpoint: str) -> bool:
    return endpoint.startswith(("send", "copy", "forward")) and endpoint != "sendChatAction"


class TelegramPacer(BaseRateLimiter[dict]):
    def __init__(self, bulk_per_second: float = BULK_MESSAGES_PER_SECOND,
                 max_retries: int = 3, max_chats: int = 10_000) -> None:
        self._bulk = SendBudget(bulk_per_second)
        self._groups: BoundedCache[int | str, AsyncLimiter] = BoundedCache(max_chats)
        self._paused_until: BoundedCache[int | str, float] = BoundedCache(max_chats)
        self._max_retries = max_retries

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    def _group_limiter(self, chat: int | str) -> AsyncLimiter:
        limiter = self._groups.get(chat)
        if limiter is None:
            limiter = AsyncLimiter(GROUP_MESSAGES_PER_MINUTE, 60)
            self._groups.put(chat, limiter)
        return limiter

    async def _wait_if_paused(self, key: int | str) -> None:
        until = self._paused_until.get(key)
        if until is not None and (delay := until - time.monotonic()) > 0:
            await asyncio.sleep(delay)

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, Any]], args: Any,
                              kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
                              rate_limit_args: dict | None) -> Any:
        chat = _chat_of(data)
        bulk = bool(rate_limit_args and rate_limit_args.get(BULK))
        pause_key = BULK if bulk else chat
        for attempt in range(self._max_retries + 1):
            if pause_key is not None:
                await self._wait_if_paused(pause_key)
            try:
                if bulk:
                    async with self._bulk:
                        return await self._send(chat, callback, args, kwargs)
                if _is_new_message(endpoint):
                    self._bulk.take_now()
                return await self._send(chat, callback, args, kwargs)
            except RetryAfter as exc:
                if attempt == self._max_retries:
                    raise
                delay = retry_after_seconds(exc) + 0.1
                log.info("Telegram asked to wait %.1f s before %s", delay, endpoint)
                if pause_key is not None:
                    self._paused_until.put(pause_key, time.monotonic() + delay)
                else:
                    await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _send(self, chat, callback, args, kwargs) -> Any:
        if _is_group(chat):
            async with self._group_limiter(chat):
                return await callback(*args, **kwargs)
        return await callback(*args, **kwargs)
