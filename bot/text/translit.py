"""Uzbek Latin ⇄ Cyrillic transliteration (1995 alphabet).

Cyrillic → Latin is almost mechanical; the only real loss is ь and the ъ of
Russian loans.  Latin → Cyrillic has to guess (е/э, с/ц, lost ь), so it uses
context rules plus a small dictionary of frequent loan words.  A machine
transliteration is a fallback for staff to review: names, codes, numbers,
addresses and links are never rewritten.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable

from .apostrophes import OKINA, TUTUQ, normalize_uz_latin

__all__ = ["to_cyrillic", "to_latin", "transliterate_markdown"]

# ---------------------------------------------------------------- protection

_URL = r"(?:https?://|ftp://|www\.)[^\s<>\"«»“”]+"
_EMAIL = r"[\w.+%'’-]+@[\w-]+(?:\.[\w-]+)+"
_MENTION = r"(?<![\w@])@\w+"
# Bare domains are frequent in bot texts ("migration.uz", "t.me/...");
# the TLD list keeps ordinary "word.word" typos out.
_DOMAIN = (
    r"\b(?:[a-z0-9-]+\.)+(?:uz|ru|com|org|net|info|io|me|gov|edu|kz|kg|tj|tr|kr|de|uk)\b"
    r"(?:/[^\s<>\"«»“”]*)?"
)
_DIGIT_TOKEN = r"[^\s()\[\]{}<>«»\"“”,;!?]*\d[^\s()\[\]{}<>«»\"“”,;!?]*"
_PROTECTED_RE = re.compile(
    f"{_URL}|{_EMAIL}|{_MENTION}|{_DOMAIN}|(?P<digits>{_DIGIT_TOKEN})"
)

_TRAILING_PUNCT = ".,;:!?'\"’”»)]"

# "2026-yil", "PF-4947-son", "10dan": the digits stay, the grammatical
# suffix after them is ordinary Uzbek and must follow the script.  Codes
# such as "260-FZ" have upper-case tails and stay whole.
_NUMBER_SUFFIX_RE = re.compile(
    r"(?P<head>.*\d)(?P<hyphen>-?)"
    r"(?P<tail>[a-z\u02bb\u02bc'‘’`а-яёўқғҳъь]+)[.:]?"
)

Span = tuple[int, int]


def _protected_spans(text: str, protect: Iterable[str]) -> list[Span]:
    spans = [_trim_match(m, text) for m in _PROTECTED_RE.finditer(text)]
    for term in protect:
        if not term:
            continue
        start = text.find(term)
        while start != -1:
            spans.append((start, start + len(term)))
            start = text.find(term, start + len(term))
    return _merge(spans)


def _trim_match(match: re.Match, text: str) -> Span:
    start, end = match.span()
    suffix = match["digits"] and _NUMBER_SUFFIX_RE.fullmatch(match.group())
    if suffix and (suffix["hyphen"] or re.fullmatch(r"[\d.,:]+", suffix["head"])):
        return start, start + suffix.start("tail")
    # A sentence-final "." or a closing ")" belongs to the prose, not the link.
    while end > start + 1 and text[end - 1] in _TRAILING_PUNCT:
        if text[end - 1] == ")" and text[start:end].count("(") >= text[start:end].count(")"):
            break
        end -= 1
    return start, end


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _convert_outside(text: str, spans: list[Span], convert: Callable[[str], str]) -> str:
    parts = []
    last = 0
    for start, end in spans:
        parts.append(convert(text[last:start]))
        parts.append(text[start:end])
        last = end
    parts.append(convert(text[last:]))
    return "".join(parts)


# ------------------------------------------------------------ shared helpers


def _apply_case(piece: str, source_upper: bool, all_caps: bool) -> str:
    # In an all-caps word the caseless ʼ still becomes Ъ, not ъ.
    if all_caps:
        return piece.upper()
    if not source_upper:
        return piece
    return piece[:1].upper() + piece[1:]


def _case_like(source: str, target: str) -> str:
    """Give a whole-word replacement the capitalisation of its source."""
    letters = [ch for ch in source if ch.isalpha()]
    if len(letters) > 1 and all(ch.isupper() for ch in letters):
        return target.upper()
    if letters and letters[0].isupper():
        return target[:1].upper() + target[1:]
    return target


_WORD_NEAR_RE = re.compile(r"[^\W\d_]{2,}")


def _neighbour_is_all_caps(text: str, start: int, end: int) -> bool:
    """A one-letter word ("Ш", "Я") is upper-case in an all-caps heading."""
    before = _WORD_NEAR_RE.findall(text[max(0, start - 40):start])
    after = _WORD_NEAR_RE.findall(text[end:end + 40])
    near = before[-1:] + after[:1]
    return any(word.isupper() for word in near)


# ------------------------------------------------------- Cyrillic → Latin

_CYR_VOWELS = set("аеёиоуэюяў")
_CYR_TO_LAT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ё": "yo", "ж": "j",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n",
    "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f",
    "х": "x", "ч": "ch", "ш": "sh", "щ": "sh", "ы": "i", "э": "e", "ю": "yu",
    "я": "ya", "ў": "o" + OKINA, "қ": "q", "ғ": "g" + OKINA, "ҳ": "h",
    "ь": "",
}
# Official Latin spellings that drop the "y" of я (октябрь → oktabr).
_CYR_STEM_OVERRIDES = {"октябр": "oktabr", "сентябр": "sentabr"}

_CYR_WORD_RE = re.compile(r"[А-Яа-яЁёЎўҚқҒғҲҳ]+")


def to_latin(text: str, protect: Iterable[str] = ()) -> str:
    """Uzbek Cyrillic → Latin with the official ʻ (U+02BB) and ʼ (U+02BC)."""
    spans = _protected_spans(text, protect)
    return _convert_outside(text, spans, _cyrillic_segment_to_latin)


def _cyrillic_segment_to_latin(segment: str) -> str:
    def replace(match: re.Match) -> str:
        word = match.group()
        all_caps = _is_all_caps(word) or (
            len(word) == 1 and word.isupper()
            and _neighbour_is_all_caps(segment, match.start(), match.end())
        )
        return _cyrillic_word_to_latin(word, all_caps)

    return _CYR_WORD_RE.sub(replace, segment)


def _is_all_caps(word: str) -> bool:
    return len(word) > 1 and word.isupper()


def _cyrillic_word_to_latin(word: str, all_caps: bool) -> str:
    lower = word.lower()
    pieces = []
    start = 0
    for stem, latin in _CYR_STEM_OVERRIDES.items():
        if lower.startswith(stem):
            pieces.append(_case_like(word[:len(stem)], latin))
            start = len(stem)
            break
    for i in range(start, len(lower)):
        latin = _cyrillic_letter_to_latin(lower, i)
        pieces.append(_apply_case(latin, word[i].isupper(), all_caps))
    return "".join(pieces)


def _cyrillic_letter_to_latin(word: str, i: int) -> str:
    letter = word[i]
    before = word[i - 1] if i > 0 else ""
    after = word[i + 1] if i + 1 < len(word) else ""
    if letter == "е":
        return "ye" if i == 0 or before in _CYR_VOWELS or before in "ъь" else "e"
    if letter == "ц":
        return "ts" if _previous_sound(word, i) in _CYR_VOWELS else "s"
    if letter == "ъ":
        return _hard_sign_to_latin(before, after)
    if letter == "с" and after == "ҳ":
        return "s" + TUTUQ  # Исҳоқ → Isʼhoq, not "Ishoq"
    return _CYR_TO_LAT.get(letter, letter)


def _hard_sign_to_latin(before: str, after: str) -> str:
    # объект → obyekt: the "y" of ye/yo/yu/ya already separates after a
    # consonant.  мўъжиза → moʻjiza: the official spelling drops it after ў.
    # меъёр → meʼyor keeps it after a vowel.
    if after in ("е", "ё", "ю", "я") and before not in _CYR_VOWELS:
        return ""
    if before == "ў":
        return ""
    return TUTUQ


def _previous_sound(word: str, i: int) -> str:
    j = i - 1
    while j >= 0 and word[j] in "ъь":
        j -= 1
    return word[j] if j >= 0 else ""


# ------------------------------------------------------- Latin → Cyrillic

_LAT_VOWELS = set("aeiou")
_LAT_TO_CYR = {
    "a": "а", "b": "б", "d": "д", "e": "е", "f": "ф", "g": "г", "h": "ҳ",
    "i": "и", "j": "ж", "k": "к", "l": "л", "m": "м", "n": "н", "o": "о",
    "p": "п", "q": "қ", "r": "р", "s": "с", "t": "т", "u": "у", "v": "в",
    "x": "х", "y": "й", "z": "з",
}

# Frequent loan words whose Cyrillic form cannot be derived from the Latin
# one (lost ь, ц written as s, й+о written as yo, dropped ъ).
LOAN_WORDS = {
    "yanvar": "январь", "fevral": "февраль", "aprel": "апрель",
    "iyun": "июнь", "iyul": "июль", "sentabr": "сентябрь",
    "oktabr": "октябрь", "noyabr": "ноябрь", "dekabr": "декабрь",
    "kompyuter": "компьютер", "intervyu": "интервью", "fakultet": "факультет",
    "avtomobil": "автомобиль", "mebel": "мебель", "model": "модель",
    "portfel": "портфель", "kontrol": "контроль", "parol": "пароль",
    "profil": "профиль", "rol": "роль", "medal": "медаль",
    "ansambl": "ансамбль", "spektakl": "спектакль", "dvigatel": "двигатель",
    "kreml": "кремль", "feldsher": "фельдшер", "rubl": "рубль",
    "sement": "цемент", "sentr": "центр", "konsert": "концерт", "sirk": "цирк",
    "sex": "цех", "sitata": "цитата", "sikl": "цикл", "sink": "цинк",
    "senzura": "цензура", "silindr": "цилиндр", "sivilizatsiya": "цивилизация",
    "prinsip": "принцип", "konsepsiya": "концепция", "kansler": "канцлер",
    "konsentratsiya": "концентрация", "inersiya": "инерция",
    "pensiya": "пенсия", "ekspansiya": "экспансия",
    "mayor": "майор", "rayon": "район", "mayonez": "майонез",
    "batalyon": "батальон", "york": "йорк", "poyabzal": "пойабзал",
    "moʻjiza": "мўъжиза", "moʻtabar": "мўътабар", "moʻtadil": "мўътадил",
    "moʻmin": "мўъмин", "mer": "мэр",
    "vaksina": "вакцина", "vaksinatsiya": "вакцинация",
    "polsha": "польша", "belarus": "беларусь",
    "region": "регион", "registratsiya": "регистрация", "migratsiya": "миграция",
}

# Case and possessive endings that may follow a loan word ("oktabrda",
# "kompyuterlar", "sementni").  Derivational endings are listed first.
_SUFFIX_RE = re.compile(
    r"(?:lashtirish|lashtir|lash|chi|li|siz|lik|cha)?"
    r"(?:lar)?"
    r"(?:imiz|ingiz|im|ing|i|si)?"
    r"(?:dagi|dan|da|gacha|ga|ka|qa|ning|ni|dek|mi)?"
)

# Loans where ts after a vowel is the affricate ц: -tsiya, -tsion, -tsent,
# litsey, patsiyent.  Native verb forms (ketsa, ketsin, zotsiz) must keep тс.
_TS_NEXT = ("e", "ia", "ie", "io", "iu", "iy", "ikl", "if", "it")
# ц after k/p/n in -ksiya, -psiya, -nsiya (aksiya, konsepsiya, stansiya).
_S_AFFRICATE_AFTER = {"k": ("iya", "ion", "ial"), "p": ("iya", "ion"), "n": ("iya", "ial")}

# Letters outside the Uzbek alphabet (Facebook, Windows) and camel-case
# humps (YouTube, iPhone) mark a foreign word or brand; transliterating it
# helps nobody.  "OʻzR" has no hump and is still converted.
_FOREIGN_WORD_RE = re.compile(r"[wW]|[cC](?![hH])|[a-z][A-Z][a-z]")

_LAT_WORD_RE = re.compile(r"[A-Za-z][A-Za-z\u02bb\u02bc]*")


def to_cyrillic(text: str, protect: Iterable[str] = ()) -> str:
    """Uzbek Latin → Cyrillic.  Accepts any apostrophe look-alike."""
    spans = _protected_spans(text, protect)
    return _convert_outside(text, spans, _latin_segment_to_cyrillic)


def _latin_segment_to_cyrillic(segment: str) -> str:
    normalized = normalize_uz_latin(segment)
    return _LAT_WORD_RE.sub(lambda m: _latin_word_to_cyrillic(m.group()), normalized)


def _latin_word_to_cyrillic(word: str) -> str:
    if _FOREIGN_WORD_RE.search(word):
        return word
    lower = word.lower()
    loan = _loan_word(lower)
    if loan is not None:
        return _case_like(word, loan)
    all_caps = _is_all_caps(word)
    return "".join(
        _apply_case(cyr, word[start].isupper(), all_caps)
        for start, cyr in _latin_units(lower)
    )


def _loan_word(lower: str) -> str | None:
    if lower in LOAN_WORDS:
        return LOAN_WORDS[lower]
    for cut in range(len(lower) - 1, 1, -1):
        stem = lower[:cut]
        if stem in LOAN_WORDS and _SUFFIX_RE.fullmatch(lower[cut:]):
            # Uzbek drops the ь before an ending: февраль → февралда.
            cyr_stem = LOAN_WORDS[stem].removesuffix("ь")
            suffix = "".join(cyr for _, cyr in _latin_units(lower[cut:], after=stem[-1]))
            return cyr_stem + suffix
    return None


def _latin_units(word: str, after: str = "") -> list[tuple[int, str]]:
    """Split a lower-case Latin word into (start index, Cyrillic) units."""
    units = []
    i = 0
    while i < len(word):
        length, cyr = _latin_unit(word, i, after)
        units.append((i, cyr))
        i += length
    return units


def _latin_unit(word: str, i: int, after: str) -> tuple[int, str]:
    letter = word[i]
    nxt = word[i + 1] if i + 1 < len(word) else ""
    if letter in "og" and nxt == OKINA:
        return 2, "ў" if letter == "o" else "ғ"
    if letter in (OKINA, TUTUQ):
        if word[i - 1:i] == "s" and nxt == "h":
            return 1, ""  # Isʼhoq → Исҳоқ: the sign only stops "sh"
        return 1, "ъ"
    if letter == "s" and nxt == "h":
        return 2, "ш"
    if letter == "c" and nxt == "h":
        return 2, "ч"
    if letter == "y" and nxt:
        return _latin_y_unit(word, i, after)
    if letter == "t" and nxt == "s" and _is_ts_affricate(word, i, after):
        return 2, "ц"
    if letter == "s" and _is_s_affricate(word, i):
        return 1, "ц"
    if letter == "e":
        return 1, "э" if _at_word_start(i, after) or _after_vowel(word, i, after) else "е"
    return 1, _LAT_TO_CYR.get(letter, letter)


def _latin_y_unit(word: str, i: int, after: str) -> tuple[int, str]:
    nxt = word[i + 1]
    if nxt == "o" and word[i + 2:i + 3] != OKINA:  # yoʻl is й + ў
        return 2, "ё"
    if nxt == "u":
        return 2, "ю"
    if nxt == "a":
        return 2, "я"
    if nxt == "e":
        if _at_word_start(i, after) or _after_vowel(word, i, after):
            return 2, "е"
        # obyekt, podyezd, syezd take ъ; premyer, Vyetnam take ь.
        before = word[i - 1] if i > 0 else after
        return 2, "ъе" if before in "bds" else "ье"
    return 1, "й"


def _at_word_start(i: int, after: str) -> bool:
    return i == 0 and not after


def _after_vowel(word: str, i: int, after: str) -> bool:
    before = word[i - 1] if i > 0 else after
    if before == OKINA:
        return word[i - 2:i - 1] == "o"  # oʻ is a vowel, gʻ is not
    return before in _LAT_VOWELS


def _is_ts_affricate(word: str, i: int, after: str) -> bool:
    return _after_vowel(word, i, after) and word.startswith(_TS_NEXT, i + 2) and not (
        word.startswith(("in", "iz"), i + 2)
    )


def _is_s_affricate(word: str, i: int) -> bool:
    endings = _S_AFFRICATE_AFTER.get(word[i - 1] if i > 0 else "")
    return bool(endings) and word.startswith(endings, i + 1)


# ------------------------------------------------------------------ Markdown

# Code spans must not begin right after a letter, or "o`zbek" (a typed oʻ)
# would open one.
_MARKDOWN_PROTECTED_RE = re.compile(
    r"```.*?```"  # fenced code
    r"|(?<![A-Za-z])`[^`\n]+`(?![A-Za-z])"  # inline code
    r"|\]\([^)\s]*(?:\s+\"[^\"]*\")?\)"  # link target, with optional title
    r"|<(?:https?://|mailto:)[^>\s]+>",  # autolink
    re.DOTALL,
)


def transliterate_markdown(text: str, to: str = "cyrillic", protect: Iterable[str] = ()) -> str:
    """Transliterate the prose of a Markdown text, keeping code and link targets."""
    if to not in ("cyrillic", "latin"):
        raise ValueError(f"to must be 'cyrillic' or 'latin', not {to!r}")
    convert = to_cyrillic if to == "cyrillic" else to_latin
    protect = tuple(protect)
    spans = [m.span() for m in _MARKDOWN_PROTECTED_RE.finditer(text)]
    return _convert_outside(text, spans, lambda part: convert(part, protect=protect))
