"""The audit log, for admins: newest first, filtered by who, what, on what and when (UTC)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from bot.console.labels import ACTION_NAMES
from bot.console.web import Console, admin_page, int_or_none
from bot.db.admin import AuditQuery

FILTER_FIELDS = ("actor", "action", "target", "from", "to", "page")
TARGET_LIMIT = 64  # audit_log.target's width
ID_LIMIT = 2 ** 63  # a BIGINT: a larger id matches nobody
PAGE_LIMIT = 100_000


def _bounded(value: str, limit: int) -> int | None:
    number = int_or_none(value)
    return number if number is not None and abs(number) < limit else None


def _day(value: str, days: int = 0) -> datetime | None:
    """Midnight UTC of a YYYY-MM-DD (`days` later); None when empty. ValueError or
    OverflowError when it is not a date."""
    if not value:
        return None
    return datetime.combine(date.fromisoformat(value), time.min, tzinfo=timezone.utc) + timedelta(days)


def wanted_from(console: Console) -> tuple[AuditQuery, dict[str, str], str | None]:
    """The filter in the page's query, the query itself (cleaned) for links, and what was wrong."""
    params = console.request.query_params
    chosen = {name: params.get(name, "").strip()[:TARGET_LIMIT] for name in FILTER_FIELDS}
    problem = None
    try:  # the range is inclusive: until the end of the day `to`
        after, before = _day(chosen["from"]), _day(chosen["to"], days=1)
    except (ValueError, OverflowError):
        after = before = None
        chosen["from"] = chosen["to"] = ""
        problem = console.t("Dates are written YYYY-MM-DD, like 2026-03-01.")
    actor = _bounded(chosen["actor"], ID_LIMIT)
    if chosen["actor"] and actor is None:
        chosen["actor"] = ""
        problem = console.t("Who is a Telegram id, a whole number.")
    if chosen["action"] not in ACTION_NAMES:
        chosen["action"] = ""
    wanted = AuditQuery(actor=actor, action=chosen["action"] or None,
                        target=chosen["target"] or None, after=after, before=before)
    return wanted, {key: value for key, value in chosen.items() if value}, problem


def _actions(console: Console) -> list[tuple[str, str]]:
    return sorted(((code, console.t(name)) for code, name in ACTION_NAMES.items()),
                  key=lambda pair: pair[1].lower())


@admin_page
async def audit_page(console: Console) -> Response:
    wanted, query, problem = wanted_from(console)
    number = _bounded(query.get("page", ""), PAGE_LIMIT) or 0
    page = await console.services.staff.audit_log(wanted, max(number, 0))
    names = page.names

    def member(user_id: int | None) -> str:
        if user_id is None:
            return "—"
        return f"{names[user_id]} ({user_id})" if user_id in names else str(user_id)

    return console.render(
        "audit.html", status=400 if problem else 200, page=page, query=query, problem=problem,
        actions=_actions(console), members=sorted(names.items(), key=lambda pair: pair[1].lower()),
        member=member, staff_target=lambda entry: entry.action.startswith(("staff_", "admin_")),
        page_url=lambda number: "/audit?" + urlencode({**query, "page": number}),
        filter_url=lambda name, value: "/audit?" + urlencode({name: value}))


routes = [Route("/audit", audit_page)]
