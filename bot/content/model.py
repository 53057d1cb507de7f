"""The loaded content: an immutable tree of topics and their texts per locale."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class Source:
    title: str
    url: str | None = None


@dataclass(frozen=True)
class Topic:
    key: str
    parent: str | None
    children: tuple[str, ...]
    countries: tuple[str, ...]
    sources: tuple[Source, ...]
    reviewed: date | None
    verified: bool

    @property
    def is_section(self) -> bool:
        return bool(self.children)


@dataclass(frozen=True)
class TopicText:
    title: str
    keywords: tuple[str, ...]
    blocks: tuple[str, ...]  # rendered Telegram HTML, one paragraph or list each
    body: str  # the Markdown source, for search
    path: Path
    served_from: str  # the locale written by hand, or how the text was derived


@dataclass(frozen=True)
class Fallback:
    locale: str
    key: str
    served_from: str


@dataclass(frozen=True)
class Content:
    topics: dict[str, Topic]
    roots: tuple[str, ...]
    texts: dict[tuple[str, str], TopicText]
    fallbacks: tuple[Fallback, ...] = field(default=())

    def topic(self, key: str) -> Topic | None:
        return self.topics.get(key)

    def text(self, locale: str, key: str) -> TopicText:
        return self.texts[(locale, key)]

    def trail(self, key: str) -> list[str]:
        """Keys from the main-menu section down to `key` itself."""
        keys = []
        current: str | None = key
        while current is not None:
            keys.append(current)
            current = self.topics[current].parent
        return keys[::-1]
