"""Text → search terms, so that "vizalar", "визы", "viza" and "визани" meet in one stem.

Everything is folded into one Latin spelling (Uzbek Cyrillic and Russian through the Uzbek
transliteration), apostrophes and the q/k, x/h distinctions users blur are dropped, and a light
stemmer takes off Uzbek suffixes; Russian words are first stemmed by Snowball in Cyrillic.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer  # PyStemmer: the Snowball algorithms, compiled

from bot.text.apostrophes import APOSTROPHE_LOOKALIKES

_RUSSIAN = Stemmer.Stemmer("russian")
_ENGLISH = Stemmer.Stemmer("english")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_UZBEK_ONLY_CYRILLIC = re.compile(r"[ўқғҳ]")
_WORD = re.compile(r"[^\W_]+(?:[" + "".join(APOSTROPHE_LOOKALIKES) + r"][^\W_]+)*")
_APOSTROPHES = str.maketrans("", "", "".join(APOSTROPHE_LOOKALIKES))
# Letter by letter is enough here: query and index go through the same table, so the context
# rules of proper transliteration (е → ye, ц → s/ts) would only cost time.
_CYRILLIC_TO_LATIN = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "j", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "x", "ц": "s", "ч": "ch", "ш": "sh", "щ": "sh",
    "ъ": "", "ы": "i", "ь": "", "э": "e", "ю": "yu", "я": "ya", "ў": "o", "қ": "q", "ғ": "g",
    "ҳ": "h", "і": "i", "ї": "i", "є": "e",
})
_BLUR = str.maketrans({"q": "k", "x": "h", "w": "v", "c": "s", "z": "s"})
_DOUBLED = re.compile(r"(.)\1+")

# Longest first: Uzbek case, plural and possessive endings (they stack: "vizalarimizni").
_UZBEK_SUFFIXES = sorted((
    "lar", "ni", "ning", "ga", "ka", "qa", "da", "dan", "im", "ing", "imiz", "ingiz",
    "miz", "ngiz", "si", "lari", "laring", "larim", "mi", "dir", "chi", "gan", "ish", "moq",
    "yapti", "yapman", "yotgan", "ishdi", "ibdi", "ilgan", "dagi", "dagi", "lik",
), key=len, reverse=True)
MIN_STEM = 3

STOPWORDS = frozenset(
    # English
    "a an the to of in on for and or is are be i my me you your how what where when can do does "
    "with from at it this that there have has not no get about after who which "
    # Russian (folded)
    "i v vo na s so k ko po o ob ot do za iz u ya mne moy moya moi vy vam vash kak chto gde kogda "
    "eto ne ni li by mozhno nuzhno esli pri dlya ili a no "
    # Uzbek (folded)
    "va uchun bilan men meni menga mening siz sizga sizning nima qanday kanday qayerda kayerda "
    "bu u ham yoki emas bor yoq qachon kachon kerak mumkin"
    .split())


_SUFFIXES_BY_LENGTH = sorted(
    {length: {x for x in _UZBEK_SUFFIXES if len(x) == length}
     for length in {len(x) for x in _UZBEK_SUFFIXES}}.items(), reverse=True)


def _light_uzbek_stem(word: str) -> str:
    stripped = True
    while stripped:
        stripped = False
        for length, suffixes in _SUFFIXES_BY_LENGTH:
            if len(word) - length >= MIN_STEM and word[-length:] in suffixes:
                word = word[:-length]
                stripped = True
                break
    return word


@lru_cache(maxsize=50_000)
def _fold(token: str) -> str:
    latin = token.lower().translate(_CYRILLIC_TO_LATIN).translate(_APOSTROPHES)
    return _DOUBLED.sub(r"\1", latin.translate(_BLUR))


@lru_cache(maxsize=50_000)
def term(token: str) -> str:
    """The stem a token is indexed and looked up under."""
    token = unicodedata.normalize("NFKC", token).lower()
    if _CYRILLIC.search(token) and not _UZBEK_ONLY_CYRILLIC.search(token):
        token = _RUSSIAN.stemWord(token)
    elif not _CYRILLIC.search(token) and token.isascii() and token.endswith("s"):
        token = _ENGLISH.stemWord(token)
    folded = _fold(token)
    stem = _light_uzbek_stem(folded)
    # Final vowels are where Russian, Uzbek and English forms of one loan word differ.
    while len(stem) > MIN_STEM and stem[-1] in "aeiouy":
        stem = stem[:-1]
    return stem


def tokens(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text))


def terms(text: str) -> list[str]:
    found = []
    for token in tokens(text):
        stem = term(token)
        if len(stem) >= 2 and not {token.lower(), _fold(token), stem} & STOPWORDS:
            found.append(stem)
    return found
