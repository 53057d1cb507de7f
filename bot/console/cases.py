"""A case: its thread with delivery states, notes, history; take, assign, status, answer."""
from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from bot.console.web import Console, back_to, form_of, int_or_none, staff_page
from bot.services.casework import NOTE_LIMIT
from bot.services.requests import QUESTION_LIMIT, STATUSES
from bot.views.countries import COUNTRY_NAMES
from bot.views.labels import ASKER_NAMES, STATUS_NAMES


def _request_id(console: Console) -> int | None:
    return int_or_none(console.request.path_params.get("request_id"))


def _not_found(console: Console) -> Response:
    return console.render("error.html", status=404,
                          message=console.t("No such case, or the user deleted it."))


async def _case_context(console: Console, request_id: int, case=None) -> dict | None:
    """What the case page shows; `case`: its file, when the caller has read it already."""
    services = console.services
    case = case or await services.casework.case_file(request_id)
    if case is None:
        return None
    request = case.request
    content = services.content.current
    topic = (content.text(console.locale, request.topic_key).title
             if request.topic_key and content.topic(request.topic_key) else console.t("Other question"))
    return {
        "case": case, "request": request, "topic": topic,
        "country": console.t(COUNTRY_NAMES.get(request.country, request.country)),
        "asker": console.t(ASKER_NAMES.get(request.asker, request.asker)),
        "language": services.catalogs.get(request.locale)("Language name"),
        "status_names": {code: console.t(name) for code, name in STATUS_NAMES.items()},
        "statuses": STATUSES,
        "members": case.members,
        "canned": await services.canned.listed(request.locale),
        "version": case.version,
        "question_limit": QUESTION_LIMIT, "note_limit": NOTE_LIMIT,
    }


@staff_page
async def case_page(console: Console) -> Response:
    request_id = _request_id(console)
    context = await _case_context(console, request_id) if request_id else None
    if context is None:
        return _not_found(console)
    await console.services.staff.audit(console.who.staff_id, "case_view", context["request"].number)
    return console.render("case.html", **context)


@staff_page
async def case_thread(console: Console) -> Response:
    """The thread alone, asked for every few seconds: 204 when nothing changed."""
    request_id = _request_id(console)
    case = await console.services.casework.case_file(request_id) if request_id else None
    if case is None:
        return _not_found(console)
    if console.request.query_params.get("v") == case.version:
        return Response(status_code=204)
    return console.render("case_thread.html", **await _case_context(console, request_id, case))


async def _act(console: Console, action) -> Response:
    """Run one action on the case from the form, then show the case again."""
    request_id = _request_id(console)
    if request_id is None:
        return _not_found(console)
    form = await form_of(console.request)
    problem = await action(request_id, form)
    if problem is False:
        return _not_found(console)
    if isinstance(problem, str):
        context = await _case_context(console, request_id)
        if context is None:
            return _not_found(console)
        return console.render("case.html", status=400, problem=problem, draft=form.get("text", ""),
                              **context)
    return back_to(f"/cases/{request_id}")


@staff_page
async def take(console: Console) -> Response:
    async def action(request_id, _form):
        return await console.services.casework.assign(request_id, console.who.staff_id,
                                                      console.who.staff_id) is not None
    return await _act(console, action)


@staff_page
async def assign(console: Console) -> Response:
    async def action(request_id, form):
        assignee = int_or_none(form.get("assignee"))
        try:
            done = await console.services.casework.assign(request_id, console.who.staff_id, assignee)
        except ValueError:
            return console.t("Choose a staff member from the list.")
        return done is not None
    return await _act(console, action)


@staff_page
async def change_status(console: Console) -> Response:
    async def action(request_id, form):
        status = str(form.get("status", ""))
        if status not in STATUSES:
            return console.t("Choose a status from the list.")
        return await console.services.requests.set_status(request_id, console.who.staff_id,
                                                          status) is not None
    return await _act(console, action)


@staff_page
async def reply(console: Console) -> Response:
    async def action(request_id, form):
        text = str(form.get("text", "")).strip()
        if not 1 <= len(text) <= QUESTION_LIMIT:
            return console.t("Answers must be text of 1 to {limit} characters.", limit=QUESTION_LIMIT)
        return await console.services.requests.staff_reply(request_id, console.who.staff_id, text,
                                                           send_now=False) is not None
    return await _act(console, action)


@staff_page
async def add_note(console: Console) -> Response:
    async def action(request_id, form):
        text = str(form.get("note", "")).strip()
        if not 1 <= len(text) <= NOTE_LIMIT:
            return console.t("A note is 1 to {limit} characters.", limit=NOTE_LIMIT)
        return await console.services.casework.add_note(request_id, console.who.staff_id,
                                                        text) is not None
    return await _act(console, action)


routes = [
    Route("/cases/{request_id:int}", case_page),
    Route("/cases/{request_id:int}/thread", case_thread),
    Route("/cases/{request_id:int}/take", take, methods=["POST"]),
    Route("/cases/{request_id:int}/assign", assign, methods=["POST"]),
    Route("/cases/{request_id:int}/status", change_status, methods=["POST"]),
    Route("/cases/{request_id:int}/reply", reply, methods=["POST"]),
    Route("/cases/{request_id:int}/note", add_note, methods=["POST"]),
]
