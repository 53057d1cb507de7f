"""HTTP to the Bot API with retries where a retry cannot send anything twice."""
from __future__ import annotations

import asyncio
import logging

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest, RequestData

log = logging.getLogger(__name__)

RETRY_DELAYS = (0.5, 1.0, 2.0)
RETRYABLE_STATUS = {500, 502, 503, 504}


def _never_reached_telegram(error: Exception) -> bool:
    """Connection failures happen before a request is sent, so retrying cannot duplicate it."""
    cause = error.__cause__
    return isinstance(cause, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


class RetryingRequest(HTTPXRequest):
    """Retries 5xx answers and failed connections with backoff; a read timeout on a sending
    method is not retried, because Telegram may already have delivered the message."""

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         *args, **kwargs) -> tuple[int, bytes]:
        for attempt, delay in enumerate((*RETRY_DELAYS, None)):
            try:
                status, body = await super().do_request(url, method, request_data, *args, **kwargs)
            except (NetworkError, TimedOut) as error:
                if delay is None or not _never_reached_telegram(error):
                    raise
                log.warning("Bot API unreachable (attempt %d), retrying: %s", attempt + 1, error)
            else:
                if status not in RETRYABLE_STATUS or delay is None:
                    return status, body
                log.warning("Bot API answered %d (attempt %d), retrying", status, attempt + 1)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")
