"""Logging in with a one-time link from /console or the Telegram Login Widget; logging out."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.console.web import (CONSOLE_LOCALES, SESSION_COOKIE, Console, back_to, console_for,
                             form_of, staff_page)
from bot.services.console_auth import LoginRefused, client_key


def _safe_next(target: str | None) -> str:
    """Only a path of this console: never a redirect elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _client(request: Request) -> str:
    return client_key(request.client.host if request.client else None)


def _refused(console: Console, error: LoginRefused) -> Response:
    t = console.t
    message = (t("Too many failed attempts. Wait 15 minutes and ask the bot for a new link.")
               if error.reason == "too_many" else
               t("This link is not valid: it was used already, or it expired. Send /console to "
                 "the bot in a private chat for a new one."))
    return console.render("login.html", status=429 if error.reason == "too_many" else 403,
                          error=message, next="/")


def _logged_in(console: Console, cookie: str, target: str) -> Response:
    response = RedirectResponse(_safe_next(target), status_code=303)
    settings = console.services.settings
    lifetime = console.services.console_auth.session_lifetime
    response.set_cookie(SESSION_COOKIE, cookie, max_age=int(lifetime.total_seconds()), httponly=True, samesite="lax",
                        path="/", secure=settings.console_url.startswith("https://"))
    return response


async def login_page(request: Request) -> Response:
    console = await console_for(request)
    if console.who is not None:
        return back_to(_safe_next(request.query_params.get("next")))
    return console.render("login.html", next=_safe_next(request.query_params.get("next")))


async def link_page(request: Request) -> Response:
    """The link from /console opens this page; its button logs in. A GET never uses the
    link up, so a link preview or a prefetching browser cannot spend it."""
    console = await console_for(request)
    return console.render("login_link.html", token=request.query_params.get("token", "")[:100])


async def redeem_link(request: Request) -> Response:
    console = await console_for(request)
    token = str((await form_of(request)).get("token", ""))[:100]
    try:
        cookie = await console.services.console_auth.redeem_link(token, _client(request))
    except LoginRefused as error:
        return _refused(console, error)
    return _logged_in(console, cookie, "/")


async def widget_login(request: Request) -> Response:
    """Telegram's Login Widget sends the signed user data here."""
    console = await console_for(request)
    settings = console.services.settings
    if not settings.console_login_widget_bot or settings.telegram_bot_token is None:
        return console.render("login.html", status=404, next="/")
    fields = {key: value[:300] for key, value in request.query_params.items()}
    try:
        cookie = await console.services.console_auth.widget_login(
            fields, settings.telegram_bot_token.get_secret_value(), _client(request))
    except LoginRefused as error:
        return _refused(console, error)
    return _logged_in(console, cookie, "/")


@staff_page
async def logout(console: Console) -> Response:
    await console.services.console_auth.logout(console.request.cookies.get(SESSION_COOKIE, ""),
                                               console.who.staff_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@staff_page
async def choose_locale(console: Console) -> Response:
    form = await form_of(console.request)
    locale = str(form.get("locale", ""))
    if locale in CONSOLE_LOCALES:
        await console.services.console_auth.set_locale(console.who.staff_id, locale)
    return back_to(_safe_next(str(form.get("next", "/"))))


routes = [
    Route("/login", login_page),
    Route("/login/link", link_page),
    Route("/login/link", redeem_link, methods=["POST"]),
    Route("/login/telegram", widget_login),
    Route("/logout", logout, methods=["POST"]),
    Route("/locale", choose_locale, methods=["POST"]),
]
