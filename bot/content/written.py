"""The topic files as written, read for the content rules (parity, contacts, keyword traps).

The rules read the files themselves rather than the loaded `Content`, so `content check` still
reports them while another file has an error that stops the loader; a file the loader cannot
read is skipped here (the loader reports it).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot import LOCALES
from bot.content.loader import SAFE_LOADER, _Collector, load_tree, split_front_matter
from bot.content.model import Topic


@dataclass(frozen=True)
class WrittenText:
    key: str
    locale: str
    path: Path
    keywords: tuple[str, ...]
    front_lines: tuple[tuple[int, str], ...]  # (line number, text) of the front matter

    def keyword_line(self, keyword: str) -> int:
        """The front-matter line that holds a keyword (the `keywords:` line, or line 2)."""
        for number, text in self.front_lines:
            if keyword in text and not text.startswith("title:"):
                return number
        for number, text in self.front_lines:
            if text.startswith("keywords:"):
                return number
        return 2


@dataclass(frozen=True)
class Written:
    tree: dict[str, Topic]  # empty when topics.yaml cannot be read
    texts: tuple[WrittenText, ...]  # in tree order, then locale order

    def ancestors(self, key: str) -> list[str]:
        keys, current, seen = [], self.tree.get(key), set()
        while current is not None and current.parent and current.parent not in seen:
            seen.add(current.parent)
            keys.append(current.parent)
            current = self.tree.get(current.parent)
        return keys


def read_text(path: Path, locale: str) -> WrittenText | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    parts = split_front_matter(text)
    if parts is None:
        return None
    front = parts[0]
    try:
        meta = yaml.load(front, Loader=SAFE_LOADER) or {}
    except yaml.YAMLError:
        return None
    raw = meta.get("keywords") if isinstance(meta, dict) else None
    keywords = tuple(str(k) for k in raw) if isinstance(raw, list) else ()
    lines = tuple(enumerate(front.splitlines(), start=2))
    return WrittenText(path.stem, locale, path, keywords, lines)


def read_written(content_dir: Path) -> Written:
    tree = load_tree(content_dir, _Collector())  # its problems are the loader's to report
    order = {key: index for index, key in enumerate(tree)}
    texts = []
    for locale in LOCALES:
        folder = content_dir / locale
        for path in sorted(folder.glob("*.md")) if folder.is_dir() else []:
            if (written := read_text(path, locale)) is not None:
                texts.append(written)
    texts.sort(key=lambda t: (order.get(t.key, len(order)), t.key, LOCALES.index(t.locale)))
    return Written(tree, tuple(texts))
