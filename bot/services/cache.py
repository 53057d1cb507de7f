"""A bounded least-recently-used map: per-user state kept in memory never grows without limit."""
from __future__ import annotations

from collections import OrderedDict
from typing import Generic, Hashable, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MISSING = object()


class BoundedCache(Generic[K, V]):
    def __init__(self, max_size: int) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()
        self.max_size = max_size

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K, default=None):
        value = self._items.get(key, MISSING)
        if value is MISSING:
            return default
        self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.max_size:
            self._items.popitem(last=False)

    def pop(self, key: K, default=None):
        return self._items.pop(key, default)


class ContentMemo:
    """Remembers values derived from one content version (rendered screens); a new version
    of the content starts afresh, so an edit is never shown stale."""

    def __init__(self, max_size: int = 4096) -> None:
        self._max_size = max_size
        self._content: object = None
        self._values: BoundedCache = BoundedCache(max_size)

    def get(self, content: object, key: Hashable, build):
        if content is not self._content:
            self._content, self._values = content, BoundedCache(self._max_size)
        value = self._values.get(key, MISSING)
        if value is MISSING:
            value = build()
            self._values.put(key, value)
        return value
