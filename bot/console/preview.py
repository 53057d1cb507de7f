"""Telegram HTML shown in a console page as the bot's user sees it.

nh3 (the ammonia sanitizer) lets only the tags the bot sends pass — b, i, code, and a with an
http(s) link — balanced, and drops every other tag, attribute and script, so text from a
content file or a translation can never become markup in the console whatever it holds."""
from __future__ import annotations

import nh3
from markupsafe import Markup

TAGS = {"b", "i", "code", "a"}


def telegram_html(text: str) -> Markup:
    """`text` (Telegram HTML) safe to put in a page."""
    return Markup(nh3.clean(text, tags=TAGS, attributes={"a": {"href"}}, url_schemes={"http", "https"},
                            link_rel="noopener noreferrer"))
