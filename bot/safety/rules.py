"""`content/safety.yaml`: the topics that carry a quick-exit button, and the phrases of distress
with the help shown for each. Loaded and checked here; the file's header explains the fields to
editors, and `content check` reports every problem as `file:line: message`."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.content.loader import SAFE_LOADER, Problem
from bot.safety.distress import Category, Distress, Phrase, Phrasebook

SAFETY_FILE = "safety.yaml"
PHRASE_LOCALES = ("en", "ru", "uz", "uz_Cyrl")
DEFAULT_MAX_TOPICS = 4


@dataclass(frozen=True)
class SafetyRules:
    quick_exit_topics: frozenset[str] = frozenset()
    categories: tuple[Category, ...] = ()
    max_topics: int = DEFAULT_MAX_TOPICS
    problems: tuple[Problem, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_phrasebook", Phrasebook(self.categories, self.max_topics))

    def detect(self, text: str) -> Distress | None:
        return self._phrasebook.detect(text)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def help_topics(self) -> tuple[str, ...]:
        """Every topic the distress answer may show."""
        return tuple(dict.fromkeys(key for category in self.categories for key in category.topics))


def _line_of(lines: list[str], needle: str, start: int = 0) -> int:
    for number, line in enumerate(lines[start:], start=start + 1):
        if needle in line:
            return number
    return start + 1 if start else 1


def _keys(raw, path: Path, lines: list[str], line: int, what: str, topics: set[str] | None,
          problems: list[Problem]) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(k, str) for k in raw):
        problems.append(Problem(path, line, f"{what} must be a list of topic keys"))
        return ()
    if topics is not None:
        for key in raw:
            if key not in topics:
                problems.append(Problem(path, _line_of(lines, key, max(line - 1, 0)),
                                        f"{what}: topic {key!r} is not in topics.yaml"))
    return tuple(raw)


def _category(raw, path: Path, lines: list[str], topics: set[str] | None,
              problems: list[Problem]) -> Category | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        problems.append(Problem(path, 1, "each distress category needs a 'name'"))
        return None
    name = raw["name"]
    line = _line_of(lines, f"name: {name}")
    if not isinstance(raw.get("alone"), bool):
        problems.append(Problem(path, _line_of(lines, "alone:", line - 1),
                                f"{name}: 'alone' must be true or false"))
    keys = _keys(raw.get("topics"), path, lines, line, f"{name}: topics", topics, problems)
    if not keys:
        problems.append(Problem(path, line, f"{name}: needs at least one help topic"))
    by_locale = raw.get("phrases")
    if not isinstance(by_locale, dict):
        problems.append(Problem(path, line, f"{name}: 'phrases' must map locales to lists"))
        return None
    phrases = []
    for locale, written in by_locale.items():
        if locale not in PHRASE_LOCALES:
            problems.append(Problem(path, line, f"{name}: unknown locale {locale!r} "
                                                f"(use {', '.join(PHRASE_LOCALES)})"))
            continue
        if not isinstance(written, list) or not all(isinstance(p, str) and p.split()
                                                    for p in written):
            problems.append(Problem(path, line, f"{name}: phrases of {locale} must be a list "
                                                "of non-empty strings"))
            continue
        for text in written:
            phrase = Phrase.parse(text, _line_of(lines, text, line - 1))
            if not phrase.words or any(not alt.literal for word in phrase.words for alt in word):
                problems.append(Problem(path, phrase.line, f"{name}: phrase {text!r} needs "
                                                           "letters before every '*'"))
                continue
            phrases.append(phrase)
    for locale in ("en", "ru", "uz"):
        if locale not in by_locale:
            problems.append(Problem(path, line, f"{name}: no phrases in {locale}", "warning"))
    return Category(name, bool(raw.get("alone")), keys, tuple(phrases))


def load_safety(content_dir: Path, topics: set[str] | None = None) -> SafetyRules:
    """The rules and the problems found in them; a missing file means no rules (a warning:
    no cry for help is recognised and no topic has a quick-exit button)."""
    path = content_dir / SAFETY_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return SafetyRules(problems=(Problem(path, 1, "file is missing: no cry for help is "
                                                      "recognised, no quick-exit buttons",
                                             "warning"),))
    lines = text.splitlines()
    try:
        data = yaml.load(text, Loader=SAFE_LOADER) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return SafetyRules(problems=(Problem(path, (mark.line + 1) if mark else 1,
                                             f"not valid YAML: {exc}"),))
    problems: list[Problem] = []
    if not isinstance(data, dict):
        return SafetyRules(problems=(Problem(path, 1, "expected a mapping with 'quick_exit' "
                                                      "and 'distress'"),))
    quick_exit = _keys(data.get("quick_exit"), path, lines, _line_of(lines, "quick_exit:"),
                       "quick_exit", topics, problems)
    distress = data.get("distress")
    categories: list[Category] = []
    max_topics = DEFAULT_MAX_TOPICS
    if not isinstance(distress, dict) or not isinstance(distress.get("categories"), list):
        problems.append(Problem(path, _line_of(lines, "distress:"),
                                "'distress' needs a list of 'categories'"))
    else:
        max_topics = distress.get("max_topics", DEFAULT_MAX_TOPICS)
        if not isinstance(max_topics, int) or max_topics < 1:
            problems.append(Problem(path, _line_of(lines, "max_topics"),
                                    "'max_topics' must be a whole number from 1"))
            max_topics = DEFAULT_MAX_TOPICS
        for raw in distress["categories"]:
            if (category := _category(raw, path, lines, topics, problems)) is not None:
                categories.append(category)
        names = [c.name for c in categories]
        for name in {n for n in names if names.count(n) > 1}:
            problems.append(Problem(path, _line_of(lines, f"name: {name}"),
                                    f"category {name!r} is listed twice"))
    return SafetyRules(frozenset(quick_exit), tuple(categories), max_topics, tuple(problems))


def safety_problems(content_dir: Path, topics: set[str] | None = None) -> list[Problem]:
    """What `content check` reports about safety.yaml."""
    return list(load_safety(content_dir, topics).problems)
