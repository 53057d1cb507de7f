"""One fact, stated the same in every locale: the numbers, dates, links and contacts of a topic.

For each topic, the facts (bot/content/facts.py) of the title and body of every locale written by
hand are compared as sets. A value most locales have is reported as missing in the others (at the
line where their body starts); a value few have is reported where it appears, as extra. On a tie
the first locale of REFERENCE_ORDER that has a text decides. Keywords are not compared: a user
never reads them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.content.facts import Fact, line_facts
from bot.content.loader import Problem, split_front_matter
from bot.content.written import Written

REFERENCE_ORDER = ("en", "ru", "uz", "uz_Cyrl")


@dataclass(frozen=True)
class ReadLine:
    number: int  # line number in the file
    text: str


@dataclass
class LocaleFacts:
    locale: str
    path: Path
    body_line: int
    first_seen: dict[tuple[str, str], tuple[Fact, int]]  # (kind, value) → (fact, line)

    def covers(self, fact: Fact) -> bool:
        """The value is here, or a designator here and its bare number there (or the reverse)."""
        if (fact.kind, fact.value) in self.first_seen:
            return True
        if fact.bare is not None:
            return ("number", fact.bare) in self.first_seen
        if fact.kind == "number":
            return any(f.bare == fact.value for f, _ in self.first_seen.values())
        return False


def readable_lines(path: Path) -> tuple[list[ReadLine], int]:
    """The lines a user reads (the title line, then the body) with file line numbers, and the
    line where the body starts."""
    text = path.read_text(encoding="utf-8")
    parts = split_front_matter(text)
    if parts is None:
        return [ReadLine(n, line) for n, line in enumerate(text.splitlines(), 1)], 1
    front, body, body_line = parts
    lines = [ReadLine(n, line.split(":", 1)[1]) for n, line in enumerate(front.splitlines(), 2)
             if line.startswith("title:")]
    lines += [ReadLine(n, line) for n, line in enumerate(body.splitlines(), body_line)]
    return lines, body_line


def locale_facts(locale: str, path: Path) -> LocaleFacts:
    lines, body_line = readable_lines(path)
    first_seen: dict[tuple[str, str], tuple[Fact, int]] = {}
    for line in lines:
        for fact in line_facts(line.text)[0]:
            first_seen.setdefault((fact.kind, fact.value), (fact, line.number))
    return LocaleFacts(locale, path, body_line, first_seen)


def _describe(fact: Fact) -> str:
    if fact.kind == "link":
        return f"link {fact.shown}"
    value = fact.value.split(":", 1)[1] if fact.kind == "contact" else fact.value
    return f"{fact.kind} {value}" + (f" ('{fact.shown}')" if fact.shown != value else "")


def compare_topic(texts: list[LocaleFacts]) -> list[Problem]:
    """Problems for one topic, given the facts of each locale written by hand."""
    if len(texts) < 2:
        return []
    order = sorted(texts, key=lambda t: REFERENCE_ORDER.index(t.locale)
                   if t.locale in REFERENCE_ORDER else len(REFERENCE_ORDER))
    reference = order[0]
    problems = []
    seen: set[tuple[str, str]] = set()
    for text in order:
        for key, (fact, _line) in text.first_seen.items():
            if key in seen:
                continue
            seen.add(key)
            having = [t for t in order if t.covers(fact)]
            lacking = [t for t in order if not t.covers(fact)]
            if not lacking:
                continue
            majority = len(having) * 2 > len(order) or (
                len(having) * 2 == len(order) and reference in having)
            if majority:
                names = ", ".join(f"{t.locale} (line {_line_of(t, fact)})" for t in having)
                for other in lacking:
                    problems.append(Problem(
                        other.path, other.body_line,
                        f"parity: {_describe(fact)} is in {names} but missing here"))
            else:
                names = ", ".join(t.locale for t in lacking)
                for other in having:
                    own = other.first_seen.get(key, (fact, _line_of(other, fact)))
                    problems.append(Problem(
                        other.path, own[1],
                        f"parity: {_describe(own[0])} is here but not in {names}"))
    return problems


def _line_of(text: LocaleFacts, fact: Fact) -> int:
    if (fact.kind, fact.value) in text.first_seen:
        return text.first_seen[(fact.kind, fact.value)][1]
    for other, line in text.first_seen.values():
        if other.kind == "number" and (other.bare == fact.value or fact.bare == other.value):
            return line
    return text.body_line


def parity_problems(written: Written) -> list[Problem]:
    """Every topic whose locales written by hand state different numbers, links or contacts."""
    by_key: dict[str, list[LocaleFacts]] = {}
    for text in written.texts:
        by_key.setdefault(text.key, []).append(locale_facts(text.locale, text.path))
    problems = []
    for texts in by_key.values():
        problems += compare_topic(texts)
    return problems
