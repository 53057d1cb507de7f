"""Queries only: repositories add and read rows on the caller's session and never commit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Insert, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy import BigInteger, case, literal

from bot.db.models import (AuditEntry, CaseNote, ChatMessage, DeadlinePlan, DeadlineReminder, DeadlineStay, FlowState,
                           HelpRequest, InboxUpdate, Interaction, OutboxMessage, RequestMessage,
                           ScheduledJob, StaffMember, User, utcnow)
from bot.db.models import Announcement, AnnouncementRecipient


def _insert(session: AsyncSession | Session, table: Table) -> Insert:
    """An INSERT that can say what to do on a conflict (both dialects spell it alike)."""
    dialect = session.bind.dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


@dataclass
class UserRepository:
    session: AsyncSession

    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def add_if_new(self, row: dict) -> None:
        """Create the user unless another process just did."""
        statement = _insert(self.session, User.__table__).values(**row)
        await self.session.execute(statement.on_conflict_do_nothing(index_elements=[User.id]))

    async def change(self, user_id: int, **values: object) -> None:
        await self.session.execute(update(User).where(User.id == user_id).values(**values))

    async def set_country_if_unknown(self, user_id: int, country: str) -> None:
        await self.session.execute(update(User).where(User.id == user_id, User.country.is_(None))
                                   .values(country=country))


@dataclass
class UserRecords:
    """Synchronous, for `Transactions.run`: users are created and changed on the hot path."""

    session: Session

    def get(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)

    def add_if_new(self, row: dict) -> None:
        """Create the user unless another process just did."""
        statement = _insert(self.session, User.__table__).values(**row)
        self.session.execute(statement.on_conflict_do_nothing(index_elements=[User.id]))

    def change(self, user_id: int, **values: object) -> None:
        self.session.execute(update(User).where(User.id == user_id).values(**values))


@dataclass
class DraftRecords:
    """Synchronous, for `Transactions.run`: every step of a form saves its draft."""

    session: Session

    def get(self, user_id: int) -> FlowState | None:
        return self.session.get(FlowState, user_id)

    def put(self, user_id: int, flow: str, step: str, data: str, at: datetime) -> None:
        values = {"flow": flow, "step": step, "data": data, "updated_at": at}
        statement = _insert(self.session, FlowState.__table__).values(user_id=user_id, **values)
        self.session.execute(statement.on_conflict_do_update(
            index_elements=[FlowState.user_id], set_=values))

    def delete(self, user_id: int) -> None:
        self.session.execute(delete(FlowState).where(FlowState.user_id == user_id))

    def delete_older_than(self, moment: datetime) -> None:
        self.session.execute(delete(FlowState).where(FlowState.updated_at < moment))


@dataclass
class InteractionRepository:
    session: AsyncSession

    async def add_many(self, rows: list[dict]) -> None:
        if rows:
            await self.session.execute(insert(Interaction), rows)

    async def count(self, **filters: object) -> int:
        query = select(func.count()).select_from(Interaction).filter_by(**filters)
        return (await self.session.execute(query)).scalar_one()

    async def topic_counts(self, since: datetime, kind: str) -> list[tuple[str, int]]:
        count = func.count().label("n")
        query = (select(Interaction.topic_key, count)
                 .where(Interaction.created_at >= since, Interaction.kind == kind,
                        Interaction.topic_key.is_not(None))
                 .group_by(Interaction.topic_key).order_by(count.desc(), Interaction.topic_key))
        return [(key, n) for key, n in (await self.session.execute(query)).all()]

    async def unanswered_queries(self, since: datetime) -> list[str]:
        query = select(Interaction.query).where(
            Interaction.created_at >= since, Interaction.kind == "search",
            Interaction.result_count == 0, Interaction.query.is_not(None))
        return [row for row in (await self.session.execute(query)).scalars()]

    async def list_since(self, since: datetime) -> list[Interaction]:
        query = select(Interaction).where(Interaction.created_at >= since).order_by(Interaction.id)
        return list((await self.session.execute(query)).scalars())


@dataclass
class StaffRepository:
    session: AsyncSession

    async def get(self, user_id: int) -> StaffMember | None:
        return await self.session.get(StaffMember, user_id)

    def add(self, member: StaffMember) -> None:
        self.session.add(member)

    async def make_admin(self, user_id: int) -> bool:
        """True when this call made them admin (they were not staff, or were staff)."""
        statement = _insert(self.session, StaffMember.__table__).values(
            user_id=user_id, role="admin", added_at=utcnow())
        statement = statement.on_conflict_do_update(
            index_elements=[StaffMember.user_id], set_={"role": "admin"},
            where=StaffMember.__table__.c.role != "admin").returning(StaffMember.user_id)
        return (await self.session.execute(statement)).first() is not None

    async def remove(self, member: StaffMember) -> None:
        await self.session.delete(member)

    async def all(self) -> list[StaffMember]:
        query = select(StaffMember).order_by(StaffMember.role, StaffMember.user_id)
        return list((await self.session.execute(query)).scalars())


@dataclass
class AuditRepository:
    session: AsyncSession

    def add(self, actor_id: int | None, action: str, target: str | None = None,
            details: str | None = None) -> None:
        self.session.add(AuditEntry(actor_id=actor_id, action=action, target=target,
                                    details=details))

    async def all(self) -> list[AuditEntry]:
        return list((await self.session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars())


@dataclass
class FlowRepository:
    session: AsyncSession

    async def get(self, user_id: int) -> FlowState | None:
        return await self.session.get(FlowState, user_id)

    async def put(self, user_id: int, flow: str, step: str, data: str, at: datetime) -> None:
        values = {"flow": flow, "step": step, "data": data, "updated_at": at}
        statement = _insert(self.session, FlowState.__table__).values(user_id=user_id, **values)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=[FlowState.user_id], set_=values))

    async def delete(self, user_id: int) -> None:
        await self.session.execute(delete(FlowState).where(FlowState.user_id == user_id))

    async def delete_older_than(self, moment: datetime) -> None:
        await self.session.execute(delete(FlowState).where(FlowState.updated_at < moment))


OPEN_STATUSES = ("new", "in_progress", "answered")


@dataclass
class RequestRepository:
    session: AsyncSession

    def add(self, request: HelpRequest) -> None:
        self.session.add(request)

    async def get(self, request_id: int) -> HelpRequest | None:
        return await self.session.get(HelpRequest, request_id)

    async def by_number(self, number: str) -> HelpRequest | None:
        query = select(HelpRequest).where(HelpRequest.number == number)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def for_user(self, user_id: int, limit: int = 20) -> list[HelpRequest]:
        query = (select(HelpRequest).where(HelpRequest.user_id == user_id,
                                           HelpRequest.deleted_by_user.is_(False))
                 .order_by(HelpRequest.id.desc()).limit(limit))
        return list((await self.session.execute(query)).scalars())

    async def awaiting_user(self, user_id: int, since: datetime) -> HelpRequest | None:
        query = (select(HelpRequest)
                 .where(HelpRequest.user_id == user_id, HelpRequest.status == "answered",
                        HelpRequest.deleted_by_user.is_(False), HelpRequest.updated_at >= since)
                 .order_by(HelpRequest.updated_at.desc()).limit(1))
        return (await self.session.execute(query)).scalar_one_or_none()

    async def open_queue(self, offset: int, limit: int) -> tuple[list[HelpRequest], int]:
        where = (HelpRequest.status.in_(OPEN_STATUSES), HelpRequest.deleted_by_user.is_(False))
        total = (await self.session.execute(
            select(func.count()).select_from(HelpRequest).where(*where))).scalar_one()
        # A cry for help first, then the oldest.
        query = (select(HelpRequest).where(*where)
                 .order_by(HelpRequest.urgent.desc(), HelpRequest.id).offset(offset).limit(limit))
        return list((await self.session.execute(query)).scalars()), total

    async def search(self, text: str, limit: int = 20) -> list[HelpRequest]:
        pattern = f"%{text.lower()}%"
        matching_thread = select(RequestMessage.request_id).where(
            func.lower(RequestMessage.text).like(pattern))
        query = (select(HelpRequest)
                 .where(HelpRequest.deleted_by_user.is_(False),
                        (func.lower(HelpRequest.number).like(pattern)) |
                        HelpRequest.id.in_(matching_thread))
                 .order_by(HelpRequest.id.desc()).limit(limit))
        return list((await self.session.execute(query)).scalars())

    async def since(self, moment: datetime) -> list[HelpRequest]:
        query = select(HelpRequest).where(HelpRequest.created_at >= moment).order_by(HelpRequest.id)
        return list((await self.session.execute(query)).scalars())

    async def waiting_longer(self, waited_before: datetime, reminded_before: datetime,
                             limit: int) -> tuple[list[HelpRequest], int]:
        """Open cases waiting since before `waited_before` whose staff were not reminded
        since `reminded_before`: the longest wait first."""
        where = (HelpRequest.status.in_(OPEN_STATUSES), HelpRequest.deleted_by_user.is_(False),
                 HelpRequest.waiting_since < waited_before,
                 HelpRequest.reminded_at.is_(None) | (HelpRequest.reminded_at < reminded_before))
        total = (await self.session.execute(
            select(func.count()).select_from(HelpRequest).where(*where))).scalar_one()
        query = (select(HelpRequest).where(*where)
                 .order_by(HelpRequest.waiting_since, HelpRequest.id).limit(limit))
        return list((await self.session.execute(query)).scalars()), total

    async def mark_reminded(self, request_ids: list[int], now: datetime) -> None:
        if request_ids:
            await self.session.execute(update(HelpRequest).where(HelpRequest.id.in_(request_ids))
                                       .values(reminded_at=now))

    async def first_question(self, request_id: int) -> str:
        query = (select(RequestMessage.text).where(RequestMessage.request_id == request_id,
                                                   RequestMessage.author == "user")
                 .order_by(RequestMessage.id).limit(1))
        return (await self.session.execute(query)).scalar_one_or_none() or ""

    async def note_count(self, request_id: int) -> int:
        query = select(func.count()).select_from(CaseNote).where(CaseNote.request_id == request_id)
        return (await self.session.execute(query)).scalar_one()

    def add_message(self, message: RequestMessage) -> None:
        self.session.add(message)

    async def thread(self, request_id: int) -> list[RequestMessage]:
        query = (select(RequestMessage).where(RequestMessage.request_id == request_id)
                 .order_by(RequestMessage.id))
        return list((await self.session.execute(query)).scalars())

    async def threads(self, request_ids: list[int]) -> dict[int, list[RequestMessage]]:
        grouped: dict[int, list[RequestMessage]] = {rid: [] for rid in request_ids}
        if not request_ids:
            return grouped
        query = (select(RequestMessage).where(RequestMessage.request_id.in_(request_ids))
                 .order_by(RequestMessage.id))
        for message in (await self.session.execute(query)).scalars():
            grouped[message.request_id].append(message)
        return grouped


UNFINISHED = ("queued", "claimed")


_INBOX = InboxUpdate.__table__


def _unfinished(table):
    return (table.c.status == "queued") | (table.c.status == "claimed")


def _claim_statement():
    """Built once, in Core: every update is claimed through it, and building (or going
    through the ORM) costs more than running it on SQLite."""
    earlier = _INBOX.alias("earlier")
    waiting_for_earlier = select(earlier.c.update_id).where(
        earlier.c.user_key == _INBOX.c.user_key, earlier.c.update_id < _INBOX.c.update_id,
        _unfinished(earlier)).exists()
    ready = (select(_INBOX.c.update_id)
             .where((_INBOX.c.status == "queued") |
                    ((_INBOX.c.status == "claimed") & (_INBOX.c.claimed_until < bindparam("now"))),
                    ~waiting_for_earlier)
             .order_by(_INBOX.c.update_id).limit(bindparam("limit"))
             .with_for_update(skip_locked=True))
    return (update(_INBOX).where(_INBOX.c.update_id.in_(ready.scalar_subquery()))
            .values(status="claimed", claimed_by=bindparam("worker"),
                    claimed_until=bindparam("until"))
            .returning(_INBOX.c.update_id, _INBOX.c.user_key, _INBOX.c.payload))


_CLAIM = _claim_statement()
_RECENT = (select(_INBOX.c.user_key, _INBOX.c.status, func.count(), func.min(_INBOX.c.received_at))
           .where(_INBOX.c.user_key.in_(bindparam("keys", expanding=True)),
                  _INBOX.c.received_at >= bindparam("since"))
           .group_by(_INBOX.c.user_key, _INBOX.c.status))
_FINISH = (update(_INBOX)
           .where(_INBOX.c.update_id.in_(bindparam("ids", expanding=True)),
                  _INBOX.c.claimed_by == bindparam("worker"), _INBOX.c.status == "claimed")
           .values(status=bindparam("status"), payload=None, claimed_until=None)
           .returning(_INBOX.c.update_id))
_USERS = select(User).where(User.id.in_(bindparam("ids", expanding=True)))
_ADD_INTERACTIONS = insert(Interaction.__table__)
_DRAFTS = select(FlowState).where(FlowState.user_id.in_(bindparam("ids", expanding=True)))
_AWAITING = (select(HelpRequest.user_id, HelpRequest.id)
             .where(HelpRequest.user_id.in_(bindparam("ids", expanding=True)),
                    HelpRequest.status == "answered", HelpRequest.deleted_by_user.is_(False),
                    HelpRequest.updated_at >= bindparam("since"))
             .order_by(HelpRequest.updated_at.desc()))
_CHANGE_USER = User.__table__.update().where(User.__table__.c.id == bindparam("user_id"))


@dataclass
class InboxRepository:
    """Synchronous, for `Transactions.run` (see bot.db.engine): the inbox is the hot path,
    so its statements are built once."""

    session: Session

    def add_new(self, rows: list[dict]) -> None:
        """Store updates; one already stored (Telegram delivered it again) is left alone."""
        statement = _insert(self.session, InboxUpdate.__table__)
        self.session.execute(
            statement.on_conflict_do_nothing(index_elements=[InboxUpdate.update_id]), rows)

    def claim(self, worker: str, now: datetime, until: datetime,
              limit: int) -> list[tuple[int, int | None, str]]:
        """Take up to `limit` updates that nobody holds (or whose holder's lease ran out) and
        whose user has no earlier update unfinished. Rows another process is claiming right
        now are skipped, not waited for (PostgreSQL; SQLite has one writer at a time)."""
        claimed = self.session.execute(_CLAIM, {"now": now, "limit": limit, "worker": worker,
                                                "until": until})
        return sorted((row.update_id, row.user_key, row.payload) for row in claimed)

    def finish_many(self, worker: str, outcomes: list[tuple[int, str]]) -> set[int]:
        """(update_id, done | dropped) each; the payload goes, the row stays a while. Returns
        the ids finished: not those another process took over when this one's lease ran out."""
        finished: set[int] = set()
        for status in {status for _, status in outcomes}:
            ids = [update_id for update_id, s in outcomes if s == status]
            finished.update(self.session.execute(
                _FINISH, {"ids": ids, "status": status, "worker": worker}).scalars())
        return finished

    def extend_leases(self, worker: str, until: datetime) -> None:
        self.session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.claimed_by == worker, InboxUpdate.status == "claimed")
            .values(claimed_until=until))

    def recent(self, user_keys: list[int], since: datetime) -> list[tuple]:
        """(user_key, status, how many, the oldest's received_at) of these users' updates
        since `since`."""
        return [tuple(row) for row in self.session.execute(_RECENT, {"keys": user_keys,
                                                                     "since": since})]

    def users(self, user_ids: list[int]) -> dict[int, User]:
        return {user.id: user for user in self.session.execute(_USERS, {"ids": user_ids}).scalars()}

    def drafts(self, user_ids: list[int]) -> dict[int, FlowState]:
        return {state.user_id: state
                for state in self.session.execute(_DRAFTS, {"ids": user_ids}).scalars()}

    def awaiting(self, user_ids: list[int], since: datetime) -> dict[int, int]:
        """Per user, the case a staff member answered since `since` (the latest)."""
        found: dict[int, int] = {}
        for user_id, request_id in self.session.execute(_AWAITING, {"ids": user_ids,
                                                                    "since": since}):
            found.setdefault(user_id, request_id)
        return found

    def add_interactions(self, rows: list[dict]) -> None:
        if rows:
            self.session.execute(_ADD_INTERACTIONS, rows)

    def change_user(self, user_id: int, values: dict) -> None:
        self.session.execute(_CHANGE_USER.values(**values), {"user_id": user_id})

    def add_chat_messages(self, rows: list[dict]) -> None:
        if rows:
            statement = _insert(self.session, ChatMessage.__table__).on_conflict_do_nothing(
                index_elements=[ChatMessage.chat_id, ChatMessage.message_id])
            self.session.execute(statement, rows)

    def delete_finished_before(self, moment: datetime) -> int:
        result = self.session.execute(delete(InboxUpdate).where(
            InboxUpdate.status.in_(("done", "dropped")), InboxUpdate.received_at < moment))
        return result.rowcount or 0

    def delete_finished_of(self, user_key: int) -> None:
        self.session.execute(delete(InboxUpdate).where(
            InboxUpdate.user_key == user_key, InboxUpdate.status.in_(("done", "dropped"))))


@dataclass
class OutboxRepository:
    session: AsyncSession

    def add(self, kind: str, ref: int, due_at: datetime, claimed_by: str | None = None,
            claimed_until: datetime | None = None) -> OutboxMessage:
        message = OutboxMessage(kind=kind, ref=ref, due_at=due_at, claimed_by=claimed_by,
                                claimed_until=claimed_until, attempts=0)
        self.session.add(message)
        return message

    async def claim_due(self, worker: str, now: datetime, until: datetime,
                        limit: int) -> list[OutboxMessage]:
        due = (select(OutboxMessage.id)
               .where(OutboxMessage.done_at.is_(None), OutboxMessage.due_at <= now,
                      OutboxMessage.claimed_until.is_(None) | (OutboxMessage.claimed_until < now))
               .order_by(OutboxMessage.due_at, OutboxMessage.id).limit(limit)
               .with_for_update(skip_locked=True))
        claimed = await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(due.scalar_subquery()))
            .values(claimed_by=worker, claimed_until=until,
                    attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id))
        ids = [row.id for row in claimed]
        if not ids:
            return []
        query = select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
        return list((await self.session.execute(query)).scalars())

    async def get(self, message_id: int) -> OutboxMessage | None:
        return await self.session.get(OutboxMessage, message_id)

    async def waiting(self, kind: str, ref: int, now: datetime) -> OutboxMessage | None:
        """A row for `ref` not done and not being sent now (unclaimed, or its lease ran out)."""
        query = select(OutboxMessage).where(
            OutboxMessage.kind == kind, OutboxMessage.ref == ref, OutboxMessage.done_at.is_(None),
            OutboxMessage.claimed_until.is_(None) | (OutboxMessage.claimed_until < now))
        return (await self.session.execute(query.limit(1))).scalar_one_or_none()

    async def for_ref(self, kind: str, ref: int) -> OutboxMessage | None:
        query = select(OutboxMessage).where(OutboxMessage.kind == kind, OutboxMessage.ref == ref)
        return (await self.session.execute(query.limit(1))).scalar_one_or_none()

    async def delete_done(self, kinds: tuple[str, ...], before: datetime) -> int:
        result = await self.session.execute(delete(OutboxMessage).where(
            OutboxMessage.kind.in_(kinds), OutboxMessage.done_at < before))
        return result.rowcount or 0

    async def delete_for_refs(self, kind: str, refs: list[int]) -> None:
        if refs:
            await self.session.execute(delete(OutboxMessage).where(
                OutboxMessage.kind == kind, OutboxMessage.ref.in_(refs)))


@dataclass
class ChatMessageRepository:
    """Recent private-chat messages, for the quick exit."""

    session: AsyncSession

    async def add(self, rows: list[dict]) -> None:
        if rows:
            statement = _insert(self.session, ChatMessage.__table__).on_conflict_do_nothing(
                index_elements=[ChatMessage.chat_id, ChatMessage.message_id])
            await self.session.execute(statement, rows)

    async def since(self, chat_id: int, moment: datetime) -> list[int]:
        query = (select(ChatMessage.message_id)
                 .where(ChatMessage.chat_id == chat_id, ChatMessage.sent_at >= moment)
                 .order_by(ChatMessage.message_id))
        return list((await self.session.execute(query)).scalars())

    async def delete(self, chat_id: int, message_ids: list[int] | None = None) -> None:
        """These messages of the chat, or all of them."""
        where = [ChatMessage.chat_id == chat_id]
        if message_ids is not None:
            where.append(ChatMessage.message_id.in_(message_ids))
        await self.session.execute(delete(ChatMessage).where(*where))

    async def delete_before(self, moment: datetime) -> int:
        result = await self.session.execute(delete(ChatMessage).where(ChatMessage.sent_at < moment))
        return result.rowcount or 0


@dataclass
class JobRepository:
    session: AsyncSession

    async def ensure(self, name: str, first_run: datetime) -> None:
        statement = _insert(self.session, ScheduledJob.__table__).values(
            name=name, next_run_at=first_run)
        await self.session.execute(
            statement.on_conflict_do_nothing(index_elements=[ScheduledJob.name]))

    async def take_if_due(self, name: str, now: datetime, next_run: datetime) -> bool:
        """Move the job's next run forward if it is due: the one process that did runs it."""
        result = await self.session.execute(
            update(ScheduledJob)
            .where(ScheduledJob.name == name, ScheduledJob.next_run_at <= now)
            .values(next_run_at=next_run))
        return result.rowcount == 1


REMINDER = "reminder"  # the outbox kind of a deadline reminder


@dataclass
class DeadlineRepository:
    """My deadlines: a person's plan, earlier stays and reminders (with their outbox rows)."""

    session: AsyncSession

    async def plan(self, user_id: int) -> DeadlinePlan | None:
        return await self.session.get(DeadlinePlan, user_id)

    def add_plan(self, plan: DeadlinePlan) -> None:
        self.session.add(plan)

    async def stays(self, user_id: int) -> list[DeadlineStay]:
        query = (select(DeadlineStay).where(DeadlineStay.user_id == user_id)
                 .order_by(DeadlineStay.entered, DeadlineStay.id))
        return list((await self.session.execute(query)).scalars())

    def add_stay(self, stay: DeadlineStay) -> None:
        self.session.add(stay)

    async def delete_stays(self, user_id: int, stay_id: int | None = None) -> int:
        """This user's stay `stay_id` (a button may be forged: the owner is checked), or all."""
        where = [DeadlineStay.user_id == user_id]
        if stay_id is not None:
            where.append(DeadlineStay.id == stay_id)
        return (await self.session.execute(delete(DeadlineStay).where(*where))).rowcount or 0

    async def reminders(self, user_id: int) -> list[DeadlineReminder]:
        query = (select(DeadlineReminder).where(DeadlineReminder.user_id == user_id)
                 .order_by(DeadlineReminder.due_at, DeadlineReminder.id))
        return list((await self.session.execute(query)).scalars())

    async def reminder(self, reminder_id: int) -> DeadlineReminder | None:
        return await self.session.get(DeadlineReminder, reminder_id)

    async def add_reminder(self, reminder: DeadlineReminder) -> DeadlineReminder:
        """The reminder and its outbox row, due at the reminder's time."""
        self.session.add(reminder)
        await self.session.flush()
        OutboxRepository(self.session).add(REMINDER, reminder.id, reminder.due_at)
        return reminder

    async def delete_reminders(self, user_id: int, *, rule_key: str | None = None,
                               pending_only: bool = True) -> int:
        """Reminders (not yet sent ones, unless `pending_only` is false) and their outbox rows."""
        where = [DeadlineReminder.user_id == user_id]
        if rule_key is not None:
            where.append(DeadlineReminder.rule_key == rule_key)
        if pending_only:
            where.append(DeadlineReminder.sent_at.is_(None))
        ids = list((await self.session.execute(select(DeadlineReminder.id).where(*where))).scalars())
        if ids:
            await OutboxRepository(self.session).delete_for_refs(REMINDER, ids)
            await self.session.execute(delete(DeadlineReminder).where(DeadlineReminder.id.in_(ids)))
        return len(ids)

    async def delete_all(self, user_id: int) -> bool:
        """The plan, its stays and every reminder; True when there was a plan."""
        await self.delete_reminders(user_id, pending_only=False)
        await self.delete_stays(user_id)
        result = await self.session.execute(delete(DeadlinePlan).where(DeadlinePlan.user_id == user_id))
        return bool(result.rowcount)

    async def plans_after(self, user_id: int, limit: int) -> list[DeadlinePlan]:
        """Plans in user id order, from after `user_id`: to walk them all a batch at a time."""
        query = (select(DeadlinePlan).where(DeadlinePlan.user_id > user_id)
                 .order_by(DeadlinePlan.user_id).limit(limit))
        return list((await self.session.execute(query)).scalars())

    async def stays_of(self, user_ids: list[int]) -> dict[int, list[DeadlineStay]]:
        grouped: dict[int, list[DeadlineStay]] = {user_id: [] for user_id in user_ids}
        if user_ids:
            query = (select(DeadlineStay).where(DeadlineStay.user_id.in_(user_ids))
                     .order_by(DeadlineStay.entered, DeadlineStay.id))
            for stay in (await self.session.execute(query)).scalars():
                grouped[stay.user_id].append(stay)
        return grouped


ANNOUNCEMENT = "announcement"  # the outbox kind of an announcement (ref = its id)
_RECIPIENT = AnnouncementRecipient.__table__


def _guessed_locale(default_locale: str, guesses: dict[str, str]):
    """The locale a user reads, as `load_user` decides it: the one they chose, else the guess
    from Telegram's language code (`en-GB` → `en`), else the default."""
    code = func.lower(User.language_code)
    whens = [((code == prefix) | code.like(f"{prefix}-%"), locale) for prefix, locale in guesses.items()]
    return func.coalesce(User.locale, case(*whens, else_=default_locale))


def _users_country():
    """The country the user gave: their own setting, else the one of their latest request."""
    latest = (select(HelpRequest.country)
              .where(HelpRequest.user_id == User.id, HelpRequest.deleted_by_user.is_(False))
              .order_by(HelpRequest.created_at.desc(), HelpRequest.id.desc())
              .limit(1).correlate(User).scalar_subquery())
    return func.coalesce(User.country, latest)


@dataclass
class AnnouncementRepository:
    """Announcements, their recipients, and their outbox row."""

    session: AsyncSession

    def add(self, announcement: Announcement) -> None:
        self.session.add(announcement)

    async def get(self, announcement_id: int, lock: bool = False) -> Announcement | None:
        """`lock`: hold the row to the end of the transaction (PostgreSQL; SQLite transactions
        take the write lock anyway), so state changes never cross."""
        query = select(Announcement).where(Announcement.id == announcement_id)
        if lock:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def recent(self, limit: int) -> list[Announcement]:
        query = select(Announcement).order_by(Announcement.id.desc()).limit(limit)
        return list((await self.session.execute(query)).scalars())

    # Who: a segment is a set of conditions on users, all of which must hold.

    @staticmethod
    def audience(*, locales: tuple[str, ...], countries: tuple[str, ...],
                 active_since: datetime | None, open_case: bool, default_locale: str,
                 guesses: dict[str, str]):
        """(the users' locale expression, the conditions) of a segment. Users who blocked the
        bot (not active) or turned announcements off are never in one; users who deleted
        their data have no row."""
        locale = _guessed_locale(default_locale, guesses)
        where = [User.is_active.is_(True), User.announcements_off.is_(False)]
        if locales:
            where.append(locale.in_(locales))
        if countries:
            where.append(_users_country().in_(countries))
        if active_since is not None:
            where.append(User.last_seen >= active_since)
        if open_case:
            where.append(select(HelpRequest.id).where(
                HelpRequest.user_id == User.id, HelpRequest.status.in_(OPEN_STATUSES),
                HelpRequest.deleted_by_user.is_(False)).exists())
        return locale, where

    async def count_by_locale(self, locale, where) -> dict[str, int]:
        query = select(locale, func.count()).select_from(User).where(*where).group_by(locale)
        return {row[0]: row[1] for row in (await self.session.execute(query)).all()}

    async def choose_recipients(self, announcement_id: int, locale, where) -> int:
        """One pending row per user of the segment, in one statement."""
        chosen = select(literal(announcement_id, BigInteger), User.id, locale,
                        literal("pending"), literal(0)).where(*where)
        await self.session.execute(insert(AnnouncementRecipient).from_select(
            ["announcement_id", "user_id", "locale", "status", "attempts"], chosen))
        return await self.count(announcement_id)

    async def count(self, announcement_id: int, status: str | None = None) -> int:
        query = select(func.count()).select_from(AnnouncementRecipient).where(
            AnnouncementRecipient.announcement_id == announcement_id)
        if status is not None:
            query = query.where(AnnouncementRecipient.status == status)
        return (await self.session.execute(query)).scalar_one()

    async def counts(self, announcement_id: int) -> list[tuple[str, str, int]]:
        """(locale, status, how many) of one announcement's recipients."""
        query = (select(AnnouncementRecipient.locale, AnnouncementRecipient.status, func.count())
                 .where(AnnouncementRecipient.announcement_id == announcement_id)
                 .group_by(AnnouncementRecipient.locale, AnnouncementRecipient.status))
        return [tuple(row) for row in (await self.session.execute(query)).all()]

    async def next_pending(self, announcement_id: int, limit: int) -> list[tuple]:
        """(user id, locale, attempts, the user's row still exists, announcements off, is
        active) of the next pending recipients: fewest attempts first, so retries go last."""
        query = (select(AnnouncementRecipient.user_id, AnnouncementRecipient.locale,
                        AnnouncementRecipient.attempts, User.id.is_not(None),
                        User.announcements_off, User.is_active)
                 .outerjoin(User, User.id == AnnouncementRecipient.user_id)
                 .where(AnnouncementRecipient.announcement_id == announcement_id,
                        AnnouncementRecipient.status == "pending")
                 .order_by(AnnouncementRecipient.attempts, AnnouncementRecipient.user_id)
                 .limit(limit))
        return [tuple(row) for row in (await self.session.execute(query)).all()]

    async def mark(self, announcement_id: int, user_ids: list[int], **values: object) -> None:
        if user_ids:
            await self.session.execute(
                update(AnnouncementRecipient)
                .where(AnnouncementRecipient.announcement_id == announcement_id,
                       AnnouncementRecipient.user_id.in_(user_ids))
                .values(**values))

    async def tried(self, announcement_id: int, user_id: int, status: str, error: str | None,
                    sent_at: datetime | None = None) -> None:
        """One more attempt at one recipient, and where it left them."""
        await self.session.execute(
            update(AnnouncementRecipient)
            .where(AnnouncementRecipient.announcement_id == announcement_id,
                   AnnouncementRecipient.user_id == user_id)
            .values(status=status, attempts=AnnouncementRecipient.attempts + 1,
                    last_error=error, sent_at=sent_at))

    async def cancel_pending(self, announcement_id: int) -> None:
        await self.session.execute(
            update(AnnouncementRecipient)
            .where(AnnouncementRecipient.announcement_id == announcement_id,
                   AnnouncementRecipient.status == "pending")
            .values(status="cancelled"))

    async def of_user(self, user_id: int) -> list[AnnouncementRecipient]:
        query = (select(AnnouncementRecipient).where(AnnouncementRecipient.user_id == user_id)
                 .order_by(AnnouncementRecipient.announcement_id))
        return list((await self.session.execute(query)).scalars())

    async def forget_user(self, user_id: int) -> None:
        await self.session.execute(delete(AnnouncementRecipient).where(
            AnnouncementRecipient.user_id == user_id))

    async def delete_finished_before(self, moment: datetime) -> int:
        """Finished announcements (with their recipients) from before `moment`."""
        old = select(Announcement.id).where(Announcement.status.in_(("done", "cancelled")),
                                            Announcement.finished_at < moment)
        ids = list((await self.session.execute(old)).scalars())
        if ids:
            await self.session.execute(delete(AnnouncementRecipient).where(
                AnnouncementRecipient.announcement_id.in_(ids)))
            await OutboxRepository(self.session).delete_for_refs(ANNOUNCEMENT, ids)
            await self.session.execute(delete(Announcement).where(Announcement.id.in_(ids)))
        return len(ids)

    # The outbox row: one process holds it (a lease, `holder` a token of that process's
    # sending task), renews it while it sends, gives it back after each slice.

    def _outbox(self, announcement_id: int):
        return (OutboxMessage.kind == ANNOUNCEMENT, OutboxMessage.ref == announcement_id)

    async def add_outbox(self, announcement_id: int, due_at: datetime) -> None:
        OutboxRepository(self.session).add(ANNOUNCEMENT, announcement_id, due_at)

    async def take(self, announcement_id: int, holder: str, now: datetime, until: datetime,
                   given_to: str | None = None) -> bool:
        """Hold the row until `until` if it is due and nobody holds it, or if it was just
        claimed for `given_to` (this process, by `Outbox.claim_due`)."""
        free = OutboxMessage.claimed_until.is_(None) | (OutboxMessage.claimed_until < now)
        if given_to is not None:
            free = free | ((OutboxMessage.claimed_by == given_to) & (OutboxMessage.claimed_until >= now))
        result = await self.session.execute(
            update(OutboxMessage)
            .where(*self._outbox(announcement_id), OutboxMessage.done_at.is_(None),
                   OutboxMessage.due_at <= now, free)
            .values(claimed_by=holder, claimed_until=until))
        return result.rowcount == 1

    async def renew(self, announcement_id: int, holder: str, now: datetime,
                    until: datetime) -> bool:
        result = await self.session.execute(
            update(OutboxMessage)
            .where(*self._outbox(announcement_id), OutboxMessage.done_at.is_(None),
                   OutboxMessage.claimed_by == holder, OutboxMessage.claimed_until >= now)
            .values(claimed_until=until))
        return result.rowcount == 1

    async def give_back(self, announcement_id: int, holder: str, due_at: datetime) -> None:
        await self.session.execute(
            update(OutboxMessage)
            .where(*self._outbox(announcement_id), OutboxMessage.claimed_by == holder)
            .values(claimed_until=None, due_at=due_at))

    async def finish_outbox(self, announcement_id: int) -> None:
        await self.session.execute(
            update(OutboxMessage).where(*self._outbox(announcement_id))
            .values(done_at=utcnow(), claimed_until=None))

    async def rearm_outbox(self, announcement_id: int, now: datetime) -> None:
        """Due again now (resumed, or to report); a holder whose lease runs keeps it."""
        await self.session.execute(
            update(OutboxMessage).where(*self._outbox(announcement_id))
            .values(done_at=None, due_at=now))
