"""The quick exit: the recent messages of a private chat, the bot's and the user's, which
Telegram lets a bot delete for 48 hours. They are written with the update that received or
sent them (see Unit.record_message and bot.tracking), listed here for /hide, and forgotten once
deleted or too old to delete."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.db.models import utcnow
from bot.db.repositories import ChatMessageRepository

# Telegram: "a message can only be deleted if it was sent less than 48 hours ago".
DELETABLE_FOR = timedelta(hours=48)


class QuickExitService:
    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions

    async def record(self, chat_id: int, message_id: int) -> None:
        """A message sent outside any update (a job): written at once."""
        async with self._sessions.begin() as session:
            await ChatMessageRepository(session).add(
                [{"chat_id": chat_id, "message_id": message_id, "sent_at": utcnow()}])

    async def deletable(self, chat_id: int) -> list[int]:
        async with self._sessions() as session:
            return await ChatMessageRepository(session).since(chat_id, utcnow() - DELETABLE_FOR)

    async def forget(self, chat_id: int, message_ids: list[int] | None = None) -> None:
        """These messages of the chat (deleted), or all of them (the user erased their data)."""
        async with self._sessions.begin() as session:
            await ChatMessageRepository(session).delete(chat_id, message_ids)

    async def purge(self) -> int:
        """Messages too old to delete are not kept."""
        async with self._sessions.begin() as session:
            return await ChatMessageRepository(session).delete_before(utcnow() - DELETABLE_FOR)
