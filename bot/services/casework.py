"""Staff's work on cases, the same from the console and from Telegram: the inbox and its
filters, taking and assigning, internal notes, canned replies, a case's history."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot import LOCALES
from bot.db.casework import CannedReplyRepository, CaseworkRepository, InboxQuery
from bot.db.models import (AuditEntry, CannedReply, CaseNote, HelpRequest, RequestMessage,
                           StaffMember, utcnow)
from bot.db.repositories import OPEN_STATUSES, AuditRepository, RequestRepository, StaffRepository
from bot.services.requests import STATUSES, queue_card_update

NOTE_LIMIT = 2000
CANNED_TITLE_LIMIT = 80
CANNED_TEXT_LIMIT = 2000
INBOX_PAGE = 25
PREVIEW = 160


@dataclass(frozen=True)
class InboxFilter:
    """What a staff member asked the inbox for; every field is optional."""

    status: str | None = None  # None: every open status
    topic: str | None = None
    country: str | None = None
    locale: str | None = None
    assignee: int | None = None
    unassigned: bool = False
    waiting_hours: int | None = None
    text: str = ""
    page: int = 0

    def query(self, now: datetime) -> InboxQuery:
        statuses = (self.status,) if self.status in STATUSES else OPEN_STATUSES
        waiting_before = (now - timedelta(hours=self.waiting_hours)
                          if self.waiting_hours and self.waiting_hours > 0 else None)
        return InboxQuery(statuses=statuses, topic=self.topic or None,
                          country=self.country or None,
                          locale=self.locale if self.locale in LOCALES else None,
                          assignee=self.assignee, unassigned=self.unassigned,
                          waiting_before=waiting_before, text=self.text.strip()[:200])


@dataclass(frozen=True)
class InboxRow:
    request: HelpRequest
    question: str  # the first message, cut for the list


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class CaseFile:
    """Everything the case page shows."""

    request: HelpRequest
    thread: list[RequestMessage]
    notes: list[CaseNote]
    history: list[AuditEntry]
    members: list[StaffMember] = field(default_factory=list)

    @property
    def version(self) -> str:
        """Changes when a message, a note, a delivery state, the status or the holder does."""
        parts = [self.request.status, self.request.assignee_id]
        parts += [(m.id, m.delivery) for m in self.thread] + [("note", n.id) for n in self.notes]
        return version_of(parts)

    @cached_property
    def names(self) -> dict[int, str]:
        """Staff id → the name colleagues see."""
        return {m.user_id: m.name or str(m.user_id) for m in self.members}


class CaseworkService:
    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions

    async def inbox(self, wanted: InboxFilter, now: datetime | None = None) -> InboxPage:
        page = max(wanted.page, 0)
        async with self._sessions() as session:
            cases = CaseworkRepository(session)
            requests, total = await cases.inbox(wanted.query(now or utcnow()), page * INBOX_PAGE,
                                                INBOX_PAGE)
            questions = await cases.first_messages([r.id for r in requests])
        rows = [InboxRow(r, _cut(questions.get(r.id, ""), PREVIEW)) for r in requests]
        return InboxPage(rows, total, page, max(1, -(-total // INBOX_PAGE)))

    async def version(self) -> str:
        """Changes when anything in the inbox may have: the browser reloads the list then."""
        async with self._sessions() as session:
            return version_of(await CaseworkRepository(session).last_change())

    async def case_file(self, request_id: int) -> CaseFile | None:
        async with self._sessions() as session:
            requests = RequestRepository(session)
            request = await requests.get(request_id)
            if request is None or request.deleted_by_user:
                return None
            cases = CaseworkRepository(session)
            return CaseFile(request, await requests.thread(request_id),
                            await cases.notes(request_id), await cases.history(request.number),
                            await StaffRepository(session).all())

    async def assign(self, request_id: int, actor_id: int, assignee_id: int | None) -> HelpRequest | None:
        """Give the case to a staff member (or to nobody). A new case taken is in progress."""
        async with self._sessions.begin() as session:
            request = await RequestRepository(session).get(request_id)
            if request is None or request.deleted_by_user:
                return None
            if assignee_id is not None and await StaffRepository(session).get(assignee_id) is None:
                raise ValueError("not a staff member")
            request.assignee_id, request.updated_at = assignee_id, utcnow()
            if assignee_id is not None and request.status == "new":
                request.status = "in_progress"
            AuditRepository(session).add(actor_id, "case_assign", request.number,
                                         str(assignee_id) if assignee_id else "-")
            await queue_card_update(session, request)  # the card shows who holds it
            return request

    async def staff_name(self, staff_id: int) -> str:
        """What colleagues see of a staff member: their name, else their id."""
        async with self._sessions() as session:
            member = await StaffRepository(session).get(staff_id)
        return member.name if member is not None and member.name else str(staff_id)

    async def add_note(self, request_id: int, author_id: int, text: str) -> CaseNote | None:
        text = text.strip()
        if not 1 <= len(text) <= NOTE_LIMIT:
            raise ValueError("a note is 1 to 2000 characters")
        async with self._sessions.begin() as session:
            request = await RequestRepository(session).get(request_id)
            if request is None or request.deleted_by_user:
                return None
            note = CaseNote(request_id=request_id, author_id=author_id, text=text,
                            created_at=utcnow())
            CaseworkRepository(session).add_note(note)
            AuditRepository(session).add(author_id, "case_note", request.number)
            await queue_card_update(session, request)  # the card counts the notes
        return note


class CannedReplies:
    """Ready answers per language, shared by all staff; every change is audited."""

    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions

    async def listed(self, locale: str | None = None) -> list[CannedReply]:
        async with self._sessions() as session:
            return await CannedReplyRepository(session).listed(locale)

    async def get(self, reply_id: int) -> CannedReply | None:
        async with self._sessions() as session:
            return await CannedReplyRepository(session).get(reply_id)

    async def save(self, actor_id: int, locale: str, title: str, text: str,
                   reply_id: int | None = None) -> CannedReply | None:
        """Add one, or change the one with `reply_id` (None if it is gone)."""
        title, text = title.strip(), text.strip()
        if locale not in LOCALES:
            raise ValueError("unknown locale")
        if not 1 <= len(title) <= CANNED_TITLE_LIMIT or not 1 <= len(text) <= CANNED_TEXT_LIMIT:
            raise ValueError("a title of 1 to 80 and a text of 1 to 2000 characters")
        async with self._sessions.begin() as session:
            replies = CannedReplyRepository(session)
            if reply_id is None:
                reply = CannedReply(locale=locale, title=title, text=text, created_by=actor_id,
                                    updated_at=utcnow())
                replies.add(reply)
                await session.flush()
            else:
                reply = await replies.get(reply_id)
                if reply is None:
                    return None
                reply.locale, reply.title, reply.text, reply.updated_at = locale, title, text, utcnow()
            AuditRepository(session).add(actor_id, "canned_save", str(reply.id), title)
        return reply

    async def remove(self, actor_id: int, reply_id: int) -> bool:
        async with self._sessions.begin() as session:
            removed = await CannedReplyRepository(session).remove(reply_id)
            if removed:
                AuditRepository(session).add(actor_id, "canned_remove", str(reply_id))
        return removed


def version_of(parts) -> str:
    """What a page polls for: a digest, safe in a URL as it is and the same in every process."""
    return hashlib.blake2s(repr(tuple(parts)).encode(), digest_size=8).hexdigest()


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"
