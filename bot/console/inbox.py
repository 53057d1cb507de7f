"""The inbox: open cases, longest wait first, with filters and search; it refreshes itself."""
from __future__ import annotations

from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from bot import LOCALES
from bot.console.web import Console, int_or_none, staff_page
from bot.db.models import utcnow
from bot.services.casework import InboxFilter
from bot.services.requests import COUNTRIES, STATUSES
from bot.views.countries import COUNTRY_NAMES
from bot.views.labels import STATUS_NAMES

FILTER_FIELDS = ("status", "topic", "country", "language", "holder", "waiting", "q", "page")


def wanted_from(console: Console) -> tuple[InboxFilter, dict[str, str]]:
    """The filter in the page's query, and the query itself (cleaned) for links."""
    params = console.request.query_params
    chosen = {name: params.get(name, "").strip()[:200] for name in FILTER_FIELDS}
    holder = chosen["holder"]
    wanted = InboxFilter(
        status=chosen["status"] if chosen["status"] in STATUSES else None,
        topic=chosen["topic"] or None,
        country=chosen["country"] if chosen["country"] in COUNTRIES else None,
        locale=chosen["language"] if chosen["language"] in LOCALES else None,
        assignee=console.who.staff_id if holder == "me" else int_or_none(holder),
        unassigned=holder == "none",
        waiting_hours=int_or_none(chosen["waiting"]),
        text=chosen["q"],
        page=max(int_or_none(chosen["page"]) or 0, 0))
    return wanted, {key: value for key, value in chosen.items() if value}


def _choices(console: Console) -> dict:
    content = console.services.content.current
    t = console.t
    return {
        "statuses": [(code, t(STATUS_NAMES[code])) for code in STATUSES],
        "countries": [(code, t(COUNTRY_NAMES[code])) for code in COUNTRIES],
        "languages": [(code, console.services.catalogs.get(code)("Language name")) for code in LOCALES],
        "topics": [(key, content.text(console.locale, key).title) for key in content.roots],
    }


async def _page_context(console: Console) -> dict:
    wanted, query = wanted_from(console)
    now = utcnow()
    page = await console.services.casework.inbox(wanted, now)
    members = await console.services.staff.listed()
    return {"page": page, "query": query, "now": now,
            "rows_url": "/inbox/rows?" + urlencode(query),
            "page_url": lambda number: "/?" + urlencode({**query, "page": number}),
            "version": await console.services.casework.version(),
            "names": {m.user_id: m.name or str(m.user_id) for m in members},
            "members": members, "topic_titles": _topic_titles(console)}


def _topic_titles(console: Console) -> dict[str, str]:
    content = console.services.content.current
    return {key: content.text(console.locale, key).title for key in content.topics}


@staff_page
async def inbox_page(console: Console) -> Response:
    return console.render("inbox.html", **await _page_context(console), **_choices(console))


@staff_page
async def inbox_rows(console: Console) -> Response:
    """The list alone, asked for every few seconds; 204 (nothing to swap) when nothing
    changed since the version the page has."""
    if console.request.query_params.get("v") == await console.services.casework.version():
        return Response(status_code=204)
    return console.render("inbox_rows.html", **await _page_context(console))


routes = [Route("/", inbox_page), Route("/inbox/rows", inbox_rows)]
