"""Announcements: admins send news to the users it concerns, in their language.

An admin composes texts per locale, a topic button and a segment; on confirmation the
recipients are chosen (one row each) and the announcement becomes an outbox row. One process
at a time holds that row (a lease, renewed while it sends) and works a slice of recipients,
marking each right after Telegram accepted the message, then gives the row back, due at once:
a crash or a restart resumes where it stopped, a recipient marked sent is never sent again,
and with several processes exactly one sends. A segment larger than the approval threshold
waits for a second admin.

Telegram is not known here: `AnnouncementSender` is handed a `deliver` function that sends one
message and says how it went (see bot.handlers.broadcast).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot import LOCALES
from bot.db.engine import DATABASE_ERRORS
from bot.db.models import Announcement, StaffMember, User, utcnow
from bot.db.repositories import (ANNOUNCEMENT, AnnouncementRepository, AuditRepository,
                                 FlowRepository, StaffRepository)
from bot.i18n import _LANGUAGE_CODE_GUESS as LANGUAGE_CODE_GUESS
from bot.services.requests import COUNTRIES
from bot.text.translit import to_cyrillic, to_latin

log = logging.getLogger(__name__)

__all__ = ["ANNOUNCEMENT", "AnnouncementSender", "AnnouncementService", "Segment"]

# A holder renews its lease every HEARTBEAT while it sends, and sends nothing once less than
# LEASE_MARGIN of the lease it last renewed is left: another process may take over after LEASE.
LEASE = timedelta(seconds=15)
HEARTBEAT_SECONDS = 3.0
LEASE_MARGIN = timedelta(seconds=5)
MAX_ATTEMPTS = 3  # per recipient, for errors that may pass (5xx, network)
RECORD_RETRY_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)
RECORD_FAILED_WAIT = 10.0  # seconds before sending goes on when outcomes cannot be written
ACTIVE_DAYS = (7, 30, 90, 365)

AWAITING_APPROVAL, SENDING, PAUSED, DONE, CANCELLED = (
    "awaiting_approval", "sending", "paused", "done", "cancelled")
FINISHED = (DONE, CANCELLED)

# Whose text a locale's readers get when theirs is missing (the content's chain: the other
# Uzbek script transliterated, then Russian, then English).
FALLBACK = {"uz": ("uz", "uz_Cyrl", "ru", "en"), "uz_Cyrl": ("uz_Cyrl", "uz", "ru", "en"),
            "ru": ("ru", "en", "uz", "uz_Cyrl"), "en": ("en", "ru", "uz", "uz_Cyrl")}
_MARKUP = re.compile(r"(<[^>]*>|&#?\w+;)")


def transliterate_html(html: str, to: str = "cyrillic") -> str:
    """Uzbek Latin ⇄ Cyrillic of Telegram HTML: tags, entities and links stay as they are."""
    convert = to_cyrillic if to == "cyrillic" else to_latin
    return "".join(part if _MARKUP.fullmatch(part) else convert(part)
                   for part in _MARKUP.split(html) if part)


def text_for(texts: dict[str, str], locale: str) -> tuple[str, str] | None:
    """(the HTML a locale's readers get, the locale it was written in), or None if no text."""
    for source in FALLBACK.get(locale, (locale, *LOCALES)):
        text = texts.get(source)
        if not text:
            continue
        if {locale, source} == {"uz", "uz_Cyrl"}:
            text = transliterate_html(text, "cyrillic" if locale == "uz_Cyrl" else "latin")
        return text, source
    return None


@dataclass(frozen=True)
class Segment:
    """Who gets it; every condition given must hold. Empty: no condition."""

    locales: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()  # as the users gave them (bot.services.requests.COUNTRIES)
    active_days: int | None = None  # used the bot in the last N days
    open_case: bool = False  # has a request open

    def __post_init__(self) -> None:
        if not set(self.locales) <= set(LOCALES) or not set(self.countries) <= set(COUNTRIES):
            raise ValueError("unknown locale or country")
        if self.active_days is not None and self.active_days < 1:
            raise ValueError("active_days must be at least 1")

    def to_dict(self) -> dict:
        return {"locales": list(self.locales), "countries": list(self.countries),
                "active_days": self.active_days, "open_case": self.open_case}

    @classmethod
    def from_dict(cls, data: dict) -> "Segment":
        return cls(tuple(l for l in LOCALES if l in data.get("locales", ())),  # noqa: E741
                   tuple(c for c in COUNTRIES if c in data.get("countries", ())),
                   data.get("active_days"), bool(data.get("open_case")))


@dataclass(frozen=True)
class Draft:
    """What an admin composed: texts by locale (Telegram HTML), a topic button, a segment."""

    texts: dict[str, str]
    topic_key: str | None
    segment: Segment


@dataclass(frozen=True)
class Progress:
    """One announcement and where its recipients stand, detached from the session."""

    id: int
    status: str
    texts: dict[str, str]
    topic_key: str | None
    segment: Segment
    recipients: int
    created_by: int
    created_at: datetime
    approved_by: int | None
    started_at: datetime | None
    finished_at: datetime | None
    by_locale: dict[str, dict[str, int]] = field(default_factory=dict)  # locale → status → n

    def count(self, status: str) -> int:
        return sum(statuses.get(status, 0) for statuses in self.by_locale.values())

    @property
    def sent(self) -> int:
        return self.count("sent")

    @property
    def pending(self) -> int:
        return self.count("pending")

    @property
    def blocked(self) -> int:
        return self.count("blocked")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def not_sent(self) -> int:
        """Turned announcements off or deleted their data meanwhile, or cancelled."""
        return self.recipients - self.sent - self.pending - self.blocked - self.failed


@dataclass(frozen=True)
class Recipient:
    user_id: int
    locale: str
    attempts: int


@dataclass(frozen=True)
class Outcome:
    """How one delivery went: sent | blocked (403: the user is not reachable) | retry (may
    pass: tried again later, a few times) | failed (will not pass) | wait (Telegram asks to
    wait `wait` seconds; the recipient stays pending)."""

    kind: str
    error: str | None = None
    wait: float = 0.0


@dataclass(frozen=True)
class Step:
    """What the holder of an announcement's outbox row does next."""

    action: str  # send | report | stop
    announcement: Progress | None = None
    recipients: tuple[Recipient, ...] = ()


class Result:
    """Outcomes of an admin's action on an announcement."""

    OK, NOT_FOUND, WRONG_STATE, OWN, NOBODY, DENIED = (
        "ok", "not_found", "wrong_state", "own", "nobody", "denied")


def _progress(announcement: Announcement, counts: list[tuple[str, str, int]]) -> Progress:
    by_locale: dict[str, dict[str, int]] = {}
    for locale, status, n in counts:
        by_locale.setdefault(locale, {})[status] = n
    return Progress(announcement.id, announcement.status, json.loads(announcement.texts),
                    announcement.topic_key, Segment.from_dict(json.loads(announcement.segment)),
                    announcement.recipients, announcement.created_by, announcement.created_at,
                    announcement.approved_by, announcement.started_at, announcement.finished_at,
                    by_locale)


class AnnouncementService:
    def __init__(self, sessions: async_sessionmaker, worker: str, approval_threshold: int,
                 default_locale: str) -> None:
        self._sessions = sessions
        self.worker = worker
        self.approval_threshold = approval_threshold
        self._default_locale = default_locale

    def _audience(self, segment: Segment, now: datetime):
        since = now - timedelta(days=segment.active_days) if segment.active_days else None
        return AnnouncementRepository.audience(
            locales=segment.locales, countries=segment.countries, active_since=since,
            open_case=segment.open_case, default_locale=self._default_locale,
            guesses=LANGUAGE_CODE_GUESS)

    async def audience(self, segment: Segment) -> dict[str, int]:
        """How many users of each locale the segment reaches now."""
        async with self._sessions() as session:
            counts = await AnnouncementRepository(session).count_by_locale(
                *self._audience(segment, utcnow()))
        return {locale: counts.get(locale, 0) for locale in LOCALES}

    async def audit(self, admin_id: int, action: str, target: str | None = None,
                    details: object = None) -> None:
        async with self._sessions.begin() as session:
            AuditRepository(session).add(admin_id, action, target, _details(details))

    async def confirm(self, admin_id: int, draft: Draft) -> tuple[str, Progress | None]:
        """Create the announcement and choose its recipients, end the admin's draft, and
        either queue it to send (claimed for this process, which starts at once) or leave it
        for a second admin's approval — in one transaction. (Result, the announcement)."""
        if not any(draft.texts.get(locale) for locale in LOCALES):
            raise ValueError("an announcement needs a text")
        try:
            return await self._confirm(admin_id, draft)
        except _Nobody:  # rolled back: nothing was created
            return Result.NOBODY, None
        except _Denied:
            await self.audit(admin_id, "announce_confirm_refused", None, "not an admin")
            return Result.DENIED, None

    async def _confirm(self, admin_id: int, draft: Draft) -> tuple[str, Progress | None]:
        now = utcnow()
        async with self._sessions.begin() as session:
            if not _is_admin(await StaffRepository(session).get(admin_id)):
                raise _Denied
            repository = AnnouncementRepository(session)
            announcement = Announcement(
                status=SENDING, texts=json.dumps(draft.texts, ensure_ascii=False),
                topic_key=draft.topic_key, segment=json.dumps(draft.segment.to_dict()),
                recipients=0, created_by=admin_id, created_at=now)
            repository.add(announcement)
            await session.flush()
            total = await repository.choose_recipients(announcement.id,
                                                       *self._audience(draft.segment, now))
            if total == 0:
                raise _Nobody
            announcement.recipients = total
            if total > self.approval_threshold:
                announcement.status = AWAITING_APPROVAL
            else:
                announcement.started_at = now
                await repository.add_outbox(announcement.id, now)
            await FlowRepository(session).delete(admin_id)
            AuditRepository(session).add(admin_id, "announce_confirm", str(announcement.id),
                                         _details({"recipients": total,
                                                   "status": announcement.status}))
            counts = await repository.counts(announcement.id)
        return Result.OK, _progress(announcement, counts)

    async def approve(self, admin_id: int, announcement_id: int) -> tuple[str, Progress | None]:
        """A second admin (the stored role, checked here) lets it go."""
        return await self._change(admin_id, announcement_id, "announce_approve",
                                  (AWAITING_APPROVAL,), SENDING, second_admin=True)

    async def reject(self, admin_id: int, announcement_id: int) -> tuple[str, Progress | None]:
        return await self._change(admin_id, announcement_id, "announce_reject",
                                  (AWAITING_APPROVAL,), CANCELLED)

    async def pause(self, admin_id: int, announcement_id: int) -> tuple[str, Progress | None]:
        return await self._change(admin_id, announcement_id, "announce_pause", (SENDING,), PAUSED)

    async def resume(self, admin_id: int, announcement_id: int) -> tuple[str, Progress | None]:
        return await self._change(admin_id, announcement_id, "announce_resume", (PAUSED,), SENDING)

    async def cancel(self, admin_id: int, announcement_id: int) -> tuple[str, Progress | None]:
        return await self._change(admin_id, announcement_id, "announce_cancel",
                                  (AWAITING_APPROVAL, SENDING, PAUSED), CANCELLED)

    async def _change(self, admin_id: int, announcement_id: int, action: str, from_states,
                      to_state: str, second_admin: bool = False) -> tuple[str, Progress | None]:
        now = utcnow()
        async with self._sessions.begin() as session:
            repository = AnnouncementRepository(session)
            announcement = await repository.get(announcement_id, lock=True)
            if announcement is None:
                return Result.NOT_FOUND, None
            member = await StaffRepository(session).get(admin_id)
            audit = AuditRepository(session)
            if not _is_admin(member) or announcement.status not in from_states:
                audit.add(admin_id, f"{action}_refused", str(announcement_id), announcement.status)
                return (Result.WRONG_STATE if _is_admin(member) else Result.DENIED), None
            if second_admin and announcement.created_by == admin_id:
                audit.add(admin_id, f"{action}_refused", str(announcement_id), "own")
                return Result.OWN, None
            previous, announcement.status = announcement.status, to_state
            if second_admin:
                announcement.approved_by = admin_id
            if to_state == SENDING:
                announcement.started_at = announcement.started_at or now
                if previous == AWAITING_APPROVAL:
                    await repository.add_outbox(announcement_id, now)
                else:
                    await repository.rearm_outbox(announcement_id, now)
            elif to_state == CANCELLED:
                await repository.cancel_pending(announcement_id)
                announcement.finished_at = now
                if previous == AWAITING_APPROVAL:
                    announcement.reported_at = now  # nothing was sent: nothing to report
                else:
                    await repository.rearm_outbox(announcement_id, now)  # for the report
            audit.add(admin_id, action, str(announcement_id), previous)
            counts = await repository.counts(announcement_id)
        return Result.OK, _progress(announcement, counts)

    async def progress(self, announcement_id: int) -> Progress | None:
        async with self._sessions() as session:
            repository = AnnouncementRepository(session)
            announcement = await repository.get(announcement_id)
            if announcement is None:
                return None
            return _progress(announcement, await repository.counts(announcement_id))

    async def recent(self, limit: int = 10) -> list[Progress]:
        async with self._sessions() as session:
            repository = AnnouncementRepository(session)
            return [_progress(a, await repository.counts(a.id))
                    for a in await repository.recent(limit)]

    async def admins(self) -> list[int]:
        async with self._sessions() as session:
            return [m.user_id for m in await StaffRepository(session).all() if m.role == "admin"]

    # The users' side.

    async def turned_off(self, user_id: int) -> bool:
        async with self._sessions() as session:
            user = await session.get(User, user_id)
        return bool(user and user.announcements_off)

    async def purge_finished(self, days: int) -> int:
        async with self._sessions.begin() as session:
            return await AnnouncementRepository(session).delete_finished_before(
                utcnow() - timedelta(days=days))

    # Sending: the holder of the outbox row.

    async def take(self, announcement_id: int, holder: str, given_to: str | None = None) -> bool:
        now = utcnow()
        async with self._sessions.begin() as session:
            return await AnnouncementRepository(session).take(announcement_id, holder, now,
                                                              now + LEASE, given_to)

    async def renew(self, announcement_id: int, holder: str) -> bool:
        now = utcnow()
        async with self._sessions.begin() as session:
            return await AnnouncementRepository(session).renew(announcement_id, holder, now,
                                                               now + LEASE)

    async def next_step(self, announcement_id: int, limit: int) -> Step:
        """What to do with the announcement now: the next recipients to send to (those who
        turned announcements off, deleted their data or blocked the bot since they were
        chosen are left out here), the report once none is pending, or nothing."""
        now = utcnow()
        async with self._sessions.begin() as session:
            repository = AnnouncementRepository(session)
            announcement = await repository.get(announcement_id, lock=True)
            if announcement is None:
                await repository.finish_outbox(announcement_id)
                return Step("stop")
            if announcement.status == SENDING:
                rows = await repository.next_pending(announcement_id, limit)
                if not rows:
                    announcement.status, announcement.finished_at = DONE, now
                    return Step("report", _progress(announcement,
                                                    await repository.counts(announcement_id)))
                gone = [r[0] for r in rows if not r[3] or r[4]]
                blocked = [r[0] for r in rows if r[3] and not r[4] and not r[5]]
                await repository.mark(announcement_id, gone, status="skipped")
                await repository.mark(announcement_id, blocked, status="blocked",
                                      last_error="blocked the bot before")
                recipients = tuple(Recipient(r[0], r[1], r[2]) for r in rows
                                   if r[3] and not r[4] and r[5])
                return Step("send", _progress(announcement, []), recipients)
            if announcement.status in FINISHED and announcement.reported_at is None:
                return Step("report", _progress(announcement,
                                                await repository.counts(announcement_id)))
            await repository.finish_outbox(announcement_id)  # paused, or reported
            return Step("stop")

    async def record(self, announcement_id: int, recipient: Recipient, outcome: Outcome) -> None:
        """Where one delivery left its recipient, committed at once."""
        now = utcnow()
        async with self._sessions.begin() as session:
            repository = AnnouncementRepository(session)
            if outcome.kind == "sent":
                await repository.tried(announcement_id, recipient.user_id, "sent", None, now)
            elif outcome.kind == "blocked":
                await repository.tried(announcement_id, recipient.user_id, "blocked",
                                       outcome.error)
                # Not reachable: left out of later segments, until they write again.
                await session.execute(User.__table__.update()
                                      .where(User.__table__.c.id == recipient.user_id)
                                      .values(is_active=False))
            elif outcome.kind in ("retry", "failed"):
                final = outcome.kind == "failed" or recipient.attempts + 1 >= MAX_ATTEMPTS
                await repository.tried(announcement_id, recipient.user_id,
                                       "failed" if final else "pending", (outcome.error or "")[:500])

    async def give_back(self, announcement_id: int, holder: str, wait: float = 0.0) -> None:
        """Due again at once (or after `wait` seconds), for whoever takes it next."""
        async with self._sessions.begin() as session:
            await AnnouncementRepository(session).give_back(
                announcement_id, holder, utcnow() + timedelta(seconds=wait))

    async def reported(self, announcement_id: int) -> None:
        async with self._sessions.begin() as session:
            repository = AnnouncementRepository(session)
            announcement = await repository.get(announcement_id, lock=True)
            if announcement is not None:
                announcement.reported_at = utcnow()
            await repository.finish_outbox(announcement_id)


class _Nobody(Exception):
    """The segment reaches nobody: the confirmation is rolled back."""


class _Denied(Exception):
    """Not an admin (the stored role): nothing is created."""


def _is_admin(member: StaffMember | None) -> bool:
    return member is not None and member.role == "admin"


def _details(details: object) -> str | None:
    if details is None or isinstance(details, str):
        return details
    return json.dumps(details, ensure_ascii=False)


Deliver = Callable[[Progress, Recipient], Awaitable[Outcome]]
Report = Callable[[Progress], Awaitable[None]]


class AnnouncementSender:
    """Works one announcement while this process holds its outbox row: a slice of recipients
    at a time, a few messages in flight (the bot's pacer keeps the pace), each recorded as
    soon as it is answered. Stops when the lease could have run out, when Telegram asks to
    wait, when the announcement is paused or done, or when another holder took the row."""

    def __init__(self, service: AnnouncementService, messages_per_second: float,
                 in_flight: int | None = None, slice_size: int | None = None) -> None:
        self._service = service
        # Enough in flight to keep the pace at ~200 ms per Bot API call, and a slice of
        # about two seconds of sending, so a pause is seen quickly.
        self.in_flight = in_flight or max(4, min(32, int(messages_per_second / 5) + 1))
        self.slice_size = slice_size or max(20, int(messages_per_second * 2))

    def holder(self) -> str:
        return f"{self._service.worker[:16]}:{secrets.token_hex(6)}"

    async def run(self, announcement_id: int, deliver: Deliver, report: Report,
                  given_to: str | None = None) -> None:
        """Take the row (claimed for this process by `claim_due` or at confirmation, when
        `given_to` names the process) and work it until there is nothing more to do here."""
        holder = self.holder()
        lease = _Lease()
        if not await lease.take(lambda: self._service.take(announcement_id, holder, given_to)):
            return
        keeper = asyncio.create_task(self._keep(announcement_id, holder, lease))
        try:
            while True:
                step = await self._service.next_step(announcement_id, self.slice_size)
                if step.action == "stop":
                    return
                if step.action == "report":
                    await self._report(step.announcement, report)
                    await self._service.reported(announcement_id)
                    return
                wait = await self._send_slice(step, deliver, lease)
                async with lease.lock:
                    if lease.lost:
                        return
                    await self._service.give_back(announcement_id, holder, wait)
                    if wait or not await lease.take(
                            lambda: self._service.take(announcement_id, holder)):
                        return  # after the wait, whichever process takes it goes on
        except asyncio.CancelledError:
            # Shutting down: the row is given back at once instead of after its lease.
            if not lease.lost:
                with contextlib.suppress(Exception):
                    await self._service.give_back(announcement_id, holder)
            raise
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)

    async def _report(self, announcement: Progress, report: Report) -> None:
        try:
            await report(announcement)
        except Exception:  # noqa: BLE001 - the report is told once; the sending is done
            log.exception("report of announcement %s not sent", announcement.id)

    async def _keep(self, announcement_id: int, holder: str, lease: "_Lease") -> None:
        while not lease.lost:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            async with lease.lock:
                if lease.lost:
                    return
                try:
                    if not await lease.take(lambda: self._service.renew(announcement_id, holder)):
                        log.warning("announcement %s: another process took it over",
                                    announcement_id)
                except Exception as exc:  # noqa: BLE001 - the lease runs out; sending stops in time
                    log.warning("announcement %s: lease not renewed: %s", announcement_id, exc)

    async def _send_slice(self, step: Step, deliver: Deliver, lease: "_Lease") -> float:
        """Send to the slice's recipients; the seconds Telegram asked to wait, or 0."""
        slots = asyncio.Semaphore(self.in_flight)
        waits: list[float] = []
        tasks: set[asyncio.Task] = set()

        async def one(recipient: Recipient) -> None:
            try:
                try:
                    outcome = await deliver(step.announcement, recipient)
                except Exception as exc:  # noqa: BLE001 - a bug in one delivery stops no other
                    log.exception("announcement %s: delivery to %s failed",
                                  step.announcement.id, recipient.user_id)
                    outcome = Outcome("retry", f"{type(exc).__name__}: {exc}")
                if outcome.kind == "wait":
                    waits.append(outcome.wait)
                elif not await self._record(step.announcement.id, recipient, outcome):
                    waits.append(RECORD_FAILED_WAIT)  # stop sending what cannot be recorded
            finally:
                slots.release()

        try:
            for recipient in step.recipients:
                await slots.acquire()
                if waits or not lease.valid():
                    slots.release()
                    break
                task = asyncio.create_task(one(recipient))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if tasks:
                await asyncio.wait(set(tasks))
        except asyncio.CancelledError:
            # Shutting down: what is on its way is let finish and recorded, so it is not sent
            # again; nothing new starts.
            if tasks:
                await asyncio.wait(set(tasks), timeout=10)
            raise
        return max(waits, default=0.0)

    async def _record(self, announcement_id: int, recipient: Recipient, outcome: Outcome) -> bool:
        """Record the outcome, waiting out a database that is briefly away: a message that
        went out and is not recorded would be sent again."""
        for delay in (*RECORD_RETRY_DELAYS, None):
            try:
                await self._service.record(announcement_id, recipient, outcome)
                return True
            except DATABASE_ERRORS as exc:
                if delay is None:
                    log.error("announcement %s: %s to %s not recorded: %s", announcement_id,
                              outcome.kind, recipient.user_id, exc)
                    return False
                await asyncio.sleep(delay)
        return False


class _Lease:
    """How long this holder may still send, by the monotonic clock: from just before the
    last successful take or renewal, LEASE less a margin. `lock` keeps a renewal from
    running while the row is given back and taken again."""

    def __init__(self) -> None:
        self._until = 0.0
        self.lost = False
        self.lock = asyncio.Lock()

    async def take(self, attempt: Callable[[], Awaitable[bool]]) -> bool:
        started = time.monotonic()
        if await attempt():
            self._until = started + (LEASE - LEASE_MARGIN).total_seconds()
            self.lost = False
            return True
        self.lost = True
        return False

    def valid(self) -> bool:
        return not self.lost and time.monotonic() < self._until
