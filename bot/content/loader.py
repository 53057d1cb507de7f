"""Reads and validates `topics.yaml` and `<locale>/<key>.md` into a `Content`."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Callable

import yaml

from bot import LOCALES
from bot.content.markup import parse_body, telegram_length
from bot.content.model import Content, Fallback, Source, Topic, TopicText

# libyaml's loader when PyYAML was built with it: the same safe subset, several times faster.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
KEY_PATTERN = re.compile(r"^[a-z0-9_]{1,32}$")
TITLE_LIMIT = 48
BLOCK_LIMIT = 3000
BODY_LIMIT = 12000

# Where a missing translation is taken from, in order (design §3).
FALLBACK_CHAINS: dict[str, tuple[str, ...]] = {
    "uz": ("uz", "uz_Cyrl>uz", "ru", "en"),
    "uz_Cyrl": ("uz_Cyrl", "uz>uz_Cyrl", "ru", "en"),
    "ru": ("ru", "en"),
    "en": ("en", "ru"),
}


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class LoadResult:
    content: Content | None
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def error(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message))

    def warn(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message, "warning"))


def line_of(lines: list[str], needle: str) -> int:
    """The first line holding `needle` (1 when none does): where a YAML entry is."""
    for number, line in enumerate(lines, start=1):
        if needle in line:
            return number
    return 1


def _parse_sources(raw: Any, where: tuple[Path, int], report: _Collector) -> tuple[Source, ...]:
    sources = []
    for item in raw or []:
        if not isinstance(item, dict) or not isinstance(item.get("title"), str):
            report.error(*where, "each source needs a 'title'")
            continue
        url = item.get("url")
        if url is not None and not (isinstance(url, str) and url.startswith("https://")):
            report.error(*where, f"source url must start with https://: {url!r}")
            url = None
        sources.append(Source(item["title"].strip(), url))
    return tuple(sources)


def _parse_topic(raw: Any, path: Path, lines: list[str], report: _Collector) -> Topic | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("key"), str):
        report.error(path, 1, f"a topic without a key: {raw!r}"[:200])
        return None
    key = raw["key"]
    where = (path, line_of(lines, f"key: {key}"))
    if not KEY_PATTERN.match(key):
        report.error(*where, f"key {key!r} must be 1-32 characters of a-z, 0-9 and _")
    reviewed = raw.get("reviewed")
    if not isinstance(reviewed, date):
        report.error(*where, f"{key}: 'reviewed' must be a date (YYYY-MM-DD)")
        reviewed = None
    verified = raw.get("verified")
    if not isinstance(verified, bool):
        report.error(*where, f"{key}: 'verified' must be true or false")
        verified = False
    countries = raw.get("countries") or []
    if not isinstance(countries, list) or not all(isinstance(c, str) for c in countries):
        report.error(*where, f"{key}: 'countries' must be a list of codes")
        countries = []
    parent = raw.get("parent")
    return Topic(
        key=key,
        parent=parent,
        children=(),
        countries=tuple(countries),
        sources=_parse_sources(raw.get("sources"), where, report),
        reviewed=reviewed,
        verified=verified,
    )


def _link_tree(topics: list[Topic], path: Path, lines: list[str], report: _Collector) -> dict[str, Topic]:
    by_key: dict[str, Topic] = {}
    for topic in topics:
        if topic.key in by_key:
            report.error(path, line_of(lines, f"key: {topic.key}"), f"duplicate key {topic.key!r}")
        by_key[topic.key] = topic
    children: dict[str, list[str]] = {key: [] for key in by_key}
    for topic in topics:
        if topic.parent is None:
            continue
        if topic.parent not in by_key:
            report.error(path, line_of(lines, f"key: {topic.key}"),
                         f"{topic.key}: parent {topic.parent!r} does not exist")
            continue
        children[topic.parent].append(topic.key)
    linked = {key: _with_children(t, tuple(children[key])) for key, t in by_key.items()}
    for key in linked:
        if _has_cycle(key, linked):
            report.error(path, line_of(lines, f"key: {key}"), f"{key}: its parents form a cycle")
    for topic in linked.values():
        if not topic.is_section and not topic.sources:
            report.error(path, line_of(lines, f"key: {topic.key}"), f"{topic.key}: no sources")
    return linked


def _with_children(topic: Topic, children: tuple[str, ...]) -> Topic:
    return Topic(topic.key, topic.parent, children, topic.countries, topic.sources,
                 topic.reviewed, topic.verified)


def _has_cycle(key: str, topics: dict[str, Topic]) -> bool:
    seen = set()
    current: str | None = key
    while current is not None and current in topics:
        if current in seen:
            return True
        seen.add(current)
        current = topics[current].parent
    return False


def load_tree(content_dir: Path, report: _Collector) -> dict[str, Topic]:
    path = content_dir / "topics.yaml"
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.load(text, Loader=SAFE_LOADER)
    except FileNotFoundError:
        report.error(path, 1, "file is missing")
        return {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        report.error(path, (mark.line + 1) if mark else 1, f"not valid YAML: {exc}")
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("topics"), list):
        report.error(path, 1, "expected a mapping with a 'topics' list")
        return {}
    lines = text.splitlines()
    topics = [t for raw in data["topics"] if (t := _parse_topic(raw, path, lines, report))]
    return _link_tree(topics, path, lines, report)


def split_front_matter(text: str) -> tuple[str, str, int] | None:
    """Return (front matter, body, line number where the body starts)."""
    if not text.startswith("---\n"):
        return None
    end = text.find("\n---\n", 4)
    if end == -1:
        return None
    front = text[4:end]
    body_start_line = front.count("\n") + 4
    return front, text[end + 5:], body_start_line


def read_topic_text(path: Path, locale: str, report: _Collector) -> TopicText | None:
    text = path.read_text(encoding="utf-8")
    parts = split_front_matter(text)
    if parts is None:
        report.error(path, 1, "expected front matter between '---' lines")
        return None
    front, body, offset = parts
    try:
        meta = yaml.load(front, Loader=SAFE_LOADER) or {}
    except yaml.YAMLError as exc:
        report.error(path, 2, f"front matter is not valid YAML: {exc}")
        return None
    title = meta.get("title") if isinstance(meta, dict) else None
    if not isinstance(title, str) or not title.strip():
        report.error(path, 2, "front matter needs a 'title'")
        return None
    if len(title) > TITLE_LIMIT:
        report.error(path, 2, f"title is {len(title)} characters; at most {TITLE_LIMIT}")
    keywords = meta.get("keywords") or []
    if not isinstance(keywords, list):
        report.error(path, 2, "'keywords' must be a list")
        keywords = []
    if meta.get("needs_review"):
        report.warn(path, 2, f"draft needs review: {meta['needs_review']}")
    blocks, markup_errors = parse_body(body)
    for problem in markup_errors:
        report.error(path, offset + problem.line - 1, problem.message)
    for block in blocks:
        if telegram_length(block.html) > BLOCK_LIMIT:
            report.error(path, offset + block.line - 1,
                         f"paragraph is over {BLOCK_LIMIT} characters: split it")
    if len(body) > BODY_LIMIT:
        report.error(path, offset, f"body is over {BODY_LIMIT} characters")
    return TopicText(
        title=title.strip(),
        keywords=tuple(str(k) for k in keywords),
        blocks=tuple(b.html for b in blocks),
        body=body,
        path=path,
        served_from=locale,
    )


def _derive(text: TopicText, recipe: str, convert: Callable[[str, str], str]) -> TopicText:
    source, target = recipe.split(">")
    body = convert(text.body, target)
    return TopicText(
        title=convert(text.title, target),
        keywords=text.keywords + tuple(convert(k, target) for k in text.keywords),
        blocks=tuple(block.html for block in parse_body(body)[0]),
        body=body,
        path=text.path,
        served_from=f"{source} transliterated",
    )


def _transliterate(text: str, target: str) -> str:
    from bot.text.translit import transliterate_markdown

    return transliterate_markdown(text, to="cyrillic" if target == "uz_Cyrl" else "latin")


def _resolve_fallbacks(
    topics: dict[str, Topic], written: dict[tuple[str, str], TopicText], content_dir: Path,
    report: _Collector,
) -> tuple[dict[tuple[str, str], TopicText], list[Fallback]]:
    texts: dict[tuple[str, str], TopicText] = {}
    fallbacks: list[Fallback] = []
    for key in topics:
        for locale in LOCALES:
            for step in FALLBACK_CHAINS[locale]:
                source = step.split(">")[0]
                if (source, key) not in written:
                    continue
                original = written[(source, key)]
                texts[(locale, key)] = (
                    _derive(original, step, _transliterate) if ">" in step else original
                )
                if source != locale:
                    fallbacks.append(Fallback(locale, key, texts[(locale, key)].served_from))
                    report.warn(content_dir / locale / f"{key}.md", 1,
                                f"missing: shown by fallback from {texts[(locale, key)].served_from}")
                break
            else:
                report.error(content_dir / locale / f"{key}.md", 1,
                             "missing in every locale: nothing to show")
    return texts, fallbacks


def load_content(content_dir: Path) -> LoadResult:
    report = _Collector()
    topics = load_tree(content_dir, report)
    written: dict[tuple[str, str], TopicText] = {}
    for locale in LOCALES:
        folder = content_dir / locale
        for path in sorted(folder.glob("*.md")) if folder.is_dir() else []:
            if path.stem not in topics:
                report.error(path, 1, f"no topic {path.stem!r} in topics.yaml")
                continue
            if (text := read_topic_text(path, locale, report)) is not None:
                written[(locale, path.stem)] = text
    texts, fallbacks = _resolve_fallbacks(topics, written, content_dir, report)
    roots = tuple(key for key, topic in topics.items() if topic.parent is None)
    if not roots and topics:
        report.error(content_dir / "topics.yaml", 1, "no main-menu sections (parent: null)")
    content = Content(topics, roots, texts, tuple(fallbacks))
    errors = [p for p in report.problems if p.severity == "error"]
    return LoadResult(None if errors else content, report.problems)
