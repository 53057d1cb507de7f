"""Exports for admins: the CLI's exports of requests and interactions as file downloads.
Each download is audited ("export")."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from starlette.responses import Response
from starlette.routing import Route

from bot.console.web import Console, admin_page, form_of
from bot.db.models import utcnow
from bot.services.export import FORMATS, KINDS, MEDIA_TYPES

DEFAULT_DAYS = 30


def _render(console: Console, since: str, problem: str | None = None) -> Response:
    return console.render("exports.html", status=400 if problem else 200, since=since,
                          formats=FORMATS, problem=problem)


@admin_page
async def exports_page(console: Console) -> Response:
    default = utcnow().date() - timedelta(days=DEFAULT_DAYS)
    return _render(console, default.isoformat())


def _since(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


@admin_page
async def download(console: Console) -> Response:
    form = await form_of(console.request)
    what, fmt = str(form.get("what", "")), str(form.get("format", ""))
    typed = str(form.get("since", "")).strip()[:20]
    since = _since(typed)
    if what not in KINDS or fmt not in FORMATS:
        return _render(console, typed, console.t("Choose an export and a format from the page."))
    if since is None:
        return _render(console, typed, console.t("Dates are written YYYY-MM-DD, like 2026-03-01."))
    done = await console.services.exports.produce(
        what, datetime.combine(since, time.min, tzinfo=timezone.utc), fmt)
    await console.services.staff.audit(console.who.staff_id, "export", what,
                                       f"{fmt} since {since.isoformat()}: {done.rows} rows")
    filename = f"{what}-since-{since.isoformat()}.{fmt}"
    return Response(done.text, media_type=MEDIA_TYPES[fmt],
                    headers={"content-disposition": f'attachment; filename="{filename}"'})


routes = [Route("/exports", exports_page), Route("/exports", download, methods=["POST"])]
