"""What the user can see and erase about themselves, and the retention clean-up."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.db.models import FlowState, HelpRequest, Interaction, RequestMessage, User, utcnow
from bot.db.repositories import (AnnouncementRepository, ChatMessageRepository,
                                 DeadlineRepository, InboxRepository)
from bot.services.deadlines import DeadlineService
from bot.services.outbox import queue_once
from bot.services.requests import CARD_UPDATE

ERASED_USER_ID = 0


def _iso(value):
    return value.isoformat() if value is not None else None


class PrivacyService:
    def __init__(self, sessions: async_sessionmaker,
                 deadlines: DeadlineService | None = None) -> None:
        self._sessions = sessions
        self._deadlines = deadlines

    async def export_user(self, user_id: int) -> bytes:
        """Everything stored about the user, as a JSON document."""
        async with self._sessions() as session:
            user = await session.get(User, user_id)
            requests = list((await session.execute(
                select(HelpRequest).where(HelpRequest.user_id == user_id)
                .order_by(HelpRequest.id))).scalars())
            ids = [r.id for r in requests]
            messages = list((await session.execute(
                select(RequestMessage).where(RequestMessage.request_id.in_(ids))
                .order_by(RequestMessage.id))).scalars()) if ids else []
            interactions = list((await session.execute(
                select(Interaction).where(Interaction.user_key == user.pseudonym)
                .order_by(Interaction.id))).scalars()) if user else []
            deadlines = (await self._deadlines.export(session, user_id)
                         if self._deadlines is not None else None)
            announcements = await AnnouncementRepository(session).of_user(user_id)
        document = {
            "telegram_user_id": user_id,
            "settings": {"locale": user.locale if user else None,
                         "first_seen": _iso(user.first_seen) if user else None,
                         "last_seen": _iso(user.last_seen) if user else None,
                         "last_search": user.last_unanswered if user else None,
                         "country": user.country if user else None,
                         "announcements_off": user.announcements_off if user else None},
            "requests": [{
                "number": r.number, "status": r.status, "topic": r.topic_key,
                "country": r.country, "asker": r.asker, "phone": r.phone,
                "created_at": _iso(r.created_at),
                "satisfaction": r.satisfaction, "satisfaction_comment": r.satisfaction_comment,
                "thread": [{"from": m.author, "text": m.text, "at": _iso(m.created_at)}
                           for m in messages if m.request_id == r.id],
            } for r in requests],
            "interactions": [{"kind": i.kind, "topic": i.topic_key, "query": i.query,
                              "at": _iso(i.created_at)} for i in interactions],
            "deadlines": deadlines,
            "announcements_received": [{"announcement": r.announcement_id, "status": r.status,
                                        "sent_at": _iso(r.sent_at)} for r in announcements],
        }
        return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")

    async def erase_user(self, user_id: int) -> int:
        """Erase requests' contents, threads, interactions and the user; cases stay as
        'deleted by the user' so staff know where one was. Returns the requests erased."""
        async with self._sessions.begin() as session:
            user = await session.get(User, user_id)
            ids = list((await session.execute(
                select(HelpRequest.id).where(HelpRequest.user_id == user_id))).scalars())
            if ids:
                await session.execute(delete(RequestMessage).where(RequestMessage.request_id.in_(ids)))
                await session.execute(update(HelpRequest).where(HelpRequest.id.in_(ids)).values(
                    user_id=ERASED_USER_ID, phone=None, satisfaction_comment=None,
                    deleted_by_user=True, updated_at=utcnow()))
                # Their cards in the staff group lose the question too.
                carded = await session.execute(select(HelpRequest.id).where(
                    HelpRequest.id.in_(ids), HelpRequest.staff_message_id.is_not(None)))
                for request_id in carded.scalars():
                    await queue_once(session, CARD_UPDATE, request_id)
            if user is not None:
                await session.execute(delete(Interaction).where(Interaction.user_key == user.pseudonym))
                await session.delete(user)
            await session.execute(delete(FlowState).where(FlowState.user_id == user_id))
            await ChatMessageRepository(session).delete(user_id)  # the private chat's message ids
            await DeadlineRepository(session).delete_all(user_id)  # dates, stays, reminders
            await AnnouncementRepository(session).forget_user(user_id)  # which news they got
            await session.run_sync(lambda sync: InboxRepository(sync).delete_finished_of(user_id))
        return len(ids)

    async def apply_retention(self, days: int) -> tuple[int, int]:
        """Delete interactions, and closed requests, older than the retention period."""
        cutoff = utcnow() - timedelta(days=days)
        async with self._sessions.begin() as session:
            interactions = await session.execute(
                delete(Interaction).where(Interaction.created_at < cutoff))
            old = list((await session.execute(select(HelpRequest.id).where(
                HelpRequest.status.in_(("resolved", "closed")),
                HelpRequest.resolved_at < cutoff))).scalars())
            if old:
                await session.execute(delete(RequestMessage).where(RequestMessage.request_id.in_(old)))
                await session.execute(delete(HelpRequest).where(HelpRequest.id.in_(old)))
        return interactions.rowcount or 0, len(old)
