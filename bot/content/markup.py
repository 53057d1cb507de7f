"""A small Markdown subset rendered to Telegram HTML, with validation.

Allowed: paragraphs (blank line between), `- ` list items, numbered steps (`1. `),
`**bold**`, `_italic_`, `[text](https://…)`. Anything else that looks like markup is an error, so an editor learns at
`content check` time rather than from a user seeing stray symbols.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass

TELEGRAM_TEXT_LIMIT = 4096

_LINK = re.compile(r"\[([^\[\]\n]+)\]\((https://[^\s()]+)\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![\w])_(?=\S)(.+?)(?<=\S)_(?![\w])")
_TAG = re.compile(r"<[^>]+>")
_STEP = re.compile(r"^(\d{1,2})\.\s+(\S.*)$")

_FORBIDDEN_LINE_STARTS = (
    (re.compile(r"^#{1,6}\s"), "headings are not allowed"),
    (re.compile(r"^\d+\)\s"), "numbered steps are written '1. '"),
    (re.compile(r"^[*+]\s"), "list items start with '- '"),
    (re.compile(r"^(```|~~~|    \S)"), "code blocks are not allowed"),
    (re.compile(r"^\|"), "tables are not allowed"),
    (re.compile(r"^>"), "quotes are not allowed"),
)


@dataclass(frozen=True)
class MarkupError:
    line: int  # 1-based, relative to the text given
    message: str


@dataclass(frozen=True)
class Block:
    """One paragraph or list item group: the unit a long topic is split into pages by."""

    line: int
    html: str


def telegram_length(text_html: str) -> int:
    """Length as Telegram counts it: after entity parsing, in UTF-16 code units."""
    plain = html.unescape(_TAG.sub("", text_html))
    return len(plain.encode("utf-16-le")) // 2


def render_inline(text: str) -> str:
    escaped = html.escape(text, quote=False)
    escaped = _LINK.sub(lambda m: f'<a href="{html.escape(m.group(2))}">{m.group(1)}</a>', escaped)
    escaped = _BOLD.sub(r"<b>\1</b>", escaped)
    return _ITALIC.sub(r"<i>\1</i>", escaped)


def _inline_errors(text: str) -> list[str]:
    problems = []
    if re.search(r"</?[a-zA-Z][^>]*>", text):
        problems.append("HTML tags are not allowed")
    without_links = _LINK.sub("", text)
    if re.search(r"\]\(", without_links):
        problems.append("links must be [text](https://…)")
    if without_links.count("**") - 2 * len(_BOLD.findall(without_links)) != 0:
        problems.append("unbalanced '**'")
    if "`" in text:
        problems.append("code markup (`) is not allowed")
    return problems


def _split_blocks(body: str) -> list[tuple[int, list[str]]]:
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 1
    for number, line in enumerate(body.splitlines(), start=1):
        if line.strip():
            if not current:
                start = number
            current.append(line.rstrip())
        elif current:
            blocks.append((start, current))
            current = []
    if current:
        blocks.append((start, current))
    return blocks


def _render_block(lines: list[str]) -> str:
    rendered = []
    for line in lines:
        step = _STEP.match(line)
        if line.startswith("- "):
            rendered.append("• " + render_inline(line[2:].strip()))
        elif step:
            rendered.append(f"{step.group(1)}. " + render_inline(step.group(2).strip()))
        elif rendered:  # a wrapped line continues its paragraph or list item
            rendered[-1] += " " + render_inline(line.strip())
        else:
            rendered.append(render_inline(line.strip()))
    return "\n".join(rendered)


def parse_body(body: str) -> tuple[list[Block], list[MarkupError]]:
    """Render the body to HTML blocks and list every markup error with its line."""
    errors: list[MarkupError] = []
    for number, line in enumerate(body.splitlines(), start=1):
        for pattern, message in _FORBIDDEN_LINE_STARTS:
            if pattern.search(line):
                errors.append(MarkupError(number, message))
        errors.extend(MarkupError(number, problem) for problem in _inline_errors(line))
    blocks = [Block(start, _render_block(lines)) for start, lines in _split_blocks(body)]
    return blocks, errors
