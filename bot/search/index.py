"""An in-memory BM25 index over every topic in every locale, with typo-tolerant lookup."""
from __future__ import annotations

import bisect
import math
import re
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import extract

from bot import LOCALES
from bot.content.model import Content
from bot.search.terms import terms

# A title or keyword says more about a topic than a word in its body.
FIELD_WEIGHTS = {"title": 3.0, "keywords": 3.0, "body": 1.0}
K1, B = 1.2, 0.75
MAX_RESULTS = 5
MIN_SCORE = 1.0
# The country first: a topic about the person's country counts this much more. Another
# country's topics keep their score: a person in Türkiye who types "patent" means Russia's.
OWN_COUNTRY = 1.5
PREFIX_MIN = 4
LOOKUP_CACHE = 20_000
# A long question of several sentences is searched whole, up to this many distinct terms (each
# unknown one costs a typo lookup over the whole vocabulary).
MAX_QUERY_TERMS = 64


@dataclass(frozen=True)
class Hit:
    key: str
    score: float


def _allowed_edits(term: str) -> int:
    # Short words have too many neighbours one edit away to guess which one was meant.
    if len(term) <= 4:
        return 0
    return 1 if len(term) <= 7 else 2


class SearchIndex:
    def __init__(self, content: Content) -> None:
        documents = self._documents(content)
        lengths = {key: sum(weights.values()) for key, weights in documents.items()}
        average = sum(lengths.values()) / max(len(lengths), 1)
        frequency = Counter(term for weights in documents.values() for term in weights)
        count = len(documents)
        self.postings: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for key, weights in documents.items():
            norm = K1 * (1 - B + B * lengths[key] / average)
            for term, weight in weights.items():
                idf = math.log(1 + (count - frequency[term] + 0.5) / (frequency[term] + 0.5))
                self.postings[term].append((key, idf * weight * (K1 + 1) / (weight + norm)))
        self.vocabulary = sorted(self.postings)
        self.countries = {key: topic.countries for key, topic in content.topics.items()}
        self._lookups: OrderedDict[str, list[tuple[str, float]]] = OrderedDict()

    @staticmethod
    def _documents(content: Content) -> dict[str, Counter]:
        documents: dict[str, Counter] = {}
        for key in content.topics:
            weights: Counter = Counter()
            for locale in LOCALES:
                text = content.text(locale, key)
                fields = {"title": text.title, "keywords": " ".join(text.keywords),
                          "body": re.sub(r"\(https://[^)]*\)", "", text.body)}
                for field, value in fields.items():
                    for term in terms(value):
                        weights[term] += FIELD_WEIGHTS[field]
            documents[key] = weights
        return documents

    def _matches(self, term: str) -> list[tuple[str, float]]:
        """Index terms a query term stands for, with how sure we are (1.0 = exact)."""
        cached = self._lookups.get(term)
        if cached is not None:
            self._lookups.move_to_end(term)
            return cached
        found: dict[str, float] = {}
        if term in self.postings:
            found[term] = 1.0
        if len(term) >= PREFIX_MIN:
            start = bisect.bisect_left(self.vocabulary, term)
            for candidate in self.vocabulary[start:start + 20]:
                if not candidate.startswith(term):
                    break
                found.setdefault(candidate, 0.8)
        edits = _allowed_edits(term)
        if edits and term not in self.postings:
            for candidate, distance, _ in extract(term, self.vocabulary, scorer=Levenshtein.distance,
                                                  score_cutoff=edits, limit=10):
                found.setdefault(candidate, 0.9 - 0.15 * distance)
        result = list(found.items())
        self._lookups[term] = result
        if len(self._lookups) > LOOKUP_CACHE:
            self._lookups.popitem(last=False)
        return result

    def search(self, query: str, limit: int = MAX_RESULTS, country: str | None = None) -> list[Hit]:
        scores: Counter = Counter()
        for term in list(dict.fromkeys(terms(query)))[:MAX_QUERY_TERMS]:
            best: dict[str, float] = {}
            for candidate, confidence in self._matches(term):
                for key, weight in self.postings[candidate]:
                    best[key] = max(best.get(key, 0.0), confidence * weight)
            scores.update(best)
        ranked = [Hit(key, score * self._country_factor(key, country))
                  for key, score in scores.items() if score >= MIN_SCORE]
        ranked.sort(key=lambda hit: -hit.score)
        return ranked[:limit]

    def _country_factor(self, key: str, country: str | None) -> float:
        return OWN_COUNTRY if country is not None and country in self.countries[key] else 1.0
