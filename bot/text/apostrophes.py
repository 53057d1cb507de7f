"""Uzbek Latin apostrophes.

The 1995 alphabet writes oʻ and gʻ with U+02BB (ʻ, "turned comma") and the
separating sign (tutuq belgisi) with U+02BC (ʼ).  Almost nobody can type
those, so users send ' ‘ ’ ` ´ and friends instead.  We map all of them to
the official characters so that search, comparison and transliteration see
one spelling - but only where the character is clearly part of a word, so
that quotes, URLs and English contractions survive.
"""

from __future__ import annotations

import re

OKINA = "\u02bb"  # ʻ in oʻ, gʻ
TUTUQ = "\u02bc"  # ʼ separating sign (Cyrillic ъ)

APOSTROPHE_LOOKALIKES = frozenset(
    "\u0027"  # '  ASCII apostrophe
    "\u2018"  # ‘  left single quotation mark
    "\u2019"  # ’  right single quotation mark
    "\u0060"  # `  grave accent
    "\u00b4"  # ´  acute accent
    "\u02bb"  # ʻ  modifier letter turned comma
    "\u02bc"  # ʼ  modifier letter apostrophe
    "\u02b9"  # ʹ  modifier letter prime
    "\u2032"  # ′  prime
)

# Apostrophes are legal in e-mail local parts and URLs; rewriting them
# would break the address.
_UNTOUCHABLE_RE = re.compile(
    r"(?:https?://|ftp://|www\.)\S+"
    r"|[\w.+%'’-]+@[\w-]+(?:\.[\w-]+)+",
    re.IGNORECASE,
)

# English contractions ("don't", "it's") are the common non-Uzbek use of an
# apostrophe between letters.  Uzbek words never end in these sequences.
_ENGLISH_TAILS = frozenset({"s", "re", "ll", "ve"})


def normalize_uz_latin(text: str) -> str:
    """Replace apostrophe look-alikes inside Uzbek Latin words by U+02BB/U+02BC.

    Idempotent: every decision depends only on the neighbouring letters and
    on whether a neighbour is a look-alike, and the replacements are
    themselves look-alikes.
    """
    parts = []
    last = 0
    for match in _UNTOUCHABLE_RE.finditer(text):
        parts.append(_normalize_plain(text[last:match.start()]))
        parts.append(match.group())
        last = match.end()
    parts.append(_normalize_plain(text[last:]))
    return "".join(parts)


def _normalize_plain(text: str) -> str:
    if not any(ch in APOSTROPHE_LOOKALIKES for ch in text):
        return text
    return "".join(
        _replacement(text, i) if ch in APOSTROPHE_LOOKALIKES else ch
        for i, ch in enumerate(text)
    )


def _replacement(text: str, i: int) -> str:
    """The official character for the look-alike at text[i], or it unchanged."""
    original = text[i]
    before = text[i - 1] if i > 0 else ""
    after = text[i + 1] if i + 1 < len(text) else ""
    if not is_latin_letter(before):
        return original  # an opening quote, or a lone mark
    if _is_english_contraction(text, i):
        return original
    if before in "oOgG":
        if is_latin_letter(after):
            return OKINA
        # Word-final: "togʻ", "bogʻ" are common, but 'radio' is a quote.
        if _word_is_quoted(text, i):
            return original
        if before in "gG" or _is_single_letter_word(text, i - 1):
            return OKINA
        return original
    if is_latin_letter(after):
        return TUTUQ
    return original


def is_latin_letter(ch: str) -> bool:
    return len(ch) == 1 and ("a" <= ch <= "z" or "A" <= ch <= "Z")


def _is_english_contraction(text: str, i: int) -> bool:
    tail_end = i + 1
    while tail_end < len(text) and is_latin_letter(text[tail_end]):
        tail_end += 1
    tail = text[i + 1:tail_end].lower()
    if tail == "t" and text[i - 1] in "nN":
        return True
    return tail in _ENGLISH_TAILS


def _word_is_quoted(text: str, i: int) -> bool:
    """True when the word ending just before text[i] opens with a look-alike."""
    j = i - 1
    while j >= 0 and (
        is_latin_letter(text[j]) or _is_inner_apostrophe(text, j)
    ):
        j -= 1
    return j >= 0 and text[j] in APOSTROPHE_LOOKALIKES


def _is_inner_apostrophe(text: str, j: int) -> bool:
    return (
        text[j] in APOSTROPHE_LOOKALIKES
        and j > 0
        and j + 1 < len(text)
        and is_latin_letter(text[j - 1])
        and is_latin_letter(text[j + 1])
    )


def _is_single_letter_word(text: str, j: int) -> bool:
    return j == 0 or not (is_latin_letter(text[j - 1]) or text[j - 1] in APOSTROPHE_LOOKALIKES)
