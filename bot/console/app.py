"""The console's ASGI app, and serving it beside the bot or alone."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.console import audit, auth, canned, cases, content, dashboard, exports, inbox, members
from bot.console.security import SecurityHeaders
from bot.console.web import STATIC, console_for, make_templates
from bot.db.engine import DATABASE_ERRORS
from bot.services.container import Services
from bot.services.wiring import connect_services, disconnect_services, load_services
from bot.settings import Settings

log = logging.getLogger(__name__)

# Each module of pages has its `routes`.
PAGES = (auth, inbox, cases, canned, audit, members, exports, dashboard, content)


async def healthz(request: Request) -> Response:
    services: Services = request.app.state.services
    try:
        await services.casework.version()
    except DATABASE_ERRORS:
        return PlainTextResponse("database unavailable", status_code=503)
    return PlainTextResponse("ok")


async def _database_away(request: Request, _exc: Exception) -> Response:
    """A locked or unreachable database: say so, and lose nothing (the form is resent)."""
    log.warning("console: database unavailable for %s", request.url.path)
    console = await _anonymous(request)
    return console.render("error.html", status=503, message=console.t(
        "The database is busy. Wait a few seconds and try again: nothing was lost."))


async def _anonymous(request: Request):
    try:
        return await console_for(request)
    except DATABASE_ERRORS:
        from bot.console.web import Console, console_locale

        services = request.app.state.services
        locale = console_locale(services, None)
        return Console(request, services, None, locale, services.catalogs.get(locale))


async def _not_found(request: Request, _exc: Exception) -> Response:
    console = await _anonymous(request)
    return console.render("error.html", status=404, message=console.t("There is no such page."))


def create_console_app(services: Services) -> Starlette:
    routes = [route for module in PAGES for route in module.routes]
    routes += [Route("/healthz", healthz), Mount("/static", StaticFiles(directory=STATIC), name="static")]
    handlers = {404: _not_found, **{error: _database_away for error in DATABASE_ERRORS}}
    app = Starlette(routes=routes, exception_handlers=handlers, middleware=[
        Middleware(SecurityHeaders, widget=bool(services.settings.console_login_widget_bot))])
    app.state.services = services
    app.state.templates = make_templates()
    return app


class EmbeddedServer(uvicorn.Server):
    """uvicorn in our event loop: the process's own signal handlers stop it."""

    def capture_signals(self):
        return contextlib.nullcontext()


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve_console(services: Services, stop: asyncio.Event | None = None) -> None:
    """Serve until cancelled (beside the bot) or until `stop` is set. An address already in
    use is logged and the bot goes on without the console."""
    settings = services.settings
    try:
        sock = _listening_socket(settings.console_listen, settings.console_port)
    except OSError as exc:
        log.error("the console is not served: %s:%s is not free (%s); set CONSOLE_PORT",
                  settings.console_listen, settings.console_port, exc.strerror)
        return
    config = uvicorn.Config(create_console_app(services), log_level="warning", access_log=False,
                            lifespan="off", server_header=False,
                            # Behind a reverse proxy on this machine, the client is the one
                            # it names (uvicorn trusts X-Forwarded-For from 127.0.0.1 only):
                            # failed logins are counted per real client, not per proxy.
                            proxy_headers=True)
    server = EmbeddedServer(config)
    port = sock.getsockname()[1]
    log.info("the console is at %s", settings.console_public_url or
             f"http://{settings.console_listen}:{port}")
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        if stop is None:
            await asyncio.shield(task)
        else:
            await stop.wait()
    finally:
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)
        sock.close()


async def _reload_content(services: Services) -> None:
    while True:
        await asyncio.sleep(services.settings.content_reload_seconds)
        services.content.reload_if_changed()


async def serve_console_alone(settings: Settings) -> None:
    """`python -m bot console`: one more stateless process on the bot's database."""
    services = load_services(settings)
    await connect_services(services)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    reload = asyncio.create_task(_reload_content(services))
    try:
        await serve_console(services, stop)
    finally:
        reload.cancel()
        await asyncio.gather(reload, return_exceptions=True)
        await disconnect_services(services)
