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
    forums: set[int] = field(default_factory=set)  # group ids that are forums (getChat says so)
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
        if method == "getChat":
            return self._chat_info(int(params["chat_id"]))
        if method == "createForumTopic":
            # A topic's id is the id of the service message that opens it, as on Telegram.
            topic_id = next(self._ids.setdefault(int(params["chat_id"]), itertools.count(1)))
            return {"message_thread_id": topic_id, "name": params["name"], "icon_color": 7322096}
        return True

    def _chat(self, chat_id: int) -> dict[str, Any]:
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
        if chat_id in self.forums:
            chat["is_forum"] = True
        return chat

    def _chat_info(self, chat_id: int) -> dict[str, Any]:
        # The fields PTB 22's ChatFullInfo requires.
        return {**self._chat(chat_id), "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False,
                                        "unique_gifts": False, "premium_subscription": False,
                                        "gifts_from_channels": False}}

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        counter = self._ids.setdefault(chat_id, itertools.count(1))
        message_id = int(params.get("message_id") or next(counter))
        message = {"message_id": message_id, "date": int(time.time()), "chat": self._chat(chat_id),
                   "from": BOT_USER, "text": params.get("text", "")}
        if params.get("message_thread_id"):
            message["message_thread_id"] = int(params["message_thread_id"])
            message["is_topic_message"] = chat_id in self.forums
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
