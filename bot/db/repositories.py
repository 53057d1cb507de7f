"""Queries only: repositories add and read rows on the caller's session and never commit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Insert, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.db.models import (AuditEntry, FlowState, HelpRequest, InboxUpdate, Interaction,
                           OutboxMessage, RequestMessage, ScheduledJob, StaffMember, User, utcnow)


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
        query = select(HelpRequest).where(*where).order_by(HelpRequest.id).offset(offset).limit(limit)
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
_HELD = select(_INBOX.c.update_id).where(
    _INBOX.c.update_id.in_(bindparam("ids", expanding=True)),
    _INBOX.c.claimed_by == bindparam("worker"), _INBOX.c.status == "claimed")
_FINISH = (update(_INBOX).where(_INBOX.c.update_id.in_(bindparam("ids", expanding=True)))
           .values(status=bindparam("status"), payload=None, claimed_until=None))
_USERS = select(User).where(User.id.in_(bindparam("ids", expanding=True)))
_ADD_INTERACTIONS = insert(Interaction.__table__)
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

    def held_by(self, worker: str, update_ids: list[int]) -> set[int]:
        return set(self.session.execute(_HELD, {"ids": update_ids, "worker": worker}).scalars())

    def finish_many(self, outcomes: list[tuple[int, str]]) -> None:
        """(update_id, done | dropped) each; the payload goes, the row stays a while."""
        for status in {status for _, status in outcomes}:
            ids = [update_id for update_id, s in outcomes if s == status]
            self.session.execute(_FINISH, {"ids": ids, "status": status})

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

    def add_interactions(self, rows: list[dict]) -> None:
        if rows:
            self.session.execute(_ADD_INTERACTIONS, rows)

    def change_user(self, user_id: int, values: dict) -> None:
        self.session.execute(_CHANGE_USER.values(**values), {"user_id": user_id})

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

    async def for_ref(self, kind: str, ref: int) -> OutboxMessage | None:
        query = select(OutboxMessage).where(OutboxMessage.kind == kind, OutboxMessage.ref == ref)
        return (await self.session.execute(query.limit(1))).scalar_one_or_none()

    async def delete_for_refs(self, kind: str, refs: list[int]) -> None:
        if refs:
            await self.session.execute(delete(OutboxMessage).where(
                OutboxMessage.kind == kind, OutboxMessage.ref.in_(refs)))


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
