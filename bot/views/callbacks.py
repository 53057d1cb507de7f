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

_KEY = r"[a-z0-9_]{1,32}"
_TOPIC = re.compile(rf"^t\|({_KEY})(?:\|(\d{{1,3}}))?$")
_LANGUAGE = re.compile(rf"^l\|([A-Za-z_]{{2,8}})(?:\|({_KEY}))?$")


@dataclass(frozen=True)
class Callback:
    kind: str  # "main", "topic", "language", "picker", "noop"
    key: str | None = None
    page: int = 0
    locale: str | None = None


def _checked(data: str) -> str:
    if len(data.encode("utf-8")) > CALLBACK_DATA_LIMIT:
        raise ValueError(f"callback data over {CALLBACK_DATA_LIMIT} bytes: {data!r}")
    return data


def topic(key: str, page: int = 0) -> str:
    return _checked(f"t|{key}|{page}" if page else f"t|{key}")


def language(locale: str, then_key: str | None = None) -> str:
    return _checked(f"l|{locale}|{then_key}" if then_key else f"l|{locale}")


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
    return None
