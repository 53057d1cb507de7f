"""Search micro-benchmarks, in-process: content load, index build, and query latency over a
mixed stream of the labelled queries and mutated copies of them (typos, prefixes, mixes)."""
from __future__ import annotations

import csv
import random
import statistics
import time

from bench.config import CONTENT_DIR, SEARCH_QUERIES
from bench.metrics import latency_summary

P99_TARGET_MS = 2.0
INDEX_BUILDS = 3


def _mutate(query: str, rng: random.Random, others: list[str]) -> str:
    """A query as people type it: a letter dropped, doubled or swapped, cut short, or run
    together with words of another query. New words also defeat the index's lookup cache."""
    words = query.split()
    choice = rng.randrange(5)
    if choice == 4 or not words:
        return f"{query} {rng.choice(others).split()[0]}"
    position = rng.randrange(len(words))
    word = words[position]
    if len(word) > 3:
        cut = rng.randrange(1, len(word) - 1)
        word = {0: word[:cut] + word[cut + 1:],           # dropped
                1: word[:cut] + word[cut] + word[cut:],   # doubled
                2: word[:cut - 1] + word[cut] + word[cut - 1] + word[cut + 1:],  # swapped
                3: word[:max(4, cut)]}[choice]            # cut short
    words[position] = word
    return " ".join(words)


def mixed_queries(count: int, seed: int) -> list[tuple[str, str]]:
    """(query, locale): every labelled query once, then mutated ones, shuffled."""
    with SEARCH_QUERIES.open(encoding="utf-8") as handle:
        rows = [(row["query"], row["locale"]) for row in csv.DictReader(handle, delimiter="\t")]
    rng = random.Random(seed)
    texts = [query for query, _ in rows]
    mixed = list(rows)
    while len(mixed) < count:
        query, locale = rng.choice(rows)
        mixed.append((_mutate(query, rng, texts), locale))
    rng.shuffle(mixed)
    return mixed[:max(count, len(rows))]


def _timed(function, items) -> list[float]:
    clock = time.perf_counter
    seconds = []
    for item in items:
        begun = clock()
        function(*item)
        seconds.append(clock() - begun)
    return seconds


def run_search_bench(query_count: int, seed: int) -> dict:
    from bot.content.loader import load_content
    from bot.search.index import SearchIndex
    from bot.services.search import SearchService

    begun = time.perf_counter()
    content = load_content(CONTENT_DIR).content
    load_seconds = time.perf_counter() - begun
    builds = []
    for _ in range(INDEX_BUILDS):
        begun = time.perf_counter()
        index = SearchIndex(content)
        builds.append(time.perf_counter() - begun)
    queries = mixed_queries(query_count, seed)
    # A fresh index, so its lookup cache starts empty as after a restart or a content reload.
    index = SearchIndex(content)
    index_seconds = _timed(lambda query, _locale: index.search(query), queries)
    # What the bot's handler calls: the index, plus titles and snippets in the user's locale.
    service = SearchService()
    service.rebuild(content)
    service_seconds = _timed(lambda query, locale: service.search(query, locale, content), queries)
    index_latency = latency_summary(index_seconds)
    return {
        "queries": len(queries),
        "distinct_queries": len({query for query, _ in queries}),
        "content_load_ms": round(load_seconds * 1000, 1),
        "index_build_ms": round(statistics.median(builds) * 1000, 1),
        "index_terms": len(index.vocabulary),
        "index_search": index_latency,
        "service_search": latency_summary(service_seconds),
        "p99_target_ms": P99_TARGET_MS,
        "p99_within_target": index_latency["p99_ms"] is not None
        and index_latency["p99_ms"] <= P99_TARGET_MS,
    }
