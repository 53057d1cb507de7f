"""Drafts of one Uzbek script from the other, for an editor to read and correct."""
from __future__ import annotations

from pathlib import Path

import yaml

from bot.content.loader import split_front_matter


def _convert(text: str, target: str) -> str:
    from bot.text.translit import transliterate_markdown

    return transliterate_markdown(text, to="cyrillic" if target == "uz_Cyrl" else "latin")


def draft_file(source_path: Path, target: str) -> str:
    parts = split_front_matter(source_path.read_text(encoding="utf-8"))
    if parts is None:
        raise ValueError(f"{source_path}: no front matter")
    front, body, _ = parts
    meta = yaml.safe_load(front) or {}
    meta["title"] = _convert(str(meta.get("title", "")), target)
    meta["keywords"] = [_convert(str(k), target) for k in meta.get("keywords") or []]
    meta["needs_review"] = f"machine transliteration of {source_path.parent.name}/{source_path.name}"
    front_out = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{front_out}---\n{_convert(body, target)}"


def draft_transliterations(content_dir: Path, source: str, target: str) -> list[Path]:
    if source == target:
        raise ValueError("source and target must differ")
    (content_dir / target).mkdir(exist_ok=True)
    written = []
    for source_path in sorted((content_dir / source).glob("*.md")):
        target_path = content_dir / target / source_path.name
        if target_path.exists():
            continue
        target_path.write_text(draft_file(source_path, target), encoding="utf-8")
        written.append(target_path)
    return written
