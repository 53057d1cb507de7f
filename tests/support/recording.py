"""A `BaseRequest` that answers like Telegram from memory and records every call."""
from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT_USER = {"id": 7000000001, "is_bot": True, "first_name": "Migrant Help",
            "username": "migrant_help_test_bot", "can_join_groups": True,
            "can_read_all_group_messages": False, "supports_inline_queries": False}


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class RecordingRequest(BaseRequest):
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    _ids: dict[int, itertools.count] = field(default_factory=dict)

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    def fail_next(self, method: str, status: int, description: str) -> None:
        self.failures.setdefault(method, []).append((status, description))

    def methods(self) -> list[str]:
        return [call.method for call in self.calls]

    def of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def sent_texts(self) -> list[str]:
        return [c.params["text"] for c in self.calls
                if c.method in ("sendMessage", "editMessageText")]

    def last_screen(self) -> Call:
        return [c for c in self.calls if c.method in ("sendMessage", "editMessageText")][-1]

    def clear(self) -> None:
        self.calls.clear()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params = _decoded(request_data.json_parameters if request_data else {})
        if request_data is not None and request_data.contains_files:
            params["files"] = {name: value[1] for name, value in
                               (request_data.multipart_data or {}).items()}
        self.calls.append(Call(api_method, params))
        if self.failures.get(api_method):
            status, description = self.failures[api_method].pop(0)
            return status, json.dumps({"ok": False, "error_code": status,
                                       "description": description}).encode()
        return 200, json.dumps({"ok": True, "result": self._result(api_method, params)}).encode()

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method == "getUpdates":
            return []
        if method in ("sendMessage", "editMessageText", "sendDocument"):
            return self._message(params)
        return True

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        counter = self._ids.setdefault(chat_id, itertools.count(1))
        message_id = int(params.get("message_id") or next(counter))
        message = {"message_id": message_id, "date": int(time.time()),
                   "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                   "from": BOT_USER, "text": params.get("text", "")}
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message


def _decoded(params: dict[str, str]) -> dict[str, Any]:
    decoded = {}
    for key, value in params.items():
        try:
            decoded[key] = json.loads(value)
        except (TypeError, ValueError):
            decoded[key] = value
    # Text is sent as a JSON string; keep it as given.
    return decoded
