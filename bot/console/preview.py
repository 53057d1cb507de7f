"""Telegram HTML shown in a console page as the bot's user sees it.

Only the tags the bot sends (b, i, code, and a with an http(s) link) pass, balanced; every
other character is escaped again, so text from a content file or a translation can never
become markup in the console whatever it holds."""
from __future__ import annotations

import html
import re

from markupsafe import Markup

_TAG = re.compile(r"<(/?)([a-z\-]+)([^<>]*)>")
_HREF = re.compile(r'^\s+href="(https?://[^"]*)"\s*$')
PLAIN_TAGS = ("b", "i", "code")


def _text(piece: str) -> str:
    # Entities are decoded first so that an already escaped "&lt;" is not escaped twice.
    return html.escape(html.unescape(piece), quote=False)


def _opening(name: str, attributes: str) -> str | None:
    if name in PLAIN_TAGS and not attributes.strip():
        return f"<{name}>"
    link = _HREF.match(attributes) if name == "a" else None
    if link:
        href = html.escape(html.unescape(link.group(1)), quote=True)
        return f'<a href="{href}" rel="noopener noreferrer">'
    return None


def _tag(match: re.Match, open_tags: list[str]) -> str | None:
    closing, name, attributes = match.groups()
    if closing:
        if open_tags and open_tags[-1] == name and not attributes.strip():
            open_tags.pop()
            return f"</{name}>"
        return None
    shown = _opening(name, attributes)
    if shown:
        open_tags.append(name)
    return shown


def telegram_html(text: str) -> Markup:
    """`text` (Telegram HTML) safe to put in a page; a tag that is not allowed shows as text."""
    parts, open_tags, position = [], [], 0
    for match in _TAG.finditer(text):
        parts.append(_text(text[position:match.start()]))
        parts.append(_tag(match, open_tags) or _text(match.group(0)))
        position = match.end()
    parts.append(_text(text[position:]))
    parts.extend(f"</{name}>" for name in reversed(open_tags))
    return Markup("".join(parts))
