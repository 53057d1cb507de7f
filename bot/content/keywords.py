"""Keyword traps: a search keyword that leads a person at risk to a topic that does not help.

`content/keyword_traps.yaml` lists groups of sensitive terms and the topics allowed to carry them
as keywords (a section above an allowed topic may carry them too: it leads there in one tap).
The same term in any other topic's keyword list is an error — e.g. "deportation" on the
Constitution topic, whose Article 23 protects against expulsion *from Uzbekistan* and so gives
false comfort to someone deported from Russia.

    traps:
      - name: deportation and expulsion
        why: "…"
        terms: ["deport*", "депорт*", "entry ban"]   # * = any ending; words in order
        allowed: [rights_deported_banned, …]

Terms match any keyword that contains them as whole words, case-insensitively, with ё = е and
every apostrophe look-alike the same. Also a warning (not an error): the same keyword in two
topics' lists in the same locale, because a search for it then cannot tell them apart.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.content.loader import SAFE_LOADER, Problem, line_of
from bot.content.written import Written

TRAPS_FILE = "keyword_traps.yaml"
_APOSTROPHES = str.maketrans({c: "'" for c in "ʻʼ’‘`´"})


def normalise_keyword(text: str) -> str:
    text = text.translate(_APOSTROPHES).casefold().replace("ё", "е")
    return " ".join(text.replace("-", " ").split())


def term_pattern(term: str) -> re.Pattern:
    words = []
    for word in normalise_keyword(term).split():
        words.append(re.escape(word.rstrip("*")) + (r"[\w']*" if word.endswith("*") else ""))
    return re.compile(r"(?<![\w'])" + r"\s+".join(words) + r"(?![\w'])")


@dataclass(frozen=True)
class Trap:
    name: str
    terms: tuple[tuple[str, re.Pattern], ...]
    allowed: frozenset[str]
    line: int


def load_traps(content_dir: Path) -> tuple[list[Trap], list[Problem]]:
    """The trap groups and the problems of the file itself; a missing file means no traps."""
    path = content_dir / TRAPS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], []
    lines = text.splitlines()
    try:
        data = yaml.load(text, Loader=SAFE_LOADER) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return [], [Problem(path, (mark.line + 1) if mark else 1, f"not valid YAML: {exc}")]
    groups = data.get("traps") if isinstance(data, dict) else None
    if not isinstance(groups, list):
        return [], [Problem(path, 1, "expected a mapping with a 'traps' list")]
    traps, problems = [], []
    for group in groups:
        group = group if isinstance(group, dict) else {}
        name, terms, allowed = group.get("name"), group.get("terms"), group.get("allowed")
        line = line_of(lines, f"name: {name}") if name else 1
        if not isinstance(name, str) or not isinstance(terms, list) or not isinstance(allowed, list) \
                or not terms or not all(isinstance(t, str) and t.strip() for t in terms):
            problems.append(Problem(path, line, "each trap needs a 'name', a list of 'terms' and "
                                                "a list of 'allowed' topic keys"))
            continue
        traps.append(Trap(name, tuple((t, term_pattern(t)) for t in terms),
                          frozenset(str(k) for k in allowed), line))
    return traps, problems


def trap_problems(content_dir: Path, written: Written) -> list[Problem]:
    traps, problems = load_traps(content_dir)
    path = content_dir / TRAPS_FILE
    if written.tree:
        for trap in traps:
            for key in sorted(trap.allowed - set(written.tree)):
                problems.append(Problem(path, trap.line, f"{trap.name}: allowed topic {key!r} is "
                                                         "not in topics.yaml", "warning"))
    for text in written.texts:
        allowed_here = {text.key, *_descendants(written, text.key)}
        for keyword in text.keywords:
            normal = normalise_keyword(keyword)
            for trap in traps:
                if trap.allowed & allowed_here:
                    continue
                hit = next((term for term, pattern in trap.terms if pattern.search(normal)), None)
                if hit is None:
                    continue
                where = ", ".join(sorted(trap.allowed)) or "no topic"
                problems.append(Problem(
                    text.path, text.keyword_line(keyword),
                    f"keyword trap: {keyword!r} matches {hit!r} ({trap.name}); only {where} may "
                    f"carry it (see {TRAPS_FILE})"))
    return problems + duplicate_keywords(written)


def _descendants(written: Written, key: str) -> list[str]:
    """Topics below `key`: a section may carry the keyword of a topic inside it."""
    return [other for other in written.tree if key in written.ancestors(other)]


def duplicate_keywords(written: Written) -> list[Problem]:
    """The same keyword in two topics of one locale, neither a section above the other (a
    section and a topic inside it may share words: the search leads to the same place).
    One warning per topic and clashing topic, naming the shared keywords."""
    owners: dict[tuple[str, str], list[str]] = {}  # (locale, keyword) → topics with it, in order
    problems = []
    for text in written.texts:
        above = set(written.ancestors(text.key))
        shared: dict[str, list[str]] = {}  # clashing topic → keywords shared with it
        for keyword in dict.fromkeys(text.keywords):
            earlier = owners.setdefault((text.locale, normalise_keyword(keyword)), [])
            clash = next((key for key in earlier if key not in above and key != text.key), None)
            if clash is not None:
                shared.setdefault(clash, []).append(keyword)
            earlier.append(text.key)
        for clash, keywords in shared.items():
            listed = ", ".join(repr(k) for k in keywords)
            problems.append(Problem(
                text.path, text.keyword_line(keywords[0]),
                f"keyword{'s' if len(keywords) > 1 else ''} {listed} also in {clash} ({text.locale}): "
                "a search cannot tell the two apart", "warning"))
    return problems
