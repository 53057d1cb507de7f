"""Turning an HTTP request into typed Bot API parameters.

The Bot API accepts a query string, application/x-www-form-urlencoded,
application/json and multipart/form-data. PTB 22's HTTPXRequest always POSTs
form fields (multipart when a file is uploaded, urlencoded otherwise) in which
every value is a string: plain strings as-is, everything else JSON-dumped. So
"123" may be an int and '{"inline_keyboard": ...}' an object; like Telegram, we
decide by the parameter's name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from .errors import bad_request


@dataclass(frozen=True)
class UploadedFile:
    """A file sent in a multipart body."""

    filename: str
    content: bytes
    content_type: str | None = None


JSON_PARAMETERS = frozenset({
    "reply_markup", "reply_parameters", "entities", "caption_entities", "commands", "scope",
    "menu_button", "allowed_updates", "link_preview_options", "media", "results",
    "permissions", "reaction",
})
INTEGER_PARAMETERS = frozenset({
    "chat_id", "from_chat_id", "message_id", "offset", "limit", "timeout", "message_thread_id",
    "reply_to_message_id", "cache_time", "user_id", "max_connections", "duration", "width",
    "height", "icon_color",
})
BOOLEAN_PARAMETERS = frozenset({
    "show_alert", "drop_pending_updates", "disable_notification", "protect_content",
    "allow_sending_without_reply", "disable_web_page_preview", "disable_content_type_detection",
    "for_channels", "allow_paid_broadcast", "has_spoiler", "revoke_messages",
})


async def read_parameters(request: web.Request) -> dict[str, Any]:
    """All parameters of a request, query string first, body values winning."""
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        params.update(await _read_body(request))
    return {name: _coerce(name, value) for name, value in params.items()}


async def _read_body(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        body = await request.read()
        if not body.strip():
            return {}
        try:
            data = json.loads(body)
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(data, dict):
            raise bad_request("can't parse JSON object")
        return data
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return _form_fields(await request.post())
    return {}


def _form_fields(form: MultiDictProxy) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, value in form.items():
        if isinstance(value, web.FileField):
            fields[name] = UploadedFile(value.filename, value.file.read(), value.content_type)
        else:
            fields[name] = value
    return fields


def _coerce(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name in JSON_PARAMETERS:
        return _json_value(name, value)
    if name in INTEGER_PARAMETERS:
        return _int_or_unchanged(value)
    if name in BOOLEAN_PARAMETERS:
        return value.strip().lower() in ("true", "1")
    return value


def _json_value(name: str, value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        if name == "reply_markup":
            raise bad_request("can't parse reply keyboard markup JSON object") from None
        raise bad_request(f"can't parse {name} JSON object") from None


def _int_or_unchanged(value: str) -> Any:
    # chat_id may legitimately be "@channelusername"; leave such strings alone.
    try:
        return int(value)
    except ValueError:
        try:
            return int(float(value))
        except ValueError:
            return value


def resolve_attachment(value: Any, params: dict[str, Any]) -> Any:
    """Follow an "attach://name" reference to the uploaded part it names."""
    if isinstance(value, str) and value.startswith("attach://"):
        return params.get(value[len("attach://"):], value)
    return value
