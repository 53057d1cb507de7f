"""A cry for help is not a search: does a message signal distress or forced labour?

The phrases live in `content/safety.yaml` (see bot.safety.rules), grouped by what they signal
(held documents, not allowed to leave, threats, debt to a recruiter, …). A phrase is a few
words; a message matches it when every word of it is found among the message's words, in any
order and close together. Words are compared after the search's own folding (bot.search.terms):
Uzbek Latin and Cyrillic, Russian and English become one lower-case Latin spelling, apostrophes
and the q/k, x/h, c/s, z/s distinctions people blur are dropped, doubled letters count once,
ё is е. So `qoʻyishdi`, `qoyishdi`, `қўйишди` and `куйишди` (a Russian keyboard) meet.

In a phrase, `*` stands for any letters (`паспорт*`, `ber*ma*`: a negated Uzbek verb), `a|b`
for either word. A word of five letters or more also matches with one letter typed wrong
(a word with `*` of six letters or more: also one left out or added).

Some signals are enough alone (they are marked `alone: true`); a weak one (wages paid late, fear)
counts only beside another. Pure: no I/O.
"""
from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import Hamming, Levenshtein

from bot.search.terms import _fold, tokens

# Words of a phrase may have this many other words between them, besides the phrase's own.
GAP = 3
FUZZY_MIN = 5  # letters a literal needs before one letter typed wrong is forgiven
FUZZY_LONG = 6  # … and one left out or added
TEXT_LIMIT = 2000
TOKEN_CACHE = 20_000


@lru_cache(maxsize=50_000)
def fold(word: str) -> str:
    """One spelling for every script and keyboard (see the module docstring)."""
    word = unicodedata.normalize("NFKC", word).lower().replace("ё", "е")
    return _fold(word)


@dataclass(frozen=True)
class Alternative:
    """One way a phrase word may be written: `literal`, `literal*`, or with `*` inside."""

    literal: str            # folded; for a wildcard pattern, the part before the first `*`
    prefix: bool            # `literal*`: any ending
    pattern: re.Pattern | None = None  # a `*` inside: matched as a whole, without typos

    @classmethod
    def parse(cls, written: str) -> "Alternative":
        pieces = [fold(piece) for piece in written.split("*")]
        if len(pieces) == 1:
            return cls(pieces[0], prefix=False)
        if len(pieces) == 2 and not pieces[1]:
            return cls(pieces[0], prefix=True)
        regex = r"[^\W_]*".join(re.escape(piece) for piece in pieces)
        return cls(pieces[0], prefix=False, pattern=re.compile(rf"^{regex}$"))

    def matches(self, token: str) -> bool:
        if self.pattern is not None:
            return self.pattern.match(token) is not None
        literal = self.literal
        if self.prefix:
            if token.startswith(literal):
                return True
            if len(literal) < FUZZY_MIN or not token or token[0] != literal[0]:
                return False
            size = len(literal)
            # A letter left out or added only in longer words: "saper" (запер*) is one letter
            # from the start of "sapret" (запрет).
            sizes = (size - 1, size, size + 1) if size >= FUZZY_LONG else (size,)
            return any(Levenshtein.distance(token[:n], literal, score_cutoff=1) <= 1
                       for n in sizes if n <= len(token))
        if token == literal:
            return True
        # A whole word is often one grammatical form ("забрали": they took; "забрал": I
        # collected it): only a letter typed wrong is forgiven, not one left out or added.
        return (len(literal) >= FUZZY_MIN and len(token) == len(literal)
                and token[0] == literal[0] and Hamming.distance(token, literal) <= 1)


@dataclass(frozen=True)
class Phrase:
    written: str
    words: tuple[tuple[Alternative, ...], ...]
    line: int = 0

    @classmethod
    def parse(cls, written: str, line: int = 0) -> "Phrase":
        words = tuple(tuple(Alternative.parse(alt) for alt in word.split("|") if alt)
                      for word in written.split())
        return cls(written, tuple(word for word in words if word), line)


@dataclass(frozen=True)
class Category:
    name: str
    alone: bool           # enough on its own, or only beside another signal
    topics: tuple[str, ...]  # the help shown for it, most useful first
    phrases: tuple[Phrase, ...]


@dataclass(frozen=True)
class Distress:
    """What a message signals: the categories (in the file's order), the help topics to show
    first, and the phrases that matched (for staff and tests)."""

    categories: tuple[str, ...]
    topics: tuple[str, ...]
    phrases: tuple[str, ...]


class Phrasebook:
    """The categories compiled for speed: each distinct phrase word once, found through the
    first letter of its spellings (typos are forgiven after the first letter only), and what
    every token seen matched, remembered (bounded)."""

    def __init__(self, categories: tuple[Category, ...], max_topics: int = 4) -> None:
        self.categories = categories
        self.max_topics = max_topics
        self._word_ids: dict[tuple[Alternative, ...], int] = {}
        by_letter: dict[str, list[tuple[int, Alternative]]] = {}
        for category in categories:
            for phrase in category.phrases:
                for word in phrase.words:
                    if word in self._word_ids:
                        continue
                    word_id = self._word_ids[word] = len(self._word_ids)
                    for alternative in word:
                        by_letter.setdefault(alternative.literal[:1], []).append(
                            (word_id, alternative))
        self._by_letter = by_letter
        # Each category's phrases as the ids of their words.
        self._compiled = tuple((category, tuple((phrase, tuple(self._word_ids[w] for w in phrase.words))
                                                for phrase in category.phrases))
                               for category in categories)
        self._seen: OrderedDict[str, frozenset[int]] = OrderedDict()

    def words_of(self, token: str) -> frozenset[int]:
        """The phrase words this (folded) token is a spelling of."""
        found = self._seen.get(token)
        if found is None:
            found = frozenset(word_id for word_id, alternative in self._by_letter.get(token[:1], ())
                              if alternative.matches(token))
            self._seen[token] = found
            if len(self._seen) > TOKEN_CACHE:
                self._seen.popitem(last=False)
        return found

    @staticmethod
    def _near_enough(word_ids: tuple[int, ...], positions: dict[int, list[int]]) -> bool:
        """Every word of a phrase on a different token, all within a window of the phrase's
        length plus GAP."""
        found = []
        for word_id in word_ids:
            candidates = positions.get(word_id)
            if not candidates:
                return False
            found.append(candidates)
        span = len(word_ids) + GAP
        for start in found[0]:
            chosen = {start}
            for candidates in found[1:]:
                near = [p for p in candidates if p not in chosen and abs(p - start) < span]
                if not near:
                    break
                chosen.add(min(near, key=lambda p: abs(p - start)))
            else:
                if max(chosen) - min(chosen) < span:
                    return True
        return False

    def detect(self, text: str) -> Distress | None:
        """The distress a message signals, or None for an ordinary question."""
        positions: dict[int, list[int]] = {}
        for index, token in enumerate(fold(token) for token in tokens(text[:TEXT_LIMIT])):
            if token:
                for word_id in self.words_of(token):
                    positions.setdefault(word_id, []).append(index)
        if not positions:
            return None
        hits: list[tuple[Category, Phrase]] = []
        for category, phrases in self._compiled:
            phrase = next((phrase for phrase, word_ids in phrases
                           if self._near_enough(word_ids, positions)), None)
            if phrase is not None:
                hits.append((category, phrase))
        if not hits or (len(hits) < 2 and not hits[0][0].alone):
            return None
        topics = tuple(dict.fromkeys(key for category, _ in hits for key in category.topics))
        return Distress(tuple(category.name for category, _ in hits), topics[:self.max_topics],
                        tuple(phrase.written for _, phrase in hits))
