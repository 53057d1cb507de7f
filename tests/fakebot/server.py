"""FakeTelegram: the simulated Telegram served over HTTP like api.telegram.org.

Two ways to run it:

    async with FakeTelegram(token=TOKEN) as tg:          # inside a running loop
        bot = telegram.Bot(TOKEN, base_url=tg.base_url)

    tg = FakeTelegram(token=TOKEN).start_in_thread()    # own loop in a thread,
    ...                                                  # e.g. for a bot subprocess
    tg.stop()                                            # (TELEGRAM_API_URL=tg.url)

The bot calls {tg.url}/bot{token}/{method}. Everything a test does to the
simulation (add_user, send_text, fail, ...) is thread-safe.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import copy
import inspect
import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Callable

import aiohttp
from aiohttp import web

from . import errors
from .errors import ApiError, conflict
from .methods import BotApi, canonical_method_name, poll_request
from .params import UploadedFile, read_parameters
from .state import TelegramState

WEBHOOK_RETRY_SECONDS = 0.3
WEBHOOK_TIMEOUT = 10.0

Json = dict[str, Any]

DEFAULT_TOKEN = "123456789:TEST-fake-telegram-token"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # Telegram's limit for bots uploading files
_DEFAULT_BOT_ID = 123456789
# Real Telegram's front answers gateway errors with an nginx page, not JSON.
_NGINX_PAGE = ("<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
               "<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>nginx/1.18.0</center>"
               "\r\n</body>\r\n</html>\r\n")


@dataclass
class Fault:
    """An injected failure for the next `remaining` calls of one method."""

    status: int
    remaining: int
    retry_after: int | None = None
    description: str | None = None
    delay: float | None = None


class FakeTelegram(TelegramState):
    def __init__(self, token: str = DEFAULT_TOKEN, *, host: str = "127.0.0.1", port: int = 0,
                 bot_username: str = "fake_test_bot", bot_first_name: str = "Fake Bot",
                 privacy_mode: bool = True, control_api: bool = False):
        super().__init__(bot_id=_bot_id_from(token), bot_username=bot_username,
                         bot_first_name=bot_first_name, privacy_mode=privacy_mode)
        self.token = token
        self._host = host
        self._requested_port = port
        self._control_api = control_api
        self._api = BotApi(self)
        self._calls: list[tuple[str, Json]] = []
        self._faults: defaultdict[str, list[Fault]] = defaultdict(list)
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._arrival: asyncio.Event | None = None
        self._stopped: asyncio.Event | None = None
        self._poll_generation = 0
        self._webhook_task: asyncio.Task | None = None

    # ------------------------------------------------------------ addresses

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._port

    @property
    def url(self) -> str:
        """Server root, i.e. what replaces https://api.telegram.org (TELEGRAM_API_URL)."""
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What to pass as telegram.Bot(base_url=...): PTB appends the token itself."""
        return f"{self.url}/bot"

    # ------------------------------------------------------------ lifecycle: in a running loop

    async def start(self) -> "FakeTelegram":
        if self._runner is not None:
            raise RuntimeError("FakeTelegram is already started")
        self._loop = asyncio.get_running_loop()
        self._arrival = asyncio.Event()
        self._stopped = asyncio.Event()
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api_request)
        if self._control_api:
            app.router.add_post("/fake/{action}", self._handle_control_request)
        app.router.add_route("*", "/{anything:.*}", self._handle_unknown_path)
        # A short shutdown_timeout: pending long polls are released on stop anyway.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(runner, self._host, self._requested_port).start()
        self._runner = runner
        self._port = runner.addresses[0][1]
        self._webhook_task = asyncio.create_task(self._deliver_to_webhook())
        return self

    async def aclose(self) -> None:
        if self._runner is None:
            return
        assert self._stopped is not None
        self._stopped.set()
        self._wake_pollers()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            await asyncio.gather(self._webhook_task, return_exceptions=True)
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> "FakeTelegram":
        return await self.start()

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    # ------------------------------------------------------------ lifecycle: own thread

    def start_in_thread(self, timeout: float = 10.0) -> "FakeTelegram":
        """Serve from a background thread with its own event loop; returns self."""
        if self._thread is not None:
            raise RuntimeError("FakeTelegram is already running in a thread")
        started: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._serve_forever, args=(started,),
                                        name="FakeTelegram", daemon=True)
        self._thread.start()
        try:
            started.result(timeout)
        except BaseException:
            self._thread = None
            raise
        return self

    def _serve_forever(self, started: concurrent.futures.Future[None]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self.start())
        except BaseException as error:  # report to start_in_thread(), do not die silently
            started.set_exception(error)
            loop.close()
            return
        started.set_result(None)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self.aclose())
            loop.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop a server started with start_in_thread()."""
        if self._thread is None or self._loop is None:
            raise RuntimeError("FakeTelegram was not started with start_in_thread()")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        self._thread = None

    def __enter__(self) -> "FakeTelegram":
        return self.start_in_thread()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    # ------------------------------------------------------------ observing the bot's calls

    @property
    def calls(self) -> list[tuple[str, Json]]:
        """Every Bot API call in order, as (method, params), failed ones included."""
        with self._lock:
            return copy.deepcopy(self._calls)

    def calls_to(self, method: str) -> list[Json]:
        """Parameters of every call of one method."""
        return [params for name, params in self.calls if name.lower() == method.lower()]

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0,
                       interval: float = 0.01) -> Any:
        """Wait (async) until predicate() is truthy; return its value.

        A predicate raising LookupError/AttributeError/TypeError counts as "not yet",
        so `lambda: tg.sent(1)[-1]["text"] == "Hi"` works before anything was sent.
        """
        deadline = time.monotonic() + timeout
        while not (value := self._settled(predicate, deadline, timeout)):
            await asyncio.sleep(interval)
        return value

    def wait_for_sync(self, predicate: Callable[[], Any], timeout: float = 10.0,
                      interval: float = 0.01) -> Any:
        """Blocking wait_for() for thread mode (the server must not run on this thread)."""
        if self._loop is not None and self._thread is None and _runs_on(self._loop):
            raise RuntimeError("wait_for_sync() would block the server's loop; use await wait_for()")
        deadline = time.monotonic() + timeout
        while not (value := self._settled(predicate, deadline, timeout)):
            time.sleep(interval)
        return value

    def _settled(self, predicate: Callable[[], Any], deadline: float, timeout: float) -> Any:
        """The predicate's truthy value, a falsy one while there is time, or AssertionError."""
        value, error = self._evaluate(predicate)
        if not value and time.monotonic() >= deadline:
            raise AssertionError(self._timeout_report(predicate, timeout, error))
        return value

    @staticmethod
    def _evaluate(predicate: Callable[[], Any]) -> tuple[Any, Exception | None]:
        try:
            return predicate(), None
        except (LookupError, AttributeError, TypeError) as error:
            return None, error

    def _timeout_report(self, predicate: Callable[[], Any], timeout: float,
                        error: Exception | None, recent: int = 15) -> str:
        lines = [f"FakeTelegram: condition not met within {timeout}s: {_describe(predicate)}"]
        if error is not None:
            lines.append(f"  last evaluation raised {type(error).__name__}: {error}")
        calls = self.calls
        lines.append(f"  last {min(recent, len(calls))} of {len(calls)} Bot API calls:")
        lines += [f"    {name} {_short(params)}" for name, params in calls[-recent:]]
        lines.append(f"  pending updates: {len(self.pending_updates)}, "
                     f"dropped by privacy mode: {len(self.dropped)}")
        return "\n".join(lines)

    # ------------------------------------------------------------ fault injection

    def fail(self, method: str, status: int, *, times: int = 1, retry_after: int | None = None,
             description: str | None = None, delay: float | None = None) -> None:
        """Make the next `times` calls of `method` fail.

        status 429 answers {"parameters": {"retry_after": retry_after or 1}};
        502/504 answer an nginx HTML page like Telegram's front end; `delay` waits
        that many seconds before answering (a client timeout). status=200 with a
        delay means "slow, but then handled normally".
        """
        name = canonical_method_name(method)
        if name is None:
            raise ValueError(f"unknown Bot API method {method!r}")
        if times < 1:
            raise ValueError("times must be at least 1")
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._lock:
            self._faults[name].append(Fault(status, times, retry_after, description, delay))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, method: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(method)
            if not queue:
                return None
            fault = queue[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.pop(0)
            return fault

    def _fault_response(self, fault: Fault) -> web.Response:
        phrase = HTTPStatus(fault.status).phrase
        if fault.status in (502, 504) and fault.description is None:
            return web.Response(status=fault.status, content_type="text/html",
                                text=_NGINX_PAGE.format(status=fault.status, phrase=phrase))
        if fault.status == 429:
            error = errors.too_many_requests(fault.retry_after or 1)
            if fault.description:
                error.description = fault.description
        else:
            error = ApiError(fault.status, fault.description or phrase)
        return _error_response(error)

    # ------------------------------------------------------------ HTTP handlers

    async def _handle_api_request(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error_response(errors.UNAUTHORIZED)
        requested = request.match_info["method"]
        try:
            params = await read_parameters(request)
        except ApiError as error:
            return _error_response(error)
        method = canonical_method_name(requested)
        with self._lock:
            self._calls.append((method or requested, params))
        if method is None:
            return _error_response(errors.NOT_FOUND)
        fault = self._take_fault(method)
        if fault is not None:
            if fault.delay:
                await self._sleep_unless_stopped(fault.delay)
            if fault.status != 200:
                return self._fault_response(fault)
        try:
            result = await self._call(method, params)
        except ApiError as error:
            return _error_response(error)
        return web.json_response({"ok": True, "result": result})

    async def _call(self, method: str, params: Json) -> Any:
        if method == "getUpdates":
            return await self._long_poll(params)
        handler = self._api.handler_for(method)
        assert handler is not None
        with self._lock:
            return handler(params)

    async def _handle_unknown_path(self, request: web.Request) -> web.Response:
        return _error_response(errors.NOT_FOUND)

    # ------------------------------------------------------------ long polling

    async def _long_poll(self, params: Json) -> list[Json]:
        with self._lock:
            poll = poll_request(self._api, params)
        # Like Telegram, a newer getUpdates terminates an older one that still waits.
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + poll.timeout
        while True:
            if generation != self._poll_generation:
                raise conflict(errors.OTHER_GETUPDATES)
            arrival = self._arrival
            assert arrival is not None and self._stopped is not None
            with self._lock:
                updates = self._fetch_updates(poll.offset, poll.limit, poll.allowed_updates)
            remaining = deadline - loop.time()
            if updates or remaining <= 0 or self._stopped.is_set():
                return updates
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(arrival.wait(), remaining)

    # ------------------------------------------------------------ webhook delivery

    async def _deliver_to_webhook(self) -> None:
        """While a webhook is set, POST pending updates to it as Telegram does: several at
        once (up to max_connections), each with the secret token; an update is forgotten only
        once answered 2xx, anything else (or a refused connection) delivers it again soon."""
        import aiohttp

        assert self._stopped is not None
        async with aiohttp.ClientSession() as session:
            while not self._stopped.is_set():
                with self._lock:
                    webhook = copy.deepcopy(self._webhook)
                    updates = self._fetch_updates(0, webhook["max_connections"],
                                                  webhook["allowed_updates"]) if webhook else []
                if not updates:
                    arrival = self._arrival
                    assert arrival is not None
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(arrival.wait(), 0.5)
                    continue
                statuses = await asyncio.gather(*(
                    self._post_update(session, webhook, update) for update in updates))
                delivered = {u["update_id"] for u, status in zip(updates, statuses)
                             if status is not None and 200 <= status < 300}
                with self._lock:
                    self.webhook_deliveries.extend(
                        (u["update_id"], status) for u, status in zip(updates, statuses))
                    self._updates = [u for u in self._updates if u["update_id"] not in delivered]
                if len(delivered) < len(updates):
                    await self._sleep_unless_stopped(WEBHOOK_RETRY_SECONDS)

    @staticmethod
    async def _post_update(session, webhook: Json, update: Json) -> int | None:
        headers = {}
        if webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = webhook["secret_token"]
        try:
            async with session.post(webhook["url"], json=update, headers=headers,
                                    timeout=aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT)) as answer:
                return answer.status
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
            return None

    def _wake_pollers(self) -> None:
        """Release every waiting long poll (runs on the server loop)."""
        if self._arrival is not None:
            self._arrival.set()
            self._arrival = asyncio.Event()

    def _updates_changed(self) -> None:
        # May run on the test's thread: hop onto the server loop to touch asyncio objects.
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # loop closed meanwhile
                loop.call_soon_threadsafe(self._wake_pollers)

    async def _sleep_unless_stopped(self, seconds: float) -> None:
        assert self._stopped is not None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)

    # ------------------------------------------------------------ control API (standalone mode)

    _CONTROL_ACTIONS = frozenset({
        "add_user", "add_group", "add_member", "block", "unblock", "send_text", "press",
        "send_sticker", "send_photo", "send_contact", "send_location", "send_voice",
        "send_update", "fail", "clear_faults", "clear_calls", "sent", "history", "last_text",
        "commands",
    })
    _CONTROL_PROPERTIES = frozenset({"calls", "pending_updates", "dropped", "answered_callbacks"})

    async def _handle_control_request(self, request: web.Request) -> web.Response:
        """POST /fake/{action} with JSON keyword arguments, for a server in another process."""
        action = request.match_info["action"]
        try:
            arguments = await request.json() if request.can_read_body else {}
            if action in self._CONTROL_PROPERTIES:
                result = getattr(self, action)
            elif action in self._CONTROL_ACTIONS:
                result = getattr(self, action)(**arguments)
            else:
                return web.json_response({"ok": False, "description": f"unknown action {action}"},
                                         status=404)
        except (TypeError, ValueError) as error:
            return web.json_response({"ok": False, "description": str(error)}, status=400)
        return web.json_response({"ok": True, "result": result}, dumps=_dumps)


# ---------------------------------------------------------------- helpers


def _bot_id_from(token: str) -> int:
    prefix = token.split(":", 1)[0]
    return int(prefix) if prefix.isdigit() else _DEFAULT_BOT_ID


def _error_response(error: ApiError) -> web.Response:
    return web.json_response(error.to_json(), status=error.status)


def _runs_on(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _json_default(value: Any) -> Any:
    if isinstance(value, UploadedFile):
        return {"filename": value.filename, "size": len(value.content),
                "content_type": value.content_type}
    return repr(value)


def _dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False)


def _short(params: Json, limit: int = 200) -> str:
    text = _dumps(params)
    return text if len(text) <= limit else text[:limit] + "…"


def _describe(predicate: Callable[[], Any]) -> str:
    try:
        return " ".join(inspect.getsource(predicate).split())
    except (OSError, TypeError):
        return repr(predicate)
