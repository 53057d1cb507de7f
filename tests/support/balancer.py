"""A load balancer for tests: each request goes to a backend picked at random, as a
round-robin or least-connections balancer in front of stateless workers would; a backend
that refuses or fails the request makes it answer 502, so Telegram delivers again."""
from __future__ import annotations

import asyncio
import random
import threading

import aiohttp
from aiohttp import web


class RandomBalancer:
    def __init__(self, backends: list[str], seed: int = 7) -> None:
        self.backends = list(backends)  # base URLs, e.g. http://127.0.0.1:8101
        self.forwarded: list[tuple[str, int | None]] = []  # (backend, status or None)
        self._random = random.Random(seed)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _forward(self, request: web.Request) -> web.Response:
        backend = self._random.choice(self.backends)
        body = await request.read()
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() in ("content-type", "x-telegram-bot-api-secret-token")}
        try:
            async with self._session.request(request.method, backend + request.path_qs,
                                             data=body, headers=headers) as answer:
                payload = await answer.read()
                self.forwarded.append((backend, answer.status))
                return web.Response(status=answer.status, body=payload)
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError):
            self.forwarded.append((backend, None))
            return web.Response(status=502)

    async def _start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _stop(self) -> None:
        await self._runner.cleanup()
        await self._session.close()

    def start_in_thread(self) -> "RandomBalancer":
        started = threading.Event()

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self._start())
            started.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._stop())
            self._loop.close()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        started.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
