"""HTTP to the Bot API over aiohttp, with retries where a retry cannot send anything twice.

python-telegram-bot's default transport (httpx) spends about five times the CPU of aiohttp on
each call (measured in bench/), and a bot that answers a crowd makes two calls per button press.
The parameters are PTB's own (JSON-encoded values); see `_body` for how they travel.
"""
from __future__ import annotations

import asyncio
import json
import logging

import aiohttp
from aiohttp.payload import BytesPayload
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

log = logging.getLogger(__name__)

RETRY_DELAYS = (0.5, 1.0, 2.0)
RETRYABLE_STATUS = {500, 502, 503, 504}
# Failures that happen before a request leaves, so retrying cannot deliver a message twice.
NEVER_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)


def _is_default(value: object) -> bool:
    return value is BaseRequest.DEFAULT_NONE


class AiohttpRequest(BaseRequest):
    """One connection pool per instance; the session is made in `initialize`, inside the loop
    that uses it. Retries 5xx answers and connections that could not be made, with backoff; a
    read timeout is not retried, because Telegram may already have delivered the message."""

    def __init__(self, connection_pool_size: int = 1, read_timeout: float | None = 5.0,
                 connect_timeout: float | None = 5.0, pool_timeout: float | None = 1.0,
                 media_read_timeout: float | None = 20.0) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_read_timeout = media_read_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout=BaseRequest.DEFAULT_NONE, write_timeout=BaseRequest.DEFAULT_NONE,
                         connect_timeout=BaseRequest.DEFAULT_NONE,
                         pool_timeout=BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        timeout = self._timeout(request_data, read_timeout, connect_timeout, pool_timeout)
        for attempt, delay in enumerate((*RETRY_DELAYS, None)):
            try:
                status, body = await self._send(url, method, request_data, timeout)
            except NetworkError as error:
                if delay is None or not isinstance(error.__cause__, NEVER_SENT):
                    raise
                log.warning("Bot API unreachable (attempt %d), retrying: %s", attempt + 1, error)
            else:
                if status not in RETRYABLE_STATUS or delay is None:
                    return status, body
                log.warning("Bot API answered %d (attempt %d), retrying", status, attempt + 1)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    def _timeout(self, request_data: RequestData | None, read_timeout, connect_timeout,
                 pool_timeout) -> aiohttp.ClientTimeout:
        if _is_default(read_timeout):
            uploading = request_data is not None and request_data.contains_files
            read_timeout = self._media_read_timeout if uploading else self._read_timeout
        if _is_default(connect_timeout):
            connect_timeout = self._connect_timeout
        if _is_default(pool_timeout):
            pool_timeout = self._pool_timeout
        # aiohttp's `connect` covers waiting for a pooled connection and making a new one.
        waits = [t for t in (connect_timeout, pool_timeout) if t is not None]
        return aiohttp.ClientTimeout(total=None, connect=sum(waits) if waits else None,
                                     sock_connect=connect_timeout, sock_read=read_timeout)

    async def _send(self, url: str, method: str, request_data: RequestData | None,
                    timeout: aiohttp.ClientTimeout) -> tuple[int, bytes]:
        try:
            async with self._session.request(method, url, data=_body(request_data),
                                             timeout=timeout) as response:
                return response.status, await response.read()
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as error:
            if isinstance(error, aiohttp.ConnectionTimeoutError):
                raise TimedOut("Could not connect to the Bot API in time; the request was "
                               "not sent") from error
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def _body(request_data: RequestData | None) -> BytesPayload | aiohttp.FormData | None:
    """A JSON object of the same string values PTB's own transport sends as form fields
    (Telegram reads both alike, and JSON costs far less to encode than a long urlencoded
    text); multipart when files go up."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    if not request_data.contains_files:
        return BytesPayload(json.dumps(fields, ensure_ascii=False).encode(),
                            content_type="application/json")
    form = aiohttp.FormData(fields)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
