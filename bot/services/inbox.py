"""Updates from Telegram, kept in the database from arrival until handled.

An update is acknowledged to Telegram only once it is stored here; any process may then claim
it. One user's updates are claimed one at a time, in order, whichever process received them,
and an update whose process died is claimed again when its lease runs out. What an update
leaves behind for the record (its interactions, the user's last visit) is written in the
same transaction that marks it done, so a crash never logs half an update.
"""
from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.db.engine import Transactions
from bot.db.models import utcnow
from bot.db.repositories import InboxRepository
from bot.services.interactions import InteractionRecord
from bot.services.requests import AWAITING_WINDOW

log = logging.getLogger(__name__)

# A process renews its claims well within this; one that died loses them after it.
LEASE = timedelta(seconds=20)
# Handled updates are kept this long: Telegram may deliver one again, and floods are
# counted over them.
KEEP_FINISHED = timedelta(minutes=15)
FLOOD_WINDOW = timedelta(seconds=10)
NOT_READ = object()


def new_worker_id() -> str:
    return secrets.token_hex(8)


def user_key_of(payload: dict) -> int | None:
    """Whose update this is, read from the raw update: the sender, else the chat."""
    for value in payload.values():
        if not isinstance(value, dict):
            continue
        sender = value.get("from") or value.get("user")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return sender["id"]
        chat = value.get("chat") or (value.get("message") or {}).get("chat")
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return chat["id"]
    return None


@dataclass(frozen=True)
class Recent:
    """A user's other updates in the flood window when this one was claimed: how many were
    served, the oldest of them, and how many were dropped."""

    served: int = 0
    oldest_served: datetime | None = None
    dropped: int = 0


@dataclass
class Unit:
    """One update being handled, and what is written when it is done."""

    update_id: int
    user_key: int | None
    recent: Recent = field(default_factory=Recent)
    # The user's row as it was when the update was claimed (None: not a user yet), read in
    # the claim's transaction so handling starts without another query; NOT_READ otherwise.
    stored_user: object = NOT_READ
    # Likewise the user's draft (a FlowState row or None) and the case awaiting their answer
    # (its id or None): a plain message needs both, and reading them here spares the update
    # two more transactions.
    stored_flow: object = NOT_READ
    awaiting_request: object = NOT_READ
    status: str = "done"  # or "dropped" by the flood guard
    interactions: list[InteractionRecord] = field(default_factory=list)
    # (user id, column values) to write with the update, e.g. the last visit.
    user_changes: tuple[int, dict] | None = None
    # (chat id, message id) of the private-chat messages this update received or sent, kept
    # for the quick exit (see bot.services.quick_exit).
    messages: list[tuple[int, int]] = field(default_factory=list)
    forgotten: bool = False

    def change_user(self, user_id: int, **values: object) -> None:
        if self.user_changes is not None and self.user_changes[0] == user_id:
            values = {**self.user_changes[1], **values}
        self.user_changes = (user_id, values)

    def record_message(self, chat_id: int, message_id: int) -> None:
        if not self.forgotten:
            self.messages.append((chat_id, message_id))

    def forget_user(self) -> None:
        """The user's data was erased: nothing of this update is written about them."""
        self.interactions.clear()
        self.user_changes = None
        self.messages.clear()
        self.forgotten = True


@dataclass(frozen=True)
class Claimed:
    unit: Unit
    payload: dict


class Inbox:
    """Stores, finishes and claims updates. Stores and finishes wait for their commit (no
    update is acknowledged or counted done before it), and those that arrive while a commit
    runs go together in the next one: a group commit, as databases do themselves, so a busy
    process writes a few transactions a second per crowd, not several per update. Each
    commit also claims what is ready, up to the room `on_claimed` has."""

    def __init__(self, transactions: Transactions, worker: str | None = None,
                 flood_window: timedelta = FLOOD_WINDOW) -> None:
        self._transactions = transactions
        self.worker = worker or new_worker_id()
        self._flood_window = flood_window
        self._rows: list[dict] = []
        self._finished: list[Unit] = []
        self._waiting: list[asyncio.Future] = []
        self._committer: asyncio.Task | None = None
        # Set by whoever handles updates: how many it can take now, and where they go.
        self.room: Callable[[], int] = lambda: 0
        self.on_claimed: Callable[[list[Claimed]], None] = lambda claimed: None

    async def put(self, payloads: list[dict]) -> None:
        """Store updates; returns after the commit. A re-delivered update is stored once."""
        now = utcnow()
        self._rows.extend({"update_id": payload["update_id"], "user_key": user_key_of(payload),
                           "payload": json.dumps(payload, ensure_ascii=False),
                           "status": "queued", "received_at": now} for payload in payloads)
        await self._committed()

    async def finish(self, unit: Unit) -> None:
        """Mark the update done with what it leaves for the record; returns after the commit."""
        self._finished.append(unit)
        await self._committed()

    async def claim(self, limit: int) -> list[Claimed]:
        return await self._transactions.run(lambda session: self._claim(session, limit))

    async def _committed(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_while_waiting())
        await waiter

    async def _commit_while_waiting(self) -> None:
        while self._waiting:
            rows, finished, waiting = self._rows, self._finished, self._waiting
            self._rows, self._finished, self._waiting = [], [], []
            room = self.room()
            try:
                claimed = await self._transactions.run(
                    partial(self._write_and_claim, rows=rows, finished=finished, room=room))
            except Exception as exc:  # noqa: BLE001 - every waiter learns it, none is lost
                for waiter in waiting:
                    if not waiter.done():
                        waiter.set_exception(exc)
                continue
            for waiter in waiting:
                if not waiter.done():
                    waiter.set_result(None)
            self.on_claimed(claimed)

    # The synchronous part: each runs inside one transaction (see Transactions).

    def _write_and_claim(self, session: Session, rows: list[dict], finished: list[Unit],
                         room: int) -> list[Claimed]:
        inbox = InboxRepository(session)
        if rows:
            inbox.add_new(rows)
        if finished:
            self._finish(inbox, finished)
        return self._claim(session, room)

    def _finish(self, inbox: InboxRepository, finished: list[Unit]) -> None:
        # An update whose lease ran out and that another process took is not finished here.
        still_ours = inbox.finish_many(self.worker, [(unit.update_id, unit.status)
                                                     for unit in finished])
        mine = [unit for unit in finished if unit.update_id in still_ours]
        for unit in finished:
            if unit.update_id not in still_ours:
                log.warning("update %s was taken over by another process", unit.update_id)
        inbox.add_interactions([asdict(record) for unit in mine for record in unit.interactions])
        now = utcnow()
        inbox.add_chat_messages([{"chat_id": chat_id, "message_id": message_id, "sent_at": now}
                                 for unit in mine for chat_id, message_id in unit.messages])
        for unit in mine:
            if unit.user_changes is not None:
                inbox.change_user(*unit.user_changes)

    def _claim(self, session: Session, limit: int) -> list[Claimed]:
        if limit <= 0:
            return []
        now = utcnow()
        inbox = InboxRepository(session)
        claimed = [(update_id, key, json.loads(payload)) for update_id, key, payload
                   in inbox.claim(self.worker, now, now + LEASE, limit) if payload]
        keys = sorted({key for _, key, _ in claimed if key is not None})
        recent = inbox.recent(keys, now - self._flood_window) if keys else []
        users = inbox.users(keys) if keys else {}
        # Only a plain message asks for the draft and the awaited case (buttons read it when
        # they need it).
        writing = sorted({key for _, key, payload in claimed if key is not None and "message" in payload})
        drafts = inbox.drafts(writing) if writing else {}
        awaiting = inbox.awaiting(writing, now - AWAITING_WINDOW) if writing else {}
        return [Claimed(Unit(update_id, key, _recent_of(recent, key), users.get(key),
                             drafts.get(key, NOT_READ if key not in writing else None),
                             awaiting.get(key, NOT_READ if key not in writing else None)),
                        payload) for update_id, key, payload in claimed]

    async def extend_leases(self) -> None:
        until = utcnow() + LEASE
        await self._transactions.run(
            lambda session: InboxRepository(session).extend_leases(self.worker, until))

    async def purge(self) -> int:
        before = utcnow() - KEEP_FINISHED
        return await self._transactions.run(
            lambda session: InboxRepository(session).delete_finished_before(before))


def _recent_of(rows: list[tuple], user_key: int | None) -> Recent:
    """The counts besides the update just claimed, which is the user's one "claimed" row."""
    served, oldest, dropped = -1, None, 0
    for key, status, count, first in rows:
        if key != user_key:
            continue
        if status == "dropped":
            dropped += count
        elif status in ("claimed", "done"):
            served += count
            oldest = first if oldest is None else min(oldest, first)
    return Recent(max(served, 0), oldest, dropped)
