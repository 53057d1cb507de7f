"""Headers on every console response: what the browser may load, frame and send on."""
from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

WIDGET_ORIGIN = "https://telegram.org"
WIDGET_FRAME = "https://oauth.telegram.org"


def content_security_policy(widget: bool) -> str:
    """Scripts, styles and images from the console only (no CDN, no inline script); the
    Telegram Login Widget's script and frame only where the operator turned it on."""
    script = "'self'" + (f" {WIDGET_ORIGIN}" if widget else "")
    frame = WIDGET_FRAME if widget else "'none'"
    return (f"default-src 'none'; script-src {script}; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self'; font-src 'self'; form-action 'self'; frame-src {frame}; "
            "frame-ancestors 'none'; base-uri 'none'")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, widget: bool) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", content_security_policy(widget).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            # A login link's token is in its URL: it must not travel on in a Referer.
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", [])) + self.headers
                if not static:
                    # Pages hold personal data: no copy in the browser's or a proxy's cache.
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
