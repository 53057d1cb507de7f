"""Queries only: repositories add and read rows on the caller's session and never commit."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Insert, Select, Table, bindparam, delete, func, select, true
from sqlalchemy.engine import Dialect
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.db.models import (AuditEntry, FlowState, HelpRequest, Interaction, RequestMessage,
                           StaffMember, User)


def _json_rows_source(columns: list[str]) -> Select:
    """SQLite: the rows of a JSON array bound as :rows, one column per key."""
    each = func.json_each(bindparam("rows")).table_valued("value")
    return (select(*[func.json_extract(each.c.value, f"$.{name}").label(name) for name in columns])
            .select_from(each).where(true()))


def _json_rows(table: Table, rows: list[dict], dialect: Dialect) -> str:
    """The rows as that JSON array, each value stored as the column's type would store it."""
    processors = {name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                  for name in rows[0]}
    return json.dumps([{name: processors[name](value) if processors[name] else value
                        for name, value in row.items()} for row in rows], ensure_ascii=False)


async def _insert_rows(session: AsyncSession, table: Table, rows: list[dict],
                       on_conflict: Callable[[Insert], Insert] = lambda insert: insert) -> None:
    """Many rows in one statement. On SQLite, executemany hands the GIL over once per row,
    and with a busy event loop each handover waits up to 5 ms: a second's worth of rows took
    seconds and held the one write connection meanwhile. One INSERT ... SELECT over a JSON
    array of the rows is one step. (asyncpg pipelines executemany in the event loop.)"""
    if not rows:
        return
    dialect = session.bind.dialect
    if dialect.name != "sqlite":
        await session.execute(on_conflict(pg_insert(table)), rows)
        return
    columns = list(rows[0])
    statement = sqlite_insert(table).from_select(columns, _json_rows_source(columns))
    await session.execute(on_conflict(statement), {"rows": _json_rows(table, rows, dialect)})


def _keep_identity_of_known_users(upsert: Insert) -> Insert:
    """The pseudonym and first_seen of a known user never change; a missing locale or
    language keeps the old one."""
    return upsert.on_conflict_do_update(index_elements=[User.id], set_={
        "locale": func.coalesce(upsert.excluded.locale, User.locale),
        "language_code": func.coalesce(upsert.excluded.language_code, User.language_code),
        "is_active": upsert.excluded.is_active,
        "last_seen": upsert.excluded.last_seen,
    })


def _replace_draft(upsert: Insert) -> Insert:
    return upsert.on_conflict_do_update(index_elements=[FlowState.user_id], set_={
        name: getattr(upsert.excluded, name) for name in ("flow", "step", "data", "updated_at")})


# Lookups by key for `Reader.run`: plain functions of a synchronous session.

def find_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def find_draft(session: Session, user_id: int) -> FlowState | None:
    return session.get(FlowState, user_id)


@dataclass
class UserRepository:
    session: AsyncSession

    async def save_visits(self, rows: list[dict]) -> None:
        """Insert new users and update known ones."""
        await _insert_rows(self.session, User.__table__, rows, _keep_identity_of_known_users)


@dataclass
class InteractionRepository:
    session: AsyncSession

    async def add_many(self, rows: list[dict]) -> None:
        await _insert_rows(self.session, Interaction.__table__, rows)

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

    async def write(self, drafts: dict[int, tuple[str, str, str, datetime] | None]) -> None:
        """Per user: (flow, step, data, updated_at) to keep, or None to delete the draft."""
        gone = [user_id for user_id, draft in drafts.items() if draft is None]
        if gone:
            await self.session.execute(delete(FlowState).where(FlowState.user_id.in_(gone)))
        await _insert_rows(self.session, FlowState.__table__, [
            {"user_id": user_id, "flow": flow, "step": step, "data": data, "updated_at": at}
            for user_id, (flow, step, data, at) in
            ((u, d) for u, d in drafts.items() if d is not None)], _replace_draft)

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

    async def without_card(self, limit: int = 20) -> list[HelpRequest]:
        query = (select(HelpRequest)
                 .where(HelpRequest.staff_message_id.is_(None),
                        HelpRequest.status.in_(OPEN_STATUSES),
                        HelpRequest.deleted_by_user.is_(False))
                 .order_by(HelpRequest.id).limit(limit))
        return list((await self.session.execute(query)).scalars())

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
