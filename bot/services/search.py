"""Answers free text from the in-memory index; rebuilt whenever new content goes into service."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content.model import Content
from bot.db.models import utcnow
from bot.db.repositories import InteractionRepository
from bot.search.index import SearchIndex
from bot.search.terms import terms

SNIPPET_LENGTH = 90
QUERY_LOG_LIMIT = 500
_TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Result:
    key: str
    title: str
    snippet: str


def snippet(content: Content, locale: str, key: str) -> str:
    text = content.text(locale, key)
    plain = html.unescape(_TAGS.sub("", text.blocks[0])) if text.blocks else ""
    plain = plain.lstrip("• ").replace("\n", " ")
    return plain if len(plain) <= SNIPPET_LENGTH else plain[:SNIPPET_LENGTH - 1].rsplit(" ", 1)[0] + "…"


class SearchService:
    def __init__(self, sessions: async_sessionmaker | None = None) -> None:
        self._sessions = sessions
        self._index: SearchIndex | None = None
        self._content: Content | None = None

    def rebuild(self, content: Content) -> None:
        index = SearchIndex(content)
        self._index, self._content = index, content

    def search(self, query: str, locale: str, content: Content,
               country: str | None = None) -> list[Result]:
        """Search `content`, the topics of the person's `country` first; an index still being
        built for it in the background is built here."""
        if self._content is not content:
            self.rebuild(content)
        hits = self._index.search(query, country=country)
        return [Result(hit.key, self._content.text(locale, hit.key).title,
                       snippet(self._content, locale, hit.key)) for hit in hits]

    async def gaps(self, days: int = 30, limit: int = 20) -> list[tuple[str, int]]:
        """The most frequent searches that found nothing, grouped by their search terms."""
        async with self._sessions() as session:
            rows = await InteractionRepository(session).unanswered_queries(
                utcnow() - timedelta(days=days))
        return group_queries(rows, limit)


def group_queries(queries: list[str], limit: int) -> list[tuple[str, int]]:
    """A search in other word forms or word order counts once: grouped by its search terms,
    each group shown as its first query, the most frequent first."""
    groups: dict[str, list] = {}
    for query in queries:
        key = " ".join(sorted(set(terms(query)))) or query.lower()
        groups.setdefault(key, [query, 0])[1] += 1
    ranked = sorted(groups.values(), key=lambda pair: (-pair[1], pair[0]))
    return [(query, count) for query, count in ranked[:limit]]
