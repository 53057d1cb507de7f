"""Canned replies: ready answers per language that any staff member adds, edits, removes.
The service audits every change."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from bot import LOCALES
from bot.console.web import Console, back_to, form_of, staff_page
from bot.i18n import N_
from bot.services.casework import CANNED_TEXT_LIMIT, CANNED_TITLE_LIMIT

ID_LIMIT = 2 ** 63  # a database id; a larger number in the path is no reply
DONE = {"saved": N_("The canned reply was saved."), "removed": N_("The canned reply was removed.")}


@dataclass(frozen=True)
class Draft:
    """What the form holds: shown again as typed when it is refused."""

    locale: str = ""
    title: str = ""
    text: str = ""


def _language(value: object) -> str | None:
    return value if value in LOCALES else None


def _languages(console: Console) -> list[tuple[str, str]]:
    return [(code, console.services.catalogs.get(code)("Language name")) for code in LOCALES]


def _draft_of(form) -> Draft:
    return Draft(str(form.get("locale", "")), str(form.get("title", "")).strip(),
                 str(form.get("text", "")).strip())


def _problem(console: Console, draft: Draft) -> str | None:
    t = console.t
    if draft.locale not in LOCALES:
        return t("Choose a language from the list.")
    if not 1 <= len(draft.title) <= CANNED_TITLE_LIMIT:
        return t("A title is 1 to {limit} characters.", limit=CANNED_TITLE_LIMIT)
    if not 1 <= len(draft.text) <= CANNED_TEXT_LIMIT:
        return t("A canned reply's text is 1 to {limit} characters.", limit=CANNED_TEXT_LIMIT)
    return None


def _list_url(language: str | None, done: str) -> str:
    return "/canned?" + urlencode({**({"language": language} if language else {}), "done": done})


async def _render_list(console: Console, language: str | None, draft: Draft,
                       problem: str | None = None) -> Response:
    replies = await console.services.canned.listed(language)
    groups = [(code, name, [r for r in replies if r.locale == code])
              for code, name in _languages(console) if language in (None, code)]
    done = DONE.get(console.request.query_params.get("done", ""))
    return console.render("canned.html", status=400 if problem else 200, groups=groups,
                          language=language, languages=_languages(console), draft=draft,
                          problem=problem, done=console.t(done) if done else None, **_limits())


def _limits() -> dict:
    return {"title_limit": CANNED_TITLE_LIMIT, "text_limit": CANNED_TEXT_LIMIT}


def _reply_id(console: Console) -> int | None:
    reply_id = console.request.path_params["reply_id"]
    return reply_id if reply_id < ID_LIMIT else None


def _not_found(console: Console) -> Response:
    return console.render("error.html", status=404,
                          message=console.t("There is no such canned reply: someone removed it."))


@staff_page
async def canned_page(console: Console) -> Response:
    language = _language(console.request.query_params.get("language"))
    return await _render_list(console, language, Draft(locale=language or console.locale))


@staff_page
async def add_reply(console: Console) -> Response:
    draft = _draft_of(await form_of(console.request))
    problem = _problem(console, draft)
    if problem:
        return await _render_list(console, _language(draft.locale), draft, problem)
    await console.services.canned.save(console.who.staff_id, draft.locale, draft.title, draft.text)
    return back_to(_list_url(draft.locale, "saved"))


async def _render_edit(console: Console, reply_id: int, draft: Draft,
                       problem: str | None = None) -> Response:
    return console.render("canned_edit.html", status=400 if problem else 200, reply_id=reply_id,
                          draft=draft, problem=problem, languages=_languages(console), **_limits())


@staff_page
async def edit_page(console: Console) -> Response:
    reply_id = _reply_id(console)
    reply = await console.services.canned.get(reply_id) if reply_id is not None else None
    if reply is None:
        return _not_found(console)
    return await _render_edit(console, reply.id, Draft(reply.locale, reply.title, reply.text))


@staff_page
async def save_reply(console: Console) -> Response:
    reply_id = _reply_id(console)
    if reply_id is None:
        return _not_found(console)
    draft = _draft_of(await form_of(console.request))
    problem = _problem(console, draft)
    if problem:
        return await _render_edit(console, reply_id, draft, problem)
    saved = await console.services.canned.save(console.who.staff_id, draft.locale, draft.title,
                                               draft.text, reply_id=reply_id)
    if saved is None:
        return _not_found(console)
    return back_to(_list_url(saved.locale, "saved"))


@staff_page
async def remove_reply(console: Console) -> Response:
    form = await form_of(console.request)
    reply_id = _reply_id(console)
    if reply_id is not None:
        await console.services.canned.remove(console.who.staff_id, reply_id)
    return back_to(_list_url(_language(form.get("language")), "removed"))


routes = [
    Route("/canned", canned_page),
    Route("/canned", add_reply, methods=["POST"]),
    Route("/canned/{reply_id:int}", edit_page),
    Route("/canned/{reply_id:int}", save_reply, methods=["POST"]),
    Route("/canned/{reply_id:int}/remove", remove_reply, methods=["POST"]),
]
