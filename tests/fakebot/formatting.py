"""Telegram text formatting: entity parsing, UTF-16 lengths, auto-detected entities.

The HTML, MarkdownV2 and legacy Markdown parsers are ports of TDLib's
td/telegram/MessageEntity.cpp (the code the Bot API server runs), so a bot under
test gets the same "can't parse entities: ..." texts and byte offsets as from
Telegram. Notable Telegram behaviours kept on purpose:

* unknown named HTML entities such as ``&nbsp;`` are NOT errors, they stay as
  literal text; only a stray ``<`` or a bad tag fails;
* offsets and lengths are counted in UTF-16 code units (emoji count twice);
* ``<a>`` with an unusable URL silently produces no entity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import bad_request

Entity = dict[str, Any]

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024

# TDLib's is_space() also treats the terminating NUL as space; _Reader.at()
# returns NUL past the end, which keeps the ported loops identical to C.
_SPACE = " \t\r\n\0\v"
_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
_NAMED_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

ALLOWED_HTML_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji",
     "span", "pre", "code", "blockquote"}
)

# Sort order of TDLib: offset asc, length desc, then this priority.
_TYPE_PRIORITY = {
    "blockquote": 0, "expandable_blockquote": 0, "pre": 11, "code": 20, "text_link": 49,
    "text_mention": 49, "bold": 90, "italic": 91, "underline": 92, "strikethrough": 93,
    "spoiler": 94, "custom_emoji": 99,
}


class EntityParseError(Exception):
    """Parse failure; the message is what follows "can't parse entities: "."""


@dataclass
class FormattedText:
    text: str
    entities: list[Entity] = field(default_factory=list)


# ---------------------------------------------------------------- UTF-16 helpers


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def _is_space(char: str) -> bool:
    return char in _SPACE


def _ascii_lower(text: str) -> str:
    # TDLib lowercases ASCII only; str.lower() would also fold other scripts.
    return "".join(c.lower() if c.isascii() else c for c in text)


def sort_entities(entities: list[Entity]) -> list[Entity]:
    return sorted(
        entities, key=lambda e: (e["offset"], -e["length"], _TYPE_PRIORITY.get(e["type"], 50))
    )


class _Reader:
    """Text with C-string style access: reading past the end yields NUL."""

    def __init__(self, text: str):
        self.text = text
        self.size = len(text)

    def at(self, index: int) -> str:
        return self.text[index] if index < self.size else "\0"

    def byte_offset(self, index: int) -> int:
        # TDLib reports positions as byte offsets into the UTF-8 text.
        return len(self.text[:index].encode("utf-8"))


# ---------------------------------------------------------------- links


_USER_LINK = re.compile(r"^tg://user\?id=(\d+)$", re.IGNORECASE)
_SCHEME_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://\S+$")
_BARE_DOMAIN_URL = re.compile(r"^[\w-]+(\.[\w-]+)+(:\d+)?(/\S*)?$")


def _link_entity(offset: int, length: int, url: str) -> Entity | None:
    """text_mention for tg://user?id=, text_link for a usable URL, else nothing."""
    user = _USER_LINK.match(url.strip())
    if user:
        user_id = int(user.group(1))
        return {"type": "text_mention", "offset": offset, "length": length,
                "user": {"id": user_id, "is_bot": False, "first_name": str(user_id)}}
    checked = _checked_link(url)
    if not checked:
        return None
    return {"type": "text_link", "offset": offset, "length": length, "url": checked}


def _checked_link(url: str) -> str:
    """Rough equivalent of LinkManager::get_checked_link: '' means unusable."""
    url = url.strip()
    if not url or any(c.isspace() for c in url):
        return ""
    if _SCHEME_URL.match(url):
        return url
    if _BARE_DOMAIN_URL.match(url):
        return "http://" + url
    return ""


# ---------------------------------------------------------------- HTML


@dataclass
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    result_index: int
    expandable: bool = False


class _HtmlParser:
    def __init__(self, text: str):
        self.src = _Reader(text)
        self.result: list[str] = []
        self.utf16 = 0
        self.entities: list[Entity] = []
        self.open_tags: list[_OpenTag] = []

    def error(self, message: str) -> EntityParseError:
        return EntityParseError(message)

    def parse(self) -> FormattedText:
        src, i = self.src, 0
        while i < src.size:
            char = src.text[i]
            if char == "&":
                decoded, end = self.decode_entity(i)
                if decoded:
                    self.append(decoded)
                    i = end
                    continue
            if char != "<":
                self.append(char)
                i += 1
                continue
            begin, i = i, i + 1
            i = self.open_tag(begin, i) if src.at(i) != "/" else self.close_tag(begin, i)
            i += 1  # step over the closing '>'
        if self.open_tags:
            raise self.error(
                f"Can't find end tag corresponding to start tag {self.open_tags[-1].name}"
            )
        for entity in self.entities:
            if entity["type"] == "code":
                entity.pop("language", None)
        return FormattedText("".join(self.result), sort_entities(self.entities))

    def append(self, text: str) -> None:
        for char in text:
            self.result.append(char)
            self.utf16 += _units(char)

    def decode_entity(self, pos: int) -> tuple[str, int]:
        """('', pos) when the '&' does not start a supported character reference."""
        at, end, code = self.src.at, pos + 1, 0
        if at(end) == "#":
            end += 1
            if at(end) == "x":
                end += 1
                while at(end) in _HEX:
                    code = code * 16 + int(at(end), 16)
                    end += 1
            else:
                while at(end).isascii() and at(end).isdigit():
                    code = code * 10 + int(at(end))
                    end += 1
            if code == 0 or code >= 0x10FFFF or end - pos >= 10:
                return "", pos
            if 0xD800 <= code <= 0xDFFF:
                raise self.error(
                    "Text contains invalid Unicode characters after decoding HTML entities, "
                    "check for unmatched surrogate code units"
                )
            decoded = chr(code)
        else:
            while at(end).isascii() and at(end).isalpha():
                end += 1
            decoded = _NAMED_HTML_ENTITIES.get(self.src.text[pos + 1:end], "")
            if not decoded:
                return "", pos
        if at(end) == ";":
            end += 1
        return decoded, end

    def open_tag(self, begin: int, i: int) -> int:
        src = self.src
        while not _is_space(src.at(i)) and src.at(i) != ">":
            i += 1
        if src.at(i) == "\0":
            raise self.error(f"Unclosed start tag at byte offset {src.byte_offset(begin)}")
        name = _ascii_lower(src.text[begin + 1:i])
        if name not in ALLOWED_HTML_TAGS:
            raise self.error(
                f'Unsupported start tag "{name}" at byte offset {src.byte_offset(begin)}'
            )
        tag = _OpenTag(name, "", self.utf16, len(self.result))
        i = self.read_attributes(tag, begin, i)
        if name == "span" and tag.argument != "spoiler":
            raise self.error(
                f'Tag "span" must have class "tg-spoiler" at byte offset {src.byte_offset(begin)}'
            )
        self.open_tags.append(tag)
        return i

    def read_attributes(self, tag: _OpenTag, begin: int, i: int) -> int:
        src = self.src
        where = f"at byte offset {src.byte_offset(begin)}"
        while src.at(i) != ">":
            while src.at(i) != "\0" and _is_space(src.at(i)):
                i += 1
            if src.at(i) == ">":
                break
            name_begin = i
            # '>' ends a name only for <blockquote expandable>, a valueless attribute
            # that newer Bot API versions accept.
            while not _is_space(src.at(i)) and src.at(i) != "=" and not (
                tag.name == "blockquote" and src.at(i) == ">"
            ):
                i += 1
            attribute = src.text[name_begin:i]
            if not attribute:
                raise self.error(f'Empty attribute name in the tag "{tag.name}" {where}')
            while src.at(i) != "\0" and _is_space(src.at(i)):
                i += 1
            if src.at(i) != "=":
                if tag.name == "blockquote" and attribute == "expandable":
                    tag.expandable = True
                    continue
                raise self.error(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag.name}" {where}'
                )
            i += 1
            while src.at(i) != "\0" and _is_space(src.at(i)):
                i += 1
            if src.at(i) == "\0":
                raise self.error(f'Unclosed start tag "{tag.name}" {where}')
            value, i = self.read_attribute_value(i)
            if src.at(i) == "\0":
                raise self.error(f"Unclosed start tag {where}")
            self.remember_argument(tag, attribute, value)
        return i

    def read_attribute_value(self, i: int) -> tuple[str, int]:
        src = self.src
        if src.at(i) not in ("'", '"'):
            # An unquoted name token: letters, digits, periods, hyphens; case-insensitive.
            token_begin = i
            while src.at(i) in _ASCII_ALNUM or src.at(i) in (".", "-"):
                i += 1
            if not _is_space(src.at(i)) and src.at(i) != ">":
                raise self.error(
                    f"Unexpected end of name token at byte offset {src.byte_offset(token_begin)}"
                )
            return _ascii_lower(src.text[token_begin:i]), i
        quote = src.at(i)
        i += 1
        value: list[str] = []
        while src.at(i) != quote and src.at(i) != "\0":
            if src.at(i) == "&":
                decoded, end = self.decode_entity(i)
                if decoded:
                    value.append(decoded)
                    i = end
                    continue
            value.append(src.at(i))
            i += 1
        if src.at(i) == quote:
            i += 1
        return "".join(value), i

    @staticmethod
    def remember_argument(tag: _OpenTag, attribute: str, value: str) -> None:
        if tag.name == "a" and attribute == "href":
            tag.argument = value
        elif tag.name == "code" and attribute == "class" and value.startswith("language-"):
            tag.argument = value[len("language-"):]
        elif tag.name == "span" and attribute == "class" and value.startswith("tg-"):
            tag.argument = value[len("tg-"):]
        elif tag.name == "tg-emoji" and attribute == "emoji-id":
            tag.argument = value

    def close_tag(self, begin: int, i: int) -> int:
        src = self.src
        if not self.open_tags:
            raise self.error(f"Unexpected end tag at byte offset {src.byte_offset(begin)}")
        while not _is_space(src.at(i)) and src.at(i) != ">":
            i += 1
        end_name = _ascii_lower(src.text[begin + 2:i])
        while _is_space(src.at(i)) and src.at(i) != "\0":
            i += 1
        if src.at(i) != ">":
            raise self.error(f"Unclosed end tag at byte offset {src.byte_offset(begin)}")
        tag = self.open_tags[-1]
        if end_name and end_name != tag.name:
            raise self.error(
                f"Unmatched end tag at byte offset {src.byte_offset(begin)}, "
                f'expected "</{tag.name}>", found "</{end_name}>"'
            )
        if self.utf16 > tag.utf16_offset:
            self.add_entity(tag, self.utf16 - tag.utf16_offset)
        self.open_tags.pop()
        return i

    def add_entity(self, tag: _OpenTag, length: int) -> None:
        offset, name = tag.utf16_offset, tag.name
        simple = {"i": "italic", "em": "italic", "b": "bold", "strong": "bold",
                  "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
                  "u": "underline", "ins": "underline", "tg-spoiler": "spoiler", "span": "spoiler"}
        if name in simple:
            self.entities.append({"type": simple[name], "offset": offset, "length": length})
        elif name == "tg-emoji":
            self.entities.append(self.custom_emoji(offset, length, tag.argument))
        elif name == "a":
            url = tag.argument or "".join(self.result[tag.result_index:])
            link = _link_entity(offset, length, url)
            if link:
                self.entities.append(link)
        elif name == "blockquote":
            kind = "expandable_blockquote" if tag.expandable else "blockquote"
            self.entities.append({"type": kind, "offset": offset, "length": length})
        else:
            self.add_code_or_pre(tag, offset, length)

    def custom_emoji(self, offset: int, length: int, emoji_id: str) -> Entity:
        if not emoji_id.isdigit() or int(emoji_id) == 0:
            raise self.error("Invalid custom emoji identifier specified")
        return {"type": "custom_emoji", "offset": offset, "length": length,
                "custom_emoji_id": emoji_id}

    def add_code_or_pre(self, tag: _OpenTag, offset: int, length: int) -> None:
        # <pre><code class="language-x">..</code></pre> becomes one pre entity with a language.
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and last["offset"] == offset and last["length"] == length
        if tag.name == "pre":
            if same_span and last["type"] == "code" and last.get("language"):
                last["type"] = "pre"
            else:
                self.entities.append({"type": "pre", "offset": offset, "length": length})
        elif same_span and last["type"] == "pre" and tag.argument:
            last["language"] = tag.argument
        else:
            entity = {"type": "code", "offset": offset, "length": length}
            if tag.argument:
                entity["language"] = tag.argument  # dropped at the end unless merged into pre
            self.entities.append(entity)


def parse_html(text: str) -> FormattedText:
    return _HtmlParser(text).parse()


# ---------------------------------------------------------------- MarkdownV2

_MARKDOWN_V2_RESERVED = "_*[]()~`>#+-=|{}.!\n"
_TDLIB_TYPE_NAMES = {
    "bold": "Bold", "italic": "Italic", "underline": "Underline", "strikethrough": "Strikethrough",
    "spoiler": "Spoiler", "text_link": "TextUrl", "code": "Code", "pre": "Pre",
    "pre_code": "PreCode", "custom_emoji": "CustomEmoji", "blockquote": "BlockQuote",
}


@dataclass
class _OpenMarkdownEntity:
    kind: str
    argument: str
    utf16_offset: int
    source_index: int
    result_index: int


class _MarkdownV2Parser:
    def __init__(self, text: str):
        self.src = _Reader(text)
        self.result: list[str] = []
        self.utf16 = 0
        self.entities: list[Entity] = []
        self.open: list[_OpenMarkdownEntity] = []
        self.have_blockquote = False

    def reserved_error(self, char: str) -> EntityParseError:
        return EntityParseError(
            f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
        )

    def unclosed_error(self, entity: _OpenMarkdownEntity) -> EntityParseError:
        return EntityParseError(
            f"Can't find end of {_TDLIB_TYPE_NAMES[entity.kind]} entity at byte offset "
            f"{self.src.byte_offset(entity.source_index)}"
        )

    def append(self, char: str) -> None:
        self.result.append(char)
        self.utf16 += _units(char)

    def parse(self) -> FormattedText:
        i = 0
        while i < self.src.size:
            i = self.step(i) + 1
        self.close_trailing_blockquote()
        if self.open:
            raise self.unclosed_error(self.open[-1])
        return FormattedText("".join(self.result), sort_entities(self.entities))

    def step(self, i: int) -> int:
        """Consume the construct starting at i; return the index of its last character."""
        at, char = self.src.at, self.src.text[i]
        if char == "\\" and "\x01" <= at(i + 1) <= "\x7e":
            self.append(at(i + 1))
            return i + 1
        in_code = self.open and self.open[-1].kind in ("code", "pre", "pre_code")
        reserved = "`" if in_code else _MARKDOWN_V2_RESERVED
        if char not in reserved:
            self.append(char)
            return i
        if self.open and self.ends_current_entity(i):
            return self.close_entity(i)
        return self.open_entity(i)

    def ends_current_entity(self, i: int) -> bool:
        at, char = self.src.at, self.src.text[i]
        if self.have_blockquote and char == "\n" and at(i + 1) != ">":
            return True
        kind = self.open[-1].kind
        return {
            "bold": char == "*",
            "italic": char == "_" and at(i + 1) != "_",
            "code": char == "`",
            "pre": char == "`" and at(i + 1) == "`" and at(i + 2) == "`",
            "pre_code": char == "`" and at(i + 1) == "`" and at(i + 2) == "`",
            "text_link": char == "]",
            "underline": char == "_" and at(i + 1) == "_",
            "strikethrough": char == "~",
            "spoiler": char == "|" and at(i + 1) == "|",
            "custom_emoji": char == "]",
            "blockquote": False,
        }[kind]

    def open_entity(self, i: int) -> int:
        at, char, start = self.src.at, self.src.text[i], i
        argument = ""
        if char == "_":
            kind = "underline" if at(i + 1) == "_" else "italic"
            i += 1 if kind == "underline" else 0
        elif char in "*~[":
            kind = {"*": "bold", "~": "strikethrough", "[": "text_link"}[char]
        elif char == "|" and at(i + 1) == "|":
            kind, i = "spoiler", i + 1
        elif char == "!" and at(i + 1) == "[":
            kind, i = "custom_emoji", i + 1
        elif char == "`":
            kind, argument, i = self.open_code(i)
        elif char == "\n":
            self.append("\n")
            if at(i + 1) != ">":
                return i
            i += 1
            if self.have_blockquote:
                return i
            kind, self.have_blockquote = "blockquote", True
        elif char == ">" and i == 0:
            kind, self.have_blockquote = "blockquote", True
        else:
            raise self.reserved_error(char)
        self.open.append(_OpenMarkdownEntity(kind, argument, self.utf16, start, len(self.result)))
        return i

    def open_code(self, i: int) -> tuple[str, str, int]:
        at = self.src.at
        if not (at(i + 1) == "`" and at(i + 2) == "`"):
            return "code", "", i
        i += 3
        kind, argument = "pre", ""
        language_end = i
        while not _is_space(at(language_end)) and at(language_end) != "`":
            language_end += 1
        if i != language_end and language_end < self.src.size and at(language_end) != "`":
            kind, argument, i = "pre_code", self.src.text[i:language_end], language_end
        # One line break right after the opening ``` is not part of the code.
        if at(i) in "\n\r" and at(i) != "\0":
            pair = at(i + 1) in "\n\r" and at(i + 1) != "\0" and at(i) != at(i + 1)
            i += 2 if pair else 1
        return kind, argument, i - 1

    def close_entity(self, i: int) -> int:
        entity = self.open[-1]
        if self.src.text[i] == "\n" and entity.kind != "blockquote":
            raise self.unclosed_error(entity)
        skip = self.utf16 == entity.utf16_offset
        extra: dict[str, Any] = {}
        kind = entity.kind
        if kind in ("underline", "spoiler"):
            i += 1
        elif kind in ("pre", "pre_code"):
            i += 2
        elif kind == "text_link":
            url, i = self.read_link_target(i, entity)
            link = _link_entity(entity.utf16_offset, 0, url)
            skip = skip or link is None
            extra = {k: v for k, v in (link or {}).items() if k not in ("type", "offset", "length")}
            kind = link["type"] if link else kind
        elif kind == "custom_emoji":
            extra, i = self.read_custom_emoji(i)
        elif kind == "blockquote":
            self.have_blockquote = False
            self.append(self.src.text[i])
        if not skip:
            self.add_entity(kind, entity, extra)
        self.open.pop()
        return i

    def add_entity(self, kind: str, entity: _OpenMarkdownEntity, extra: dict[str, Any]) -> None:
        api_type = "pre" if kind == "pre_code" else kind
        record: Entity = {"type": api_type, "offset": entity.utf16_offset,
                          "length": self.utf16 - entity.utf16_offset, **extra}
        if kind == "pre_code":
            record["language"] = entity.argument
        self.entities.append(record)

    def read_parenthesized(self, i: int) -> tuple[str, int, int]:
        """Read '(...)' after position i; returns (content, index of ')', content start)."""
        src = self.src
        i += 2
        begin = i
        content: list[str] = []
        while i < src.size and src.text[i] != ")":
            if src.text[i] == "\\" and "\x01" <= src.at(i + 1) <= "\x7e":
                content.append(src.at(i + 1))
                i += 2
                continue
            content.append(src.text[i])
            i += 1
        return "".join(content), i, begin

    def read_link_target(self, i: int, entity: _OpenMarkdownEntity) -> tuple[str, int]:
        if self.src.at(i + 1) != "(":
            return "".join(self.result[entity.result_index:]), i  # the text is the URL
        url, i, begin = self.read_parenthesized(i)
        if self.src.at(i) != ")":
            raise EntityParseError(
                f"Can't find end of a URL at byte offset {self.src.byte_offset(begin)}"
            )
        return url, i

    def read_custom_emoji(self, i: int) -> tuple[dict[str, Any], int]:
        if self.src.at(i + 1) != "(":
            raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
        url, i, begin = self.read_parenthesized(i)
        if self.src.at(i) != ")":
            raise EntityParseError(
                f"Can't find end of a custom emoji URL at byte offset {self.src.byte_offset(begin)}"
            )
        match = re.fullmatch(r"tg://emoji\?id=(\d+)", url)
        if not match or int(match.group(1)) == 0:
            raise EntityParseError("Invalid custom emoji identifier specified")
        return {"custom_emoji_id": match.group(1)}, i

    def close_trailing_blockquote(self) -> None:
        if self.have_blockquote and self.open and self.open[-1].kind == "blockquote":
            entity = self.open.pop()
            self.have_blockquote = False
            if self.utf16 != entity.utf16_offset:
                self.add_entity("blockquote", entity, {})


def parse_markdown_v2(text: str) -> FormattedText:
    return _MarkdownV2Parser(text).parse()


# ---------------------------------------------------------------- legacy Markdown


def parse_markdown(text: str) -> FormattedText:
    """Legacy "Markdown" mode: _italic_, *bold*, `code`, ```pre```, [text](url); no nesting."""
    src, result, entities = _Reader(text), [], []
    utf16, i = 0, 0
    while i < src.size:
        char = src.text[i]
        if char == "\\" and src.at(i + 1) in "_*`[" and src.at(i + 1) != "\0":
            result.append(src.at(i + 1))
            utf16 += 1
            i += 2
            continue
        if char not in "_*`[":
            result.append(char)
            utf16 += _units(char)
            i += 1
            continue
        begin, end_char, is_pre, language = i, "]" if char == "[" else char, False, ""
        i += 1
        if char == "`" and src.at(i) == "`" and src.at(i + 1) == "`":
            i += 2
            is_pre = True
            language_end = i
            while not _is_space(src.at(language_end)) and src.at(language_end) != "`":
                language_end += 1
            if i != language_end and language_end < src.size and src.at(language_end) != "`":
                language, i = src.text[i:language_end], language_end
            if src.at(i) in "\n\r" and src.at(i) != "\0":
                pair = src.at(i + 1) in "\n\r" and src.at(i + 1) != "\0" and src.at(i) != src.at(i + 1)
                i += 2 if pair else 1
        entity_offset, inner_start = utf16, len(result)
        while i < src.size and (
            src.text[i] != end_char or (is_pre and not (src.at(i + 1) == "`" and src.at(i + 2) == "`"))
        ):
            result.append(src.text[i])
            utf16 += _units(src.text[i])
            i += 1
        if i == src.size:
            raise EntityParseError(
                f"Can't find end of the entity starting at byte offset {src.byte_offset(begin)}"
            )
        length = utf16 - entity_offset
        if char == "[":
            url = "".join(result[inner_start:])
            if src.at(i + 1) == "(":
                i += 2
                url_chars = []
                while i < src.size and src.text[i] != ")":
                    url_chars.append(src.text[i])
                    i += 1
                url = "".join(url_chars)
            link = _link_entity(entity_offset, length, url) if length else None
            if link:
                entities.append(link)
        elif length:
            kind = {"_": "italic", "*": "bold"}.get(char, "pre" if is_pre else "code")
            entity = {"type": kind, "offset": entity_offset, "length": length}
            if is_pre and language:
                entity["language"] = language
            entities.append(entity)
        i += 3 if is_pre else 1
    return FormattedText("".join(result), sort_entities(entities))


# ---------------------------------------------------------------- auto-detected entities


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _is_name_char(char: str) -> bool:
    return char in _ASCII_ALNUM or char == "_"


def find_bot_commands(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of /command or /command@botname, as TDLib matches them."""
    spans, i, size = [], 0, len(text)
    while (i := text.find("/", i)) >= 0:
        if i > 0 and (_is_word_char(text[i - 1]) or text[i - 1] in "/<>"):
            i += 1
            continue
        begin = i
        i += 1
        name_start = i
        while i < size and _is_name_char(text[i]):
            i += 1
        if not 1 <= i - name_start <= 64:
            continue
        end = i
        if i < size and text[i] == "@":
            i += 1
            mention_start = i
            while i < size and _is_name_char(text[i]):
                i += 1
            if not 3 <= i - mention_start <= 32:
                continue
            end = i
        if i < size and (_is_word_char(text[i]) or text[i] in "/<>"):
            continue
        spans.append((begin, end))
    return spans


def find_mentions(text: str) -> list[tuple[int, int]]:
    spans, i, size = [], 0, len(text)
    while (i := text.find("@", i)) >= 0:
        if i > 0 and _is_word_char(text[i - 1]):
            i += 1
            continue
        begin = i
        i += 1
        name_start = i
        while i < size and _is_name_char(text[i]):
            i += 1
        if not 2 <= i - name_start <= 32:
            continue
        if i < size and _is_word_char(text[i]):
            continue
        spans.append((begin, i))
    return spans


_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)


def find_urls(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _URL.finditer(text):
        end = match.end()
        while end > match.start() and text[end - 1] in ".,;:!?)'\"":
            end -= 1
        spans.append((match.start(), end))
    return spans


_NO_AUTO_ENTITIES_INSIDE = {"code", "pre", "text_link", "text_mention", "custom_emoji"}


def auto_entities(text: str, existing: list[Entity]) -> list[Entity]:
    """Entities Telegram adds by itself: bot_command, mention, url."""
    blocked = [(e["offset"], e["offset"] + e["length"]) for e in existing
               if e["type"] in _NO_AUTO_ENTITIES_INSIDE]
    found = []
    for kind, finder in (("bot_command", find_bot_commands), ("mention", find_mentions),
                         ("url", find_urls)):
        for start, end in finder(text):
            offset = utf16_len(text[:start])
            length = utf16_len(text[start:end])
            if not any(offset < b_end and offset + length > b_start for b_start, b_end in blocked):
                found.append({"type": kind, "offset": offset, "length": length})
    return found


# ---------------------------------------------------------------- message text pipeline

_PARSERS: dict[str, Callable[[str], FormattedText]] = {
    "html": parse_html, "markdownv2": parse_markdown_v2, "markdown": parse_markdown,
}
# Python's str.strip() also drops characters Telegram keeps (e.g. U+200B is not
# stripped by either, but NBSP is by Python); stick to plain ASCII whitespace.
_TRIMMED = " \t\r\n"


def trim(formatted: FormattedText) -> FormattedText:
    """Drop leading/trailing whitespace like Telegram, shifting entities accordingly."""
    text = formatted.text
    stripped_left = text.lstrip(_TRIMMED)
    lead = utf16_len(text[: len(text) - len(stripped_left)])
    result = stripped_left.rstrip(_TRIMMED)
    total = utf16_len(result)
    entities = []
    for entity in formatted.entities:
        start = max(0, entity["offset"] - lead)
        end = min(total, entity["offset"] + entity["length"] - lead)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return FormattedText(result, entities)


def format_text(raw: str, parse_mode: str | None, entities: list[Entity] | None) -> FormattedText:
    """Apply parse_mode (or explicit entities), trim, and add auto-detected entities.

    Raises ApiError for an unknown parse_mode or unparsable markup.
    """
    if entities:
        formatted = FormattedText(raw, [dict(e) for e in entities])
    elif parse_mode:
        parser = _PARSERS.get(str(parse_mode).lower())
        if parser is None:
            raise bad_request("unsupported parse_mode")
        try:
            formatted = parser(raw)
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    else:
        formatted = FormattedText(raw, [])
    formatted = trim(formatted)
    formatted.entities = sort_entities(
        formatted.entities + auto_entities(formatted.text, formatted.entities)
    )
    return formatted
