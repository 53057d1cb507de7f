"""Callback data: short, versionless strings that any old button can still be parsed from.

Every kind fits Telegram's 64-byte limit because topic keys are at most 32 ASCII characters.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bot import LOCALES

CALLBACK_DATA_LIMIT = 64
MAIN_MENU = "m"
LANGUAGE_PICKER = "L"
NOOP = "n"
ASK = "a"
ASK_WITH_QUERY = "aq"
ERASE_CONFIRMED = "del"
MY_REQUESTS = "r"

_KEY = r"[a-z0-9_]{1,32}"
_TOPIC = re.compile(rf"^t\|({_KEY})(?:\|(\d{{1,3}}))?$")
_LANGUAGE = re.compile(rf"^l\|([A-Za-z_]{{2,8}})(?:\|({_KEY}))?$")
_ASK = re.compile(rf"^a\|({_KEY})$")
_FLOW = re.compile(r"^f\|(topic|country|asker|consent)\|([A-Za-z0-9_-]{1,32})$")
_MY_CASE = re.compile(r"^r\|(\d{1,12})(?:\|(\d{1,3}))?$")
_WRITE = re.compile(r"^w\|(\d{1,12})$")
_STAFF = re.compile(r"^s\|(take|resolve|close)\|(\d{1,12})$")
_QUEUE = re.compile(r"^q\|(\d{1,4})$")
_STAFF_CASE = re.compile(r"^c\|(\d{1,12})(?:\|(\d{1,3}))?$")


@dataclass(frozen=True)
class Callback:
    kind: str  # main, topic, language, picker, noop, ask, flow, mine, case, write, staff, queue, staffcase
    key: str | None = None
    page: int = 0
    locale: str | None = None
    value: str | None = None
    id: int | None = None


def _checked(data: str) -> str:
    if len(data.encode("utf-8")) > CALLBACK_DATA_LIMIT:
        raise ValueError(f"callback data over {CALLBACK_DATA_LIMIT} bytes: {data!r}")
    return data


def topic(key: str, page: int = 0) -> str:
    return _checked(f"t|{key}|{page}" if page else f"t|{key}")


def language(locale: str, then_key: str | None = None) -> str:
    return _checked(f"l|{locale}|{then_key}" if then_key else f"l|{locale}")


def ask(key: str | None = None) -> str:
    return _checked(f"a|{key}" if key else ASK)


def flow(field: str, value: str) -> str:
    return _checked(f"f|{field}|{value}")


def my_case(request_id: int, page: int = 0) -> str:
    return _checked(f"r|{request_id}|{page}" if page else f"r|{request_id}")


def write_to_case(request_id: int) -> str:
    return _checked(f"w|{request_id}")


def staff_action(action: str, request_id: int) -> str:
    return _checked(f"s|{action}|{request_id}")


def queue(page: int) -> str:
    return _checked(f"q|{page}")


def staff_case(request_id: int, page: int = 0) -> str:
    return _checked(f"c|{request_id}|{page}" if page else f"c|{request_id}")


def _parse_request_kinds(data: str) -> Callback | None:
    if data == ASK:
        return Callback("ask")
    if data == ERASE_CONFIRMED:
        return Callback("erase")
    if data == ASK_WITH_QUERY:
        return Callback("ask", value="query")
    if data == MY_REQUESTS:
        return Callback("mine")
    if match := _ASK.match(data):
        return Callback("ask", key=match.group(1))
    if match := _FLOW.match(data):
        return Callback("flow", key=match.group(1), value=match.group(2))
    if match := _MY_CASE.match(data):
        return Callback("case", id=int(match.group(1)), page=int(match.group(2) or 0))
    if match := _WRITE.match(data):
        return Callback("write", id=int(match.group(1)))
    if match := _STAFF.match(data):
        return Callback("staff", value=match.group(1), id=int(match.group(2)))
    if match := _QUEUE.match(data):
        return Callback("queue", page=int(match.group(1)))
    if match := _STAFF_CASE.match(data):
        return Callback("staffcase", id=int(match.group(1)), page=int(match.group(2) or 0))
    return None


def parse(data: str | None) -> Callback | None:
    """The button's meaning, or None for data this bot never made (forged or from elsewhere)."""
    if not data:
        return None
    if data == MAIN_MENU:
        return Callback("main")
    if data == LANGUAGE_PICKER:
        return Callback("picker")
    if data == NOOP:
        return Callback("noop")
    if match := _TOPIC.match(data):
        return Callback("topic", key=match.group(1), page=int(match.group(2) or 0))
    if (match := _LANGUAGE.match(data)) and match.group(1) in LOCALES:
        return Callback("language", locale=match.group(1), key=match.group(2))
    return _parse_request_kinds(data)
