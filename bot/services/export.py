"""Exports for the agency's reports: requests with their threads, and interactions."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.db.repositories import InteractionRepository
from bot.services.requests import RequestService

REQUEST_FIELDS = ("number", "status", "created_at", "topic_key", "country", "asker", "locale",
                  "phone", "assignee_id", "first_reply_at", "resolved_at", "user_blocked",
                  "deleted_by_user", "thread")
INTERACTION_FIELDS = ("created_at", "user_key", "kind", "topic_key", "query", "result_count",
                      "locale")


def _value(value):
    return value.isoformat() if isinstance(value, datetime) else value


async def request_rows(sessions: async_sessionmaker, since: datetime) -> list[dict]:
    rows = []
    for case in await RequestService(sessions).export(since):
        request = case.request
        row = {field: _value(getattr(request, field)) for field in REQUEST_FIELDS[:-1]}
        row["thread"] = [{"author": m.author, "text": m.text, "at": _value(m.created_at),
                          "delivered": m.delivered, "delivery": m.delivery} for m in case.thread]
        rows.append(row)
    return rows


async def interaction_rows(sessions: async_sessionmaker, since: datetime) -> list[dict]:
    async with sessions() as session:
        found = await InteractionRepository(session).list_since(since)
    return [{field: _value(getattr(i, field)) for field in INTERACTION_FIELDS} for i in found]


def render(rows: list[dict], fields: tuple[str, ...], fmt: str) -> str:
    if fmt == "jsonl":
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    for row in rows:
        flat = dict(row)
        if "thread" in flat:
            flat["thread"] = json.dumps(flat["thread"], ensure_ascii=False)
        writer.writerow({key: _inert(value) for key, value in flat.items()})
    return buffer.getvalue()


# A cell that begins like this is a formula to a spreadsheet: a user's text must not run.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


KINDS = {"requests": (request_rows, REQUEST_FIELDS),
         "interactions": (interaction_rows, INTERACTION_FIELDS)}
FORMATS = ("csv", "jsonl")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


@dataclass(frozen=True)
class Export:
    text: str
    rows: int


async def produce(sessions: async_sessionmaker, what: str, since: datetime, fmt: str) -> Export:
    """One export, as the CLI writes it and the console sends it: `what` in KINDS, `fmt` in
    FORMATS, rows created since `since`."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}")
    make_rows, fields = KINDS[what]
    rows = await make_rows(sessions, since)
    return Export(render(rows, fields, fmt), len(rows))


class Exports:
    """The exports on the services' database, for the console."""

    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions

    async def produce(self, what: str, since: datetime, fmt: str) -> Export:
        return await produce(self._sessions, what, since, fmt)
