"""What every console page shares: who is asking, their language, CSRF, rendering."""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot.console.labels import ACTION_NAMES, DELIVERY_NAMES
from bot.i18n import Translator
from bot.services.console_auth import Who
from bot.services.container import Services
from bot.views.labels import STATUS_NAMES

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
CONSOLE_LOCALES = ("uz", "ru", "en")
SESSION_COOKIE = "console_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
FORM_LIMIT = 64 * 1024  # bytes of a form: a note or an answer is at most a few thousand characters


def make_templates() -> Environment:
    """Autoescaped templates: every value a user or staff member wrote is escaped."""
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                              trim_blocks=True, lstrip_blocks=True)
    environment.filters["when"] = lambda moment: moment.strftime("%Y-%m-%d %H:%M") if moment else ""
    return environment


@dataclass
class Console:
    """One request to a page: the services, the member (None before login), their tongue."""

    request: Request
    services: Services
    who: Who | None
    locale: str
    t: Translator

    def render(self, template: str, status: int = 200, **context) -> HTMLResponse:
        environment: Environment = self.request.app.state.templates
        t = self.t
        page = environment.get_template(template).render(
            t=t, who=self.who,
            status_label=lambda code: STATUS_NAMES.get(code, code),
            delivery_label=lambda state: t(DELIVERY_NAMES.get(state or "delivered", state)),
            action_label=lambda action: t(ACTION_NAMES[action]) if action in ACTION_NAMES else action,
            locale=self.locale, locales=CONSOLE_LOCALES,
            csrf=self.who.csrf_token if self.who else "", path=self.request.url.path,
            widget_bot=self.services.settings.console_login_widget_bot, **context)
        return HTMLResponse(page, status_code=status)


def services_of(request: Request) -> Services:
    return request.app.state.services


def console_locale(services: Services, who: Who | None) -> str:
    settings = services.settings
    for locale in (who.locale if who else None, settings.staff_locale, settings.default_locale):
        if locale in CONSOLE_LOCALES:
            return locale
    return "en"


async def console_for(request: Request) -> Console:
    services = services_of(request)
    who = await services.console_auth.who(request.cookies.get(SESSION_COOKIE))
    locale = console_locale(services, who)
    return Console(request, services, who, locale, services.catalogs.get(locale))


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _to_login(request: Request) -> Response:
    if is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": "/login"})
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


async def csrf_ok(request: Request, who: Who) -> bool:
    """A POST carries the session's token, in the form or (htmx) in a header."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        sent = str((await form_of(request)).get(CSRF_FIELD, ""))
    return hmac.compare_digest(sent.encode(), who.csrf_token.encode())


async def form_of(request: Request):
    return await request.form(max_files=0, max_fields=50, max_part_size=FORM_LIMIT)


def staff_page(handler):
    """A page for any staff member: the session and the stored role are checked on every
    request, and a POST's CSRF token."""
    return _guarded(handler, admin=False)


def admin_page(handler):
    """A page for admins only; staff get 403."""
    return _guarded(handler, admin=True)


def _guarded(handler, admin: bool):
    @wraps(handler)
    async def page(request: Request) -> Response:
        console = await console_for(request)
        if console.who is None:
            return _to_login(request)
        if request.method == "POST" and not await csrf_ok(request, console.who):
            return console.render("error.html", status=403,
                                  message=console.t("This form has expired. Open the page again and repeat."))
        if admin and not console.who.is_admin:
            return console.render("error.html", status=403,
                                  message=console.t("Only admins can open this page."))
        return await handler(console)

    return page


def back_to(path: str) -> RedirectResponse:
    """After a POST: show the page again (and a reload does not repeat the action)."""
    return RedirectResponse(path, status_code=303)


def int_or_none(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None
