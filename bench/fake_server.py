"""The test suite's FakeTelegram, plus what a benchmark needs: reply timestamps and bounded memory.

Runs inside the harness's own event loop (no thread), so the simulated users and the server
share one loop: a reply is noticed the moment the server handles it, without thread hops.
"""
from __future__ import annotations

import asyncio
import copy
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, Callable

from tests.fakebot import FakeTelegram

Json = dict[str, Any]
# Calls that put something in front of the user; answerCallbackQuery only stops the spinner.
REPLY_METHODS = frozenset({"sendMessage", "editMessageText", "editMessageReplyMarkup",
                           "editMessageCaption", "sendDocument", "sendPhoto", "copyMessage",
                           "forwardMessage"})
# The stock call log keeps every call's parameters forever: 100,000 users would make it
# gigabytes. A short tail is enough for FakeTelegram's own timeout reports.
CALL_LOG_LIMIT = 2_000
ANSWERED_CALLBACKS_KEPT = 1_000

ReplyTest = Callable[[str, Json], bool]


@dataclass(eq=False)
class ReplyWaiter:
    """One offered update waiting for its answer in one chat."""

    until: ReplyTest | None
    done: asyncio.Future
    offered_at: float = 0.0
    first_reply_at: float | None = None
    message_id: int | None = None     # the message the latest reply sent or edited
    methods: list[str] = field(default_factory=list)


class BenchTelegram(FakeTelegram):
    def __init__(self, token: str) -> None:
        super().__init__(token=token, host="127.0.0.1")  # loopback only
        self._calls = deque(maxlen=CALL_LOG_LIMIT)  # type: ignore[assignment]
        self.calls_by_method: Counter[str] = Counter()
        self.failed_calls: Counter[str] = Counter()
        self.first_poll_at: float | None = None
        self.first_call_at: dict[str, float] = {}  # method → when the server first saw it
        self.last_call_at = 0.0  # the latest call other than getUpdates
        self.unexpected_replies = 0
        self.replies_by_chat_kind: Counter[str] = Counter()
        self._waiters: dict[int, ReplyWaiter] = {}
        # Update ids go on from where the last server of this run left off, as Telegram's do
        # for one bot: a bot restarted on its database takes a reused id for a re-delivery.
        self._next_update_id = time.time_ns() // 1_000

    # ------------------------------------------------------------ observing the bot

    async def _call(self, method: str, params: Json) -> Any:
        arrived = time.perf_counter()
        self.calls_by_method[method] += 1
        self.first_call_at.setdefault(method, arrived)
        if method != "getUpdates":
            self.last_call_at = arrived
        elif self.first_poll_at is None:
            self.first_poll_at = arrived
        result: Any = None
        try:
            result = await super()._call(method, params)
            if method == "answerCallbackQuery":
                self._forget_callback_query(str(params.get("callback_query_id")))
            return result
        except BaseException:
            self.failed_calls[method] += 1
            raise
        finally:
            if method in REPLY_METHODS:
                # After the call, so a waiter that reads the chat sees the new message; a
                # failed call reached the server too and still ends the wait.
                self._reply_arrived(params.get("chat_id"), method, params, result, arrived)

    def _reply_arrived(self, chat_id: Any, method: str, params: Json, result: Any,
                       arrived: float) -> None:
        try:
            chat_id = int(chat_id)
        except (TypeError, ValueError):
            return
        self.replies_by_chat_kind["private" if chat_id > 0 else "group"] += 1
        waiter = self._waiters.get(chat_id)
        if waiter is None:
            if chat_id > 0:
                self.unexpected_replies += 1
            return
        if waiter.first_reply_at is None:
            waiter.first_reply_at = arrived
        waiter.methods.append(method)
        message_id = result.get("message_id") if isinstance(result, dict) else None
        waiter.message_id = message_id or params.get("message_id") or waiter.message_id
        if waiter.until is None or waiter.until(method, params):
            del self._waiters[chat_id]
            if not waiter.done.done():
                waiter.done.set_result(arrived)

    def expect_reply(self, chat_id: int, until: ReplyTest | None = None) -> ReplyWaiter:
        """Register before offering the update; `until` says which reply ends the step
        (None: the first one)."""
        waiter = ReplyWaiter(until, asyncio.get_running_loop().create_future())
        self._waiters[chat_id] = waiter
        return waiter

    def give_up(self, chat_id: int) -> None:
        self._waiters.pop(chat_id, None)

    @property
    def calls(self) -> list[tuple[str, Json]]:
        with self._lock:  # a list, as FakeTelegram's callers slice it
            return copy.deepcopy(list(self._calls))

    # ------------------------------------------------------------ cheap reads for the users

    def bot_message(self, chat_id: int, message_id: int | None = None) -> Json | None:
        """The bot's message `message_id` in a chat, or its latest one; not copied, so read it
        and never change it (last_message() deep-copies the whole chat on every call)."""
        with self._lock:
            messages = self._messages.get(chat_id)
            if not messages:
                return None
            if message_id is not None:
                return messages.get(message_id)
            bot_id = self.bot_user["id"]
            for number in sorted(messages, reverse=True):
                if messages[number].get("from", {}).get("id") == bot_id:
                    return messages[number]
            return None

    # ------------------------------------------------------------ bounded memory

    def _forget_callback_query(self, query_id: str) -> None:
        """An answered query is never needed again: a second answer is refused as "query is
        too old" whether it is remembered or not. (The stock server keeps every one.)"""
        with self._lock:
            self._callback_queries.pop(query_id, None)
            self._callback_answered.discard(query_id)
            del self._answered_callbacks[:-ANSWERED_CALLBACKS_KEPT]

    def forget_user(self, user_id: int) -> None:
        """Drop a user and their chat. Only for a user whose every update was answered: the
        bot would fail with "chat not found" on an update it had yet to handle."""
        with self._lock:
            for table in (self._users, self._chats, self._messages, self._last_message_id,
                          self._reply_keyboards):
                table.pop(user_id, None)

    @property
    def pending_count(self) -> int:
        with self._lock:
            return len(self._updates)
