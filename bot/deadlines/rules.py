"""The deadline rules of `content/rules.yaml`: their model, loader and validator.

The file's own header explains the fields to editors; this module enforces them and reports
every problem as `bot.content.loader.Problem` (file, line, message), like the content loader.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Hashable, Mapping

import yaml

from bot import LOCALES
from bot.content.loader import Problem
from bot.content.model import Source

RULES_FILE = "rules.yaml"
KEY_PATTERN = re.compile(r"^[a-z0-9_]{1,32}$")
COUNTS_PATTERN = re.compile(r"^[a-z_]{1,32}$")
COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")
MONTH_DAY_PATTERN = re.compile(r"^(\d\d)-(\d\d)$")
TITLE_LIMIT = 64
NOTE_LIMIT = 600

EVENTS = ("entry", "labour_contract")
WHO = ("everyone", "workers", "without_work_grounds", "poultry_workers")
# The number fields each kind of count needs (a season needs its `season` mapping instead).
KIND_NUMBERS: dict[str, tuple[str, ...]] = {
    "days": ("days",),
    "working_days": ("days",),
    "months": ("months",),
    "days_per_calendar_year": ("limit_days",),
    "days_in_window": ("limit_days", "window_days"),
    "months_in_window": ("limit_months", "window_months"),
    "season": (),
}
WINDOW_KINDS = frozenset({"days_per_calendar_year", "days_in_window", "months_in_window"})
NUMBER_FIELDS = ("days", "months", "limit_days", "window_days", "limit_months", "window_months")
READING_FIELDS = frozenset({"count", "verified", "sources", "holidays", "season", *NUMBER_FIELDS})
RULE_FIELDS = READING_FIELDS | {"key", "counts", "from", "who", "disputed", "title", "note",
                                "dispute"}
# Uzbek Latin must use ʻ and ʼ (content/BRIEF.md); these are what slips in instead.
UZ_WRONG_APOSTROPHES = ("'", "’", "‘", "`")

MonthDay = tuple[int, int]


@dataclass(frozen=True)
class Reading:
    """One way of counting a rule, with its own sources and grade."""

    kind: str
    verified: bool
    sources: tuple[Source, ...]
    days: int | None = None
    months: int | None = None
    limit_days: int | None = None
    window_days: int | None = None
    limit_months: int | None = None
    window_months: int | None = None
    season: tuple[MonthDay, MonthDay] | None = None  # (month, day) of start and end

    @property
    def counts_a_window(self) -> bool:
        return self.kind in WINDOW_KINDS

    @property
    def holidays_not_counted(self) -> bool:
        """Working days are Monday to Friday; no holiday calendar is known (to be confirmed)."""
        return self.kind == "working_days"


@dataclass(frozen=True)
class Rule:
    key: str
    country: str
    counts: str  # what is counted: registration, stay, ...
    event: str  # the count starts from this event: one of EVENTS
    who: str  # whom it applies to: one of WHO
    reading: Reading  # the reading of the main sources
    disputed: tuple[Reading, ...]  # other readings where sources disagree
    title: Mapping[str, str]  # per locale
    note: Mapping[str, str]
    dispute: Mapping[str, str] | None  # why there are several readings, per locale
    line: int

    @property
    def readings(self) -> tuple[Reading, ...]:
        return (self.reading, *self.disputed)

    @property
    def verified(self) -> bool:
        return self.reading.verified

    @property
    def sources(self) -> tuple[Source, ...]:
        return self.reading.sources


@dataclass(frozen=True)
class RuleBook:
    by_country: Mapping[str, tuple[Rule, ...]]

    def for_country(self, country: str) -> tuple[Rule, ...]:
        return self.by_country.get(country, ())

    def find(self, key: str) -> Rule | None:
        return next((r for rules in self.by_country.values() for r in rules if r.key == key), None)


@dataclass(frozen=True)
class RulesResult:
    rules: RuleBook | None  # None when there are errors
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def load_rules(content_dir: Path) -> RulesResult:
    """Read and validate `<content_dir>/rules.yaml`."""
    path = content_dir / RULES_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        # Content without deadline rules is still good content; the feature just has nothing.
        return RulesResult(RuleBook({}), [Problem(path, 1, "file is missing: no deadline rules",
                                                  "warning")])
    try:
        data = yaml.load(text, Loader=_LocatedLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        return RulesResult(None, [Problem(path, line, f"not valid YAML: {exc}")])
    checker = _Checker(path)
    checker.duplicate_keys(data)
    book = checker.book(data)
    return RulesResult(None if checker.problems else book, checker.problems)


def deadline_rule_problems(content_dir: Path) -> list[Problem]:
    """What `content check` reports about rules.yaml."""
    return load_rules(content_dir).problems


class _LocatedDict(dict):
    """A YAML mapping that remembers the line of itself and of each of its keys."""

    line: int = 1
    key_lines: dict[Any, int]
    duplicate_keys: list[tuple[Any, int]]


class _LocatedLoader(yaml.SafeLoader):
    pass


def _construct_located_mapping(loader: _LocatedLoader, node: yaml.MappingNode):
    mapping = _LocatedDict()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    mapping.duplicate_keys = []
    yield mapping
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, "found an unhashable key",
                key_node.start_mark)
        if key in mapping.key_lines:
            # YAML keeps the last silently: a second RU block would hide the first.
            mapping.duplicate_keys.append((key, key_node.start_mark.line + 1))
        mapping.key_lines[key] = key_node.start_mark.line + 1
        mapping[key] = loader.construct_object(value_node, deep=True)


_LocatedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                               _construct_located_mapping)


def _line(mapping: Any, key: Any = None) -> int:
    if not isinstance(mapping, _LocatedDict):
        return 1
    return mapping.key_lines.get(key, mapping.line) if key is not None else mapping.line


class _Checker:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self.seen_keys: set[str] = set()

    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    def duplicate_keys(self, data: Any) -> None:
        if isinstance(data, _LocatedDict):
            for key, line in data.duplicate_keys:
                self.error(line, f"{key!r} appears twice in the same mapping")
        if isinstance(data, dict):
            children = list(data.values())
        elif isinstance(data, list):
            children = data
        else:
            return
        for child in children:
            self.duplicate_keys(child)

    def book(self, data: Any) -> RuleBook:
        if not isinstance(data, dict) or not isinstance(data.get("countries"), dict):
            self.error(1, "expected a mapping with a 'countries' mapping")
            return RuleBook({})
        countries = data["countries"]
        by_country = {}
        for code, raw_rules in countries.items():
            line = _line(countries, code)
            if not isinstance(code, str) or not COUNTRY_PATTERN.match(code):
                self.error(line, f"country code must be two capital letters: {code!r}")
                continue
            if not isinstance(raw_rules, list) or not raw_rules:
                self.error(line, f"{code}: expected a list of rules")
                continue
            rules = [rule for raw in raw_rules if (rule := self.rule(code, raw, line))]
            by_country[code] = tuple(rules)
        return RuleBook(by_country)

    def rule(self, country: str, raw: Any, parent_line: int) -> Rule | None:
        if not isinstance(raw, dict) or not isinstance(raw.get("key"), str):
            self.error(_line(raw) if isinstance(raw, dict) else parent_line,
                       f"{country}: a rule without a key")
            return None
        key = raw["key"]
        line = _line(raw, "key")
        ok = True
        if not KEY_PATTERN.match(key):
            self.error(line, f"key {key!r} must be 1-32 characters of a-z, 0-9 and _")
            ok = False
        if key in self.seen_keys:
            self.error(line, f"duplicate key {key!r}")
            ok = False
        self.seen_keys.add(key)
        for field in raw:
            if field not in RULE_FIELDS:
                self.error(_line(raw, field), f"{key}: unknown field {field!r}")
                ok = False
        counts, event, who = raw.get("counts"), raw.get("from"), raw.get("who")
        if not isinstance(counts, str) or not COUNTS_PATTERN.match(counts):
            self.error(_line(raw, "counts"), f"{key}: 'counts' must say what is counted "
                                             "(a-z and _, e.g. registration)")
            ok = False
        if event not in EVENTS:
            self.error(_line(raw, "from"), f"{key}: 'from' must be one of {', '.join(EVENTS)}")
            ok = False
        if who not in WHO:
            self.error(_line(raw, "who"), f"{key}: 'who' must be one of {', '.join(WHO)}")
            ok = False
        reading = self.reading(key, raw)
        disputed = self.disputed(key, raw)
        for counted in (reading, *(disputed or ())):
            if counted is not None and counted.counts_a_window and event != "entry":
                # The stay being counted is the one that began at the entry.
                self.error(_line(raw, "from"),
                           f"{key}: a {counted.kind} count must be 'from: entry'")
                ok = False
        title = self.texts(key, raw, "title", TITLE_LIMIT)
        note = self.texts(key, raw, "note", NOTE_LIMIT)
        dispute = None
        if "disputed" in raw or "dispute" in raw:
            if "disputed" not in raw:
                self.error(_line(raw, "dispute"), f"{key}: 'dispute' without 'disputed' readings")
                ok = False
            elif "dispute" not in raw:
                self.error(_line(raw, "disputed"),
                           f"{key}: 'disputed' needs a 'dispute' text saying why, in every locale")
                ok = False
            else:
                dispute = self.texts(key, raw, "dispute", NOTE_LIMIT)
        if not ok or reading is None or disputed is None or title is None or note is None \
                or ("dispute" in raw and dispute is None):
            return None
        return Rule(key, country, counts, event, who, reading, disputed, title, note, dispute, line)

    def disputed(self, key: str, raw: dict) -> tuple[Reading, ...] | None:
        items = raw.get("disputed", [])
        if not isinstance(items, list) or ("disputed" in raw and not items):
            self.error(_line(raw, "disputed"), f"{key}: 'disputed' must be a list of readings")
            return None
        readings = []
        for item in items:
            if not isinstance(item, dict):
                self.error(_line(raw, "disputed"), f"{key}: each disputed reading is a mapping")
                return None
            for field in item:
                if field not in READING_FIELDS:
                    self.error(_line(item, field), f"{key}: unknown field {field!r} in a reading")
                    return None
            readings.append(self.reading(key, item))
        return None if None in readings else tuple(readings)

    def reading(self, key: str, raw: dict) -> Reading | None:
        kind = raw.get("count")
        if kind not in KIND_NUMBERS:
            self.error(_line(raw, "count"),
                       f"{key}: 'count' must be one of {', '.join(KIND_NUMBERS)}")
            return None
        ok = True
        numbers: dict[str, int] = {}
        for field in NUMBER_FIELDS:
            if field not in raw:
                continue
            if field not in KIND_NUMBERS[kind]:
                self.error(_line(raw, field), f"{key}: {field!r} does not belong to count {kind!r}")
                ok = False
                continue
            value = raw[field]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                self.error(_line(raw, field), f"{key}: {field!r} must be a whole number above 0")
                ok = False
                continue
            numbers[field] = value
        for field in KIND_NUMBERS[kind]:
            if field not in raw:
                self.error(_line(raw, "count"), f"{key}: count {kind!r} needs {field!r}")
                ok = False
        ok = self.window_is_longer_than_limit(key, raw, numbers) and ok
        season = self.season(key, raw, kind)
        if kind == "season" and season is None:
            ok = False
        verified = raw.get("verified")
        if not isinstance(verified, bool):
            self.error(_line(raw, "verified"), f"{key}: 'verified' must be true or false")
            ok = False
        if kind == "working_days":
            if raw.get("holidays") != "not_counted":
                self.error(_line(raw, "count"), f"{key}: a working_days count must say "
                           "'holidays: not_counted' (no holiday calendar is known)")
                ok = False
            if verified is True:
                self.error(_line(raw, "verified"), f"{key}: a working_days count skips no public "
                           "holidays, so it must be verified: false (to be confirmed)")
                ok = False
        elif "holidays" in raw:
            self.error(_line(raw, "holidays"), f"{key}: 'holidays' belongs to working_days only")
            ok = False
        sources = self.sources(key, raw)
        if not ok or sources is None:
            return None
        return Reading(kind, verified, sources, season=season, **numbers)

    def window_is_longer_than_limit(self, key: str, raw: dict, numbers: dict[str, int]) -> bool:
        for limit, window in (("limit_days", "window_days"), ("limit_months", "window_months")):
            if limit in numbers and window in numbers and numbers[limit] >= numbers[window]:
                self.error(_line(raw, limit), f"{key}: {limit!r} must be less than {window!r}")
                return False
        if numbers.get("limit_days", 0) >= 365 and "window_days" not in numbers:
            self.error(_line(raw, "limit_days"), f"{key}: 'limit_days' must be less than 365")
            return False
        return True

    def season(self, key: str, raw: dict, kind: str) -> tuple[MonthDay, MonthDay] | None:
        if "season" not in raw:
            if kind == "season":
                self.error(_line(raw, "count"), f"{key}: count 'season' needs 'season: "
                                                "{start: \"MM-DD\", end: \"MM-DD\"}'")
            return None
        if kind != "season":
            self.error(_line(raw, "season"), f"{key}: 'season' belongs to count 'season' only")
            return None
        value = raw["season"]
        if not isinstance(value, dict) or set(value) != {"start", "end"}:
            self.error(_line(raw, "season"), f"{key}: 'season' needs 'start' and 'end' only")
            return None
        ends = []
        for end in ("start", "end"):
            month_day = _month_day(value[end])
            if month_day is None:
                self.error(_line(value, end), f"{key}: season {end} must be a date as \"MM-DD\" "
                                              f"(in quotes): {value[end]!r}")
                return None
            ends.append(month_day)
        if ends[0] > ends[1]:
            self.error(_line(value, "start"), f"{key}: the season must start before it ends "
                                              "within one year")
            return None
        return ends[0], ends[1]

    def sources(self, key: str, raw: dict) -> tuple[Source, ...] | None:
        items = raw.get("sources")
        line = _line(raw, "sources") if "sources" in raw else _line(raw, "count")
        if not isinstance(items, list) or not items:
            self.error(line, f"{key}: every reading needs at least one source")
            return None
        sources = []
        for item in items:
            title = item.get("title") if isinstance(item, dict) else None
            if not isinstance(title, str) or not title.strip():
                self.error(_line(item) if isinstance(item, dict) else line,
                           f"{key}: each source needs a 'title'")
                return None
            url = item.get("url")
            if url is not None and not (isinstance(url, str) and url.startswith("https://")):
                self.error(_line(item, "url"), f"{key}: source url must start with https://: "
                                               f"{url!r}")
                return None
            sources.append(Source(title.strip(), url))
        return tuple(sources)

    def texts(self, key: str, raw: dict, field: str, limit: int) -> dict[str, str] | None:
        value = raw.get(field)
        if not isinstance(value, dict):
            self.error(_line(raw, field) if field in raw else _line(raw, "key"),
                       f"{key}: {field!r} needs a text in each of {', '.join(LOCALES)}")
            return None
        ok = True
        for locale in value:
            if locale not in LOCALES:
                self.error(_line(value, locale), f"{key}: {field} in unknown locale {locale!r}")
                ok = False
        for locale in LOCALES:
            text = value.get(locale)
            line = _line(value, locale) if locale in value else _line(raw, field)
            if not isinstance(text, str) or not text.strip():
                self.error(line, f"{key}: {field} is missing in {locale}")
                ok = False
            elif len(text) > limit:
                self.error(line, f"{key}: {field} in {locale} is {len(text)} characters; "
                                 f"at most {limit}")
                ok = False
            elif locale == "uz" and any(mark in text for mark in UZ_WRONG_APOSTROPHES):
                self.error(line, f"{key}: {field} in uz: write oʻ gʻ with ʻ (U+02BB) and the "
                                 "separating sign with ʼ (U+02BC), not ' ’ ‘ `")
                ok = False
        return {locale: value[locale].strip() for locale in LOCALES} if ok else None


def _month_day(value: Any) -> MonthDay | None:
    match = MONTH_DAY_PATTERN.match(value) if isinstance(value, str) else None
    if not match:
        return None
    month, day = int(match.group(1)), int(match.group(2))
    try:
        date(2027, month, day)  # not a leap year: a season must end on a day every year has
    except ValueError:
        return None
    return month, day
