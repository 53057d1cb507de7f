"""Keeps the content in service and swaps in edits while the bot runs."""
from __future__ import annotations

import logging
from pathlib import Path

from bot import LOCALES
from bot.content.loader import LoadResult, load_content
from bot.content.model import Content

log = logging.getLogger(__name__)


class ContentUnavailable(Exception):
    """The content could not be loaded at start-up; the problems say why."""

    def __init__(self, result: LoadResult) -> None:
        super().__init__("\n".join(str(p) for p in result.errors))
        self.result = result


def _signature(content_dir: Path) -> tuple[tuple[str, int, int], ...]:
    paths = [content_dir / "topics.yaml", content_dir / "safety.yaml"]
    for locale in LOCALES:
        paths.extend(sorted((content_dir / locale).glob("*.md")))
    entries = []
    for path in paths:
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        entries.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(entries)


class ContentStore:
    """The last good content; a broken edit is logged and leaves it in service."""

    def __init__(self, content_dir: Path) -> None:
        self.content_dir = content_dir
        self._content: Content | None = None
        self._signature: tuple[tuple[str, int, int], ...] = ()
        self._listeners: list = []

    @property
    def current(self) -> Content:
        if self._content is None:
            raise RuntimeError("content is not loaded yet")
        return self._content

    def on_change(self, listener) -> None:
        """Call `listener(content)` now and whenever new content goes into service."""
        self._listeners.append(listener)
        if self._content is not None:
            listener(self._content)

    def load(self) -> LoadResult:
        signature = _signature(self.content_dir)
        result = load_content(self.content_dir)
        self._signature = signature
        if result.content is None:
            if self._content is None:
                raise ContentUnavailable(result)
            for problem in result.errors:
                log.error("content reload rejected, last good content stays: %s", problem)
            return result
        self._content = result.content
        for listener in self._listeners:
            listener(result.content)
        return result

    def reload_if_changed(self) -> LoadResult | None:
        if _signature(self.content_dir) == self._signature:
            return None
        result = self.load()
        if result.content is not None:
            log.info("content reloaded: %d topics", len(result.content.topics))
        return result
