"""Requests for a person: filing, the staff workflow, the thread, and the figures."""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.db.models import HelpRequest, RequestMessage, utcnow
from bot.db.repositories import (OPEN_STATUSES, AuditRepository, FlowRepository,
                                 InteractionRepository, OutboxRepository, RequestRepository,
                                 StaffRepository, UserRepository)
from bot.services.outbox import Outbox, claim_now, queue_once

CARD = "card"  # the outbox kind of a case card for the staff group
# The outbox kind of a staff answer to the user (ref: the request_messages row). A reply to
# the card is sent at once by the process that took it; one written in the console by
# whichever bot process claims it next.
ANSWER = "answer"
DELIVERY_STATES = ("pending", "delivered", "failed", "blocked")
# The card in the staff group is edited to show a change made anywhere (the console, a reply,
# a note...): ref is the request id; one waiting per case is enough, it reads the case when sent.
CARD_UPDATE = "card_update"
# "Did the answer help?", asked once after a case is resolved: ref is the request id.
SATISFACTION = "satisfaction"
VERDICTS = ("up", "down")
COMMENT_LIMIT = 1000

QUESTION_LIMIT = 2000
ASKERS = ("self", "family_abroad", "family_returned")
# The main destinations (content-facts §4), Uzbekistan for those who came back, and other.
COUNTRIES = ("RU", "KZ", "TR", "KR", "GB", "DE", "PL", "UZ", "OTHER")
STATUSES = ("new", "in_progress", "answered", "resolved", "closed")
# How long after a staff answer a plain message from the user counts as their reply.
AWAITING_WINDOW = timedelta(days=14)
# A second "I agree" within this time is the same request, not a new one.
RECENT_FILING = timedelta(minutes=30)


class QuestionTooLong(ValueError):
    pass


@dataclass(frozen=True)
class Draft:
    topic_key: str | None
    country: str
    asker: str
    text: str
    locale: str
    phone: str | None = None
    urgent: bool = False  # a cry for help: staff see it first

    def __post_init__(self) -> None:
        if not 1 <= len(self.text) <= QUESTION_LIMIT:
            raise QuestionTooLong(len(self.text))
        if self.country not in COUNTRIES or self.asker not in ASKERS:
            raise ValueError("unknown country or asker")


@dataclass(frozen=True)
class StaffAnswer:
    request: HelpRequest
    message: RequestMessage


@dataclass(frozen=True)
class Case:
    """A request with its thread, detached from the session."""

    request: HelpRequest
    thread: list[RequestMessage] = field(default_factory=list)


@dataclass(frozen=True)
class CaseCard:
    """What the case card in the staff group shows."""

    request: HelpRequest
    question: str  # the user's first message
    holder: str | None = None  # who holds the case: their name, else their id
    notes: int = 0  # internal notes


@dataclass(frozen=True)
class Waiting:
    """A case waiting for staff longer than it should, for the reminder."""

    request: HelpRequest
    holder: str | None


@dataclass(frozen=True)
class Rated:
    outcome: str  # saved | already (answered before) | stale (not theirs, not asked, gone)
    request: HelpRequest | None = None


def case_number(request_id: int, created: datetime) -> str:
    return f"M-{created.year}-{request_id:06d}"


async def queue_card_update(session, request: HelpRequest) -> None:
    """Within the caller's transaction: the case's card in the staff group will show the
    change (if it has a card)."""
    if request.staff_message_id is not None:
        await queue_once(session, CARD_UPDATE, request.id)


async def _queue_satisfaction(session, request: HelpRequest) -> None:
    """Within the caller's transaction: ask the user once, if staff answered them at all."""
    if (request.satisfaction_asked_at is None and request.first_reply_at is not None
            and not request.user_blocked and not request.deleted_by_user):
        await queue_once(session, SATISFACTION, request.id)


async def _holder(session, request: HelpRequest, names: dict[int, str] | None = None) -> str | None:
    if request.assignee_id is None:
        return None
    if names is None:
        member = await StaffRepository(session).get(request.assignee_id)
        names = {member.user_id: member.name} if member is not None and member.name else {}
    return names.get(request.assignee_id) or str(request.assignee_id)


class RequestService:
    def __init__(self, sessions: async_sessionmaker, outbox: Outbox | None = None) -> None:
        self._sessions = sessions
        self._outbox = outbox

    async def file(self, user_id: int, draft: Draft) -> HelpRequest:
        """Store the request and its first message, end the user's draft and claim the staff
        card for this process to post, in one transaction: returns only after the commit,
        and a failure leaves the draft intact."""
        async with self._sessions.begin() as session:
            await FlowRepository(session).delete(user_id)
            requests = RequestRepository(session)
            now = utcnow()
            request = HelpRequest(user_id=user_id, topic_key=draft.topic_key,
                                  country=draft.country, asker=draft.asker, locale=draft.locale,
                                  phone=draft.phone, urgent=draft.urgent, status="new",
                                  created_at=now, updated_at=now, waiting_since=now)
            requests.add(request)
            await session.flush()
            request.number = case_number(request.id, now)
            requests.add_message(RequestMessage(request_id=request.id, author="user",
                                                author_id=user_id, text=draft.text))
            claim_now(session, CARD, request.id, self._outbox.worker)
            # The country first: a person who never said where they are is taken to be where
            # their question is about.
            await UserRepository(session).set_country_if_unknown(user_id, draft.country)
        return request

    async def get(self, request_id: int) -> HelpRequest | None:
        async with self._sessions() as session:
            return await RequestRepository(session).get(request_id)

    async def case(self, request_id: int) -> Case | None:
        async with self._sessions() as session:
            requests = RequestRepository(session)
            request = await requests.get(request_id)
            if request is None:
                return None
            return Case(request, await requests.thread(request_id))

    async def case_by_number(self, number: str) -> Case | None:
        async with self._sessions() as session:
            request = await RequestRepository(session).by_number(number.upper())
        return await self.case(request.id) if request else None

    async def user_case(self, user_id: int, request_id: int) -> Case | None:
        """The case only if it belongs to this user: button data can be forged."""
        case = await self.case(request_id)
        if case is None or case.request.user_id != user_id or case.request.deleted_by_user:
            return None
        return case

    async def recent_for_user(self, user_id: int) -> HelpRequest | None:
        """The user's request filed in the last few minutes, if any."""
        latest = (await self.for_user(user_id))[:1]
        if latest and utcnow() - latest[0].created_at < RECENT_FILING:
            return latest[0]
        return None

    async def for_user(self, user_id: int) -> list[HelpRequest]:
        async with self._sessions() as session:
            return await RequestRepository(session).for_user(user_id)

    async def card_posted(self, request_id: int, message_id: int) -> None:
        async with self._sessions.begin() as session:
            request = await RequestRepository(session).get(request_id)
            if request is not None:
                request.staff_message_id = message_id
            await self._outbox.done(CARD, request_id, session)

    async def card_failed(self, request_id: int, error: str) -> None:
        await self._outbox.failed(CARD, request_id, error)

    async def topic_created(self, request_id: int, topic_id: int) -> None:
        """The case's own forum topic, kept at once: a retried card goes there, not to a new one."""
        async with self._sessions.begin() as session:
            request = await RequestRepository(session).get(request_id)
            if request is not None:
                request.forum_topic_id = topic_id

    async def card_of(self, request_id: int) -> CaseCard | None:
        """The case as its card shows it (a case the user deleted too: its card loses the text)."""
        async with self._sessions() as session:
            requests = RequestRepository(session)
            request = await requests.get(request_id)
            if request is None:
                return None
            return CaseCard(request, await requests.first_question(request_id),
                            await _holder(session, request), await requests.note_count(request_id))

    async def card_to_post(self, request_id: int) -> CaseCard | None:
        """The card of a claimed card's case, or None when there is nothing to post any more
        (the user deleted it, it was closed, or a card is already there)."""
        card = await self.card_of(request_id)
        request = card.request if card else None
        if (request is None or request.deleted_by_user or request.staff_message_id is not None
                or request.status not in OPEN_STATUSES):
            await self._outbox.done(CARD, request_id)
            return None
        return card

    async def set_status(self, request_id: int, staff_id: int, status: str, *,
                         card_update: bool = True) -> HelpRequest | None:
        """`card_update`: have the card in the staff group edited (the console; not a button on
        the card itself, which is edited in place). Resolving asks the user, once, whether the
        answer helped."""
        if status not in STATUSES:
            raise ValueError(status)
        async with self._sessions.begin() as session:
            request = await RequestRepository(session).get(request_id)
            if request is None or request.deleted_by_user:
                return None
            now = utcnow()
            request.status, request.updated_at = status, now
            if status == "in_progress" or request.assignee_id is None:
                request.assignee_id = staff_id
            if status in ("resolved", "closed") and request.resolved_at is None:
                request.resolved_at = now
            if status in ("answered", "resolved", "closed"):
                request.waiting_since = None
            AuditRepository(session).add(staff_id, f"case_{status}", request.number)
            if card_update:
                await queue_card_update(session, request)
            if status == "resolved":
                await _queue_satisfaction(session, request)
        return request

    async def staff_reply(self, request_id: int, staff_id: int, text: str, *,
                          send_now: bool = True) -> StaffAnswer | None:
        """Store a staff answer and queue it for the user in one transaction. With `send_now`
        (a reply to the card) this process holds the claim and sends it itself; otherwise (the
        console) a bot process claims it from the outbox."""
        async with self._sessions.begin() as session:
            requests = RequestRepository(session)
            request = await requests.get(request_id)
            if request is None or request.deleted_by_user:
                return None
            now = utcnow()
            message = RequestMessage(request_id=request.id, author="staff", author_id=staff_id,
                                     text=text, delivery="pending", created_at=now,
                                     via="telegram" if send_now else "console")
            requests.add_message(message)
            await session.flush()
            if send_now:
                claim_now(session, ANSWER, message.id, self._outbox.worker)
            else:
                OutboxRepository(session).add(ANSWER, message.id, now)
            request.status, request.updated_at, request.waiting_since = "answered", now, None
            request.assignee_id = request.assignee_id or staff_id
            request.first_reply_at = request.first_reply_at or now
            AuditRepository(session).add(staff_id, "case_reply", request.number)
            await queue_card_update(session, request)
        return StaffAnswer(request, message)

    async def answer_to_send(self, message_id: int) -> StaffAnswer | None:
        """A claimed answer still to send, or None (the user deleted the case meanwhile)."""
        async with self._sessions() as session:
            message = await session.get(RequestMessage, message_id)
            request = await RequestRepository(session).get(message.request_id) if message else None
        if request is None or request.deleted_by_user or message.delivery != "pending":
            await self._outbox.done(ANSWER, message_id)
            return None
        return StaffAnswer(request, message)

    async def answer_sent(self, message_id: int, delivery: str) -> None:
        """How sending went: delivered, or blocked (the user blocked the bot: the case says
        so). The outbox row is done either way."""
        if delivery not in DELIVERY_STATES:
            raise ValueError(delivery)
        async with self._sessions.begin() as session:
            message = await session.get(RequestMessage, message_id)
            if message is None:
                return
            message.delivery = delivery
            request = await RequestRepository(session).get(message.request_id)
            if delivery == "blocked" and request is not None:
                request.user_blocked = True
                AuditRepository(session).add(message.author_id, "case_undelivered", request.number)
                await queue_card_update(session, request)
            await self._outbox.done(ANSWER, message_id, session)

    async def answer_failed(self, message_id: int, error: str) -> None:
        """Telegram did not take it (not a block): the outbox tries again later."""
        await self._outbox.failed(ANSWER, message_id, error)

    async def awaiting_request_id(self, user_id: int) -> int | None:
        """The case a staff member answered recently, whose answer a plain message is."""
        async with self._sessions() as session:
            request = await RequestRepository(session).awaiting_user(
                user_id, utcnow() - AWAITING_WINDOW)
        return request.id if request else None

    async def user_message(self, request_id: int, user_id: int, text: str) -> HelpRequest | None:
        """A follow-up from the user reopens the case."""
        async with self._sessions.begin() as session:
            requests = RequestRepository(session)
            request = await requests.get(request_id)
            if request is None or request.user_id != user_id or request.deleted_by_user:
                return None
            requests.add_message(RequestMessage(request_id=request.id, author="user",
                                                author_id=user_id, text=text[:QUESTION_LIMIT]))
            if request.status not in ("new", "in_progress"):
                # The case's history shows who moved it; here it is the user (no id kept).
                AuditRepository(session).add(None, "case_reopened", request.number, request.status)
            request.status = "in_progress" if request.assignee_id else "new"
            request.updated_at, request.resolved_at = utcnow(), None
            request.waiting_since = request.waiting_since or request.updated_at
            request.user_blocked = False
            await queue_card_update(session, request)
        return request

    async def waiting_to_remind(self, hours: float, limit: int,
                                now: datetime | None = None) -> tuple[list[Waiting], int]:
        """Open cases waiting over `hours` whose staff were not reminded in that time, the
        longest wait first (at most `limit`), and how many there are."""
        now = now or utcnow()
        period = timedelta(hours=hours)
        async with self._sessions() as session:
            requests, total = await RequestRepository(session).waiting_longer(
                now - period, now - period, limit)
            names = {m.user_id: m.name for m in await StaffRepository(session).all() if m.name}
            return [Waiting(r, await _holder(session, r, names)) for r in requests], total

    async def reminded(self, request_ids: list[int], now: datetime | None = None) -> None:
        async with self._sessions.begin() as session:
            await RequestRepository(session).mark_reminded(request_ids, now or utcnow())

    async def satisfaction_to_ask(self, outbox_id: int, request_id: int) -> HelpRequest | None:
        """The case whose user is to be asked now, marked asked before it is sent (so an
        answer pressed at once finds it asked, and a crash mid-send never asks twice); or
        None, and the outbox row is done: asked already, reopened, deleted by the user, or
        the user blocked the bot."""
        async with self._sessions.begin() as session:
            # Locked: two processes holding a question each for this case ask it once.
            request = await session.get(HelpRequest, request_id, with_for_update=True)
            user = await UserRepository(session).get(request.user_id) if request else None
            if (request is None or user is None or not user.is_active or request.deleted_by_user
                    or request.user_blocked or request.status != "resolved"
                    or request.satisfaction_asked_at is not None):
                await self._outbox.finish(outbox_id, session)
                return None
            request.satisfaction_asked_at = utcnow()
        return request

    async def satisfaction_sent(self, outbox_id: int, request_id: int, delivered: bool) -> None:
        """Asked; or not deliverable (the user blocked the bot): then not asked at all."""
        async with self._sessions.begin() as session:
            request = await RequestRepository(session).get(request_id)
            if request is not None and not delivered:
                request.satisfaction_asked_at = None
                request.user_blocked = True
                await queue_card_update(session, request)
            await self._outbox.finish(outbox_id, session)

    async def satisfaction_failed(self, outbox_id: int, request_id: int, error: str) -> None:
        """Telegram did not take it: not asked yet, tried again later."""
        async with self._sessions.begin() as session:
            request = await RequestRepository(session).get(request_id)
            if request is not None:
                request.satisfaction_asked_at = None
        await self._outbox.retry(outbox_id, error)

    async def rate(self, user_id: int, request_id: int, verdict: str) -> Rated:
        """The user's answer to "did it help?": only theirs, only once asked, only once."""
        if verdict not in VERDICTS:
            raise ValueError(verdict)
        return await self._answer_once(user_id, request_id, "satisfaction_asked_at",
                                       "satisfaction", verdict, "case_satisfaction", verdict)

    async def satisfaction_comment(self, user_id: int, request_id: int, text: str) -> Rated:
        """The user's comment after their verdict, up to COMMENT_LIMIT characters, once."""
        text = text.strip()
        if not 1 <= len(text) <= COMMENT_LIMIT:
            raise ValueError(f"a comment is 1 to {COMMENT_LIMIT} characters")
        return await self._answer_once(user_id, request_id, "satisfaction", "satisfaction_comment",
                                       text, "case_satisfaction_comment")

    async def _answer_once(self, user_id: int, request_id: int, after: str, field: str, value: str,
                           action: str, details: str | None = None) -> Rated:
        """Store the user's `value` in `field` of their case, once, and only after `after` is
        set (asked, then rated): buttons can be forged or pressed late."""
        async with self._sessions.begin() as session:
            request = await RequestRepository(session).get(request_id)
            if (request is None or request.user_id != user_id or request.deleted_by_user
                    or getattr(request, after) is None):
                return Rated("stale")
            if getattr(request, field) is not None:
                return Rated("already", request)
            setattr(request, field, value)
            AuditRepository(session).add(None, action, request.number, details)
            await queue_card_update(session, request)
        return Rated("saved", request)

    async def queue(self, page: int, per_page: int) -> tuple[list[HelpRequest], int]:
        async with self._sessions() as session:
            return await RequestRepository(session).open_queue(page * per_page, per_page)

    async def find(self, text: str) -> list[HelpRequest]:
        async with self._sessions() as session:
            return await RequestRepository(session).search(text)

    async def export(self, since: datetime) -> list[Case]:
        async with self._sessions() as session:
            requests = RequestRepository(session)
            rows = await requests.since(since)
            threads = await requests.threads([r.id for r in rows])
        return [Case(r, threads[r.id]) for r in rows]

    async def stats(self, now: datetime | None = None) -> dict:
        now = now or utcnow()
        async with self._sessions() as session:
            recent = await RequestRepository(session).since(now - timedelta(days=30))
            views = await InteractionRepository(session).topic_counts(now - timedelta(days=30), "view")
        return {
            "windows": {days: _window_figures([r for r in recent
                                               if r.created_at >= now - timedelta(days=days)])
                        for days in (7, 30)},
            "top_topics": views[:5],
        }


def _median_hours(deltas: list[timedelta]) -> float | None:
    if not deltas:
        return None
    return round(statistics.median(d.total_seconds() for d in deltas) / 3600, 1)


def _window_figures(requests: list[HelpRequest]) -> dict:
    return {
        "total": len(requests),
        "status": Counter(r.status for r in requests).most_common(),
        "topic": Counter(r.topic_key or "-" for r in requests).most_common(5),
        "language": Counter(r.locale for r in requests).most_common(),
        "country": Counter(r.country for r in requests).most_common(),
        "first_reply_hours": _median_hours([r.first_reply_at - r.created_at for r in requests
                                            if r.first_reply_at]),
        "resolution_hours": _median_hours([r.resolved_at - r.created_at for r in requests
                                           if r.resolved_at]),
    }
