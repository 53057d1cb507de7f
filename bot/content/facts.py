"""The checkable facts in a line a user reads: numbers, links and contacts, normalised.

`content check` compares them across locales (parity) and checks contacts against the verified
list. Normalising is what keeps legitimate translations equal:

- numbers: "50,000" = "50 000" = "50.000" = "50 ming" = "50 тысяч" = 50000; "1,9" = "1.9";
  "1.35 M" = "1,35 млн" = 1350000; "2.0" = 2; dates "15.04.2022" give the day and the year (the
  month is a word in the other locales), as "15 April 2022" and "2022-yil 15-aprel" do;
- legal designators: UP-59 = PF-59 = УП-59 = ПФ-59, PP-4829 = PQ-4829 = ПП-4829 = ПҚ-4829,
  ZRU-547 = OʻRQ-547 = ЗРУ-547 = ЎРҚ-547, 260-FZ = 260-ФЗ, E-9 = Е-9 (Cyrillic Е); a designator
  with an unknown prefix ("COVID-19") and a suffixed number ("4-aprel", "23-modda") count as the
  bare number; a designator also matches the bare number in another locale ("Decree No. 59");
- a step number at the start of a line ("1. ") is structure, not a fact;
- links: the address without scheme, "www." and trailing "/", from `[text](url)`, bare URLs and
  bare domains ("gov.uz/en/migration");
- contacts: phone numbers (as digits), e-mail addresses, Telegram @handles and t.me links.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Canonical names of legal-act and visa designators as the four locales write them.
PREFIXES = {
    "up": "UP", "pf": "UP", "уп": "UP", "пф": "UP",  # Presidential decree (farmon)
    "pp": "PP", "pq": "PP", "пп": "PP", "пқ": "PP", "пк": "PP",  # Presidential resolution (qaror)
    "zru": "ZRU", "oʻrq": "ZRU", "orq": "ZRU", "зру": "ZRU", "ўрқ": "ZRU",  # Law
    "vmq": "VMQ", "вмқ": "VMQ", "пкм": "VMQ",  # Cabinet of Ministers resolution
    "e": "E", "е": "E",  # Korean visa type (Latin and Cyrillic E)
}
SUFFIXES = {"fz": "FZ", "фз": "FZ"}  # Russian federal law: 260-FZ

_DASH = "\u2010\u2011-"  # the ASCII hyphen last, so it is no range in a class
_SUPERSCRIPTS = str.maketrans({"⁰": "-0", "¹": "-1", "²": "-2", "³": "-3", "⁴": "-4",
                               "⁵": "-5", "⁶": "-6", "⁷": "-7", "⁸": "-8", "⁹": "-9"})
_SCALES = [  # "M" only in capitals: a lower-case m after a number is metres or minutes
    (re.compile(r"(?i:k|thousand|тыс|тысяч\w*|ming\w*|минг\w*)"), 10 ** 3),
    (re.compile(r"M|(?i:mln|млн|million\w*|миллион\w*)"), 10 ** 6),
    (re.compile(r"(?i:bn|mlrd|млрд|billion\w*|milliard\w*|миллиард\w*)"), 10 ** 9),
]
_SCALE_WORD = "(?:" + "|".join(pattern.pattern for pattern, _ in _SCALES) + ")"

_MD_LINK = re.compile(r"\[([^\[\]\n]+)\]\(([^\s()]+)\)")
_URL = re.compile(r"https?://[^\s<>()\[\]«»\"“”]+")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}")
TME_LINK = re.compile(r"(?<![\w.])(?:telegram|t)\.me/([A-Za-z0-9_]{3,})", re.I)
_HANDLE = re.compile(r"(?<![\w@.])@([A-Za-z][A-Za-z0-9_]{3,31})(?![\w@])")
_DOMAIN = re.compile(
    r"(?<![\w@.\-/])((?:[a-z0-9а-я][a-z0-9а-я-]*\.)+"
    r"(?:uz|kz|ru|kg|tj|com|org|net|int|info|gov|kr|uk|tr|me|io|рф)"
    r"(?:/[^\s<>()\[\]«»\"“”,;]*)?)(?![\w.-]*\w)")
_PHONE_INTL = re.compile(r"(?<![\w+])\+\d(?:[\s\u00a0().\-]*\d){6,14}")
_PHONE_LOCAL = re.compile(r"(?<![\w+.,])\(?\d{2,5}\)?(?:[ \u00a0\-]\d{2,4}){2,4}(?![\w])")
_THOUSANDS_ONLY = re.compile(r"^\d{1,3}(?:[ \u00a0]\d{3})+$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A short service number ("12-82") counts as a phone only when a phone word is just before it.
_SHORT_PHONE = re.compile(
    r"(?i)(?:number|phone|call|номер\w*|телефон\w*|звон\w*|raqam\w*|рақам\w*|telefon\w*"
    r"|qoʻngʻiroq\w*|қўнғироқ\w*)\W+(?:\w+\W+){0,3}?(\d{2}-\d{2})(?![\w-])")

_STEP_MARKER = re.compile(r"^\s*\d{1,2}\.\s+")
_NUMBER = re.compile(
    rf"(?P<dmy>(?<![\d.])(?P<d1>\d{{1,2}})\.(?P<m1>\d{{1,2}})\.(?P<y1>\d{{4}})(?![\d]))"
    rf"|(?P<iso>(?<![\d{_DASH}])(?P<y2>\d{{4}})-(?P<m2>\d{{2}})-(?P<d2>\d{{2}})(?![\d]))"
    rf"|(?P<pre>(?<![\w{_DASH}])(?P<letters>[^\W\d_]{{1,6}})[{_DASH}](?P<pnum>\d+)(?![\d]))"
    rf"|(?P<num>(?<![\d])(?:\d{{1,3}}(?P<sep>[,. \u00a0\u202f\u2009])\d{{3}}(?:(?P=sep)\d{{3}})*(?![\d])"
    rf"(?:(?!(?P=sep))[.,]\d+)?|\d+(?:[.,]\d+)?))"
    rf"(?:(?P<scale>\s?{_SCALE_WORD})(?![\w])|[{_DASH}](?P<suffix>[^\W\d_]+))?"
)


@dataclass(frozen=True)
class Fact:
    kind: str  # "number", "link" or "contact"
    value: str  # normalised: what is compared
    shown: str  # as written

    @property
    def bare(self) -> str | None:
        """The plain number of a designator ("UP-59" → "59"), else None."""
        if self.kind == "number" and "-" in self.value:
            return self.value.split("-", 1)[1]
        return None


@dataclass(frozen=True)
class Contact:
    kind: str  # "phone", "email" or "telegram"
    value: str  # normalised: digits of a phone, lower-case e-mail, lower-case handle
    shown: str


def normalise_link(url: str) -> str:
    url = re.sub(r"^[a-z]+://", "", url.strip().rstrip(".,;:!?"), flags=re.I)
    host, _, rest = url.partition("/")
    host = host.lower().removeprefix("www.")
    return (host + ("/" + rest if rest else "")).rstrip("/")


def normalise_phone(text: str) -> str:
    return re.sub(r"\D", "", text)


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _plain_number(text: str, sep: str | None) -> Decimal | None:
    if sep:
        text = text.replace(sep, "")
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None


def _format(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _scale_of(word: str) -> int:
    word = word.strip()
    for pattern, factor in _SCALES:
        if pattern.fullmatch(word):
            return factor
    return 1


def find_contacts(line: str) -> tuple[list[Contact], str]:
    """Phones, e-mails, Telegram handles and t.me links in a line; and the line without them."""
    found: list[tuple[int, Contact]] = []
    rest = line
    for match in _EMAIL.finditer(rest):
        found.append((match.start(), Contact("email", match.group().lower(), match.group())))
        rest = _blank(rest, *match.span())
    for match in TME_LINK.finditer(rest):
        found.append((match.start(), Contact("telegram", match.group(1).lower(), match.group())))
        rest = _blank(rest, *match.span())
    for match in _HANDLE.finditer(rest):
        found.append((match.start(), Contact("telegram", match.group(1).lower(), match.group())))
        rest = _blank(rest, *match.span())
    for match in _PHONE_INTL.finditer(rest):
        found.append((match.start(), Contact("phone", normalise_phone(match.group()), match.group())))
        rest = _blank(rest, *match.span())
    for match in _PHONE_LOCAL.finditer(rest):
        text = match.group().strip("()")
        digits = normalise_phone(text)
        if len(digits) < 7 or _THOUSANDS_ONLY.match(text) or _ISO_DATE.match(text):
            continue
        found.append((match.start(), Contact("phone", digits, match.group())))
        rest = _blank(rest, *match.span())
    for match in _SHORT_PHONE.finditer(rest):
        found.append((match.start(1), Contact("phone", normalise_phone(match.group(1)), match.group(1))))
        rest = _blank(rest, *match.span(1))
    return [contact for _, contact in sorted(found, key=lambda item: item[0])], rest


def find_links(line: str) -> tuple[list[Fact], str]:
    """Link addresses in a line (markdown targets, bare URLs, bare domains); the line without them.

    A markdown link is replaced by its text, which the user reads (its numbers count)."""
    links: list[Fact] = []

    def markdown(match: re.Match) -> str:
        links.append(Fact("link", normalise_link(match.group(2)), match.group(2)))
        return match.group(1)

    rest = _MD_LINK.sub(markdown, line)
    for pattern in (_URL, _DOMAIN):
        for match in pattern.finditer(rest):
            shown = match.group().rstrip(".,;:!?")
            links.append(Fact("link", normalise_link(shown), shown))
            rest = _blank(rest, match.start(), match.start() + len(shown))
    return links, rest


def find_numbers(line: str) -> list[Fact]:
    """Numbers in a line without links and contacts, normalised (see the module's docstring)."""
    text = _STEP_MARKER.sub("", line.translate(_SUPERSCRIPTS))
    numbers = []
    for match in _NUMBER.finditer(text):
        shown = match.group().strip()
        if match.group("dmy"):
            numbers += [Fact("number", str(int(match.group("d1"))), shown),
                        Fact("number", match.group("y1"), shown)]
        elif match.group("iso"):
            numbers += [Fact("number", match.group("y2"), shown),
                        Fact("number", str(int(match.group("d2"))), shown)]
        elif match.group("pre"):
            canonical = PREFIXES.get(match.group("letters").casefold())
            number = str(int(match.group("pnum")))
            numbers.append(Fact("number", f"{canonical}-{number}" if canonical else number, shown))
        else:
            value = _plain_number(match.group("num"), match.group("sep"))
            if value is None:
                continue
            if match.group("scale"):
                value *= _scale_of(match.group("scale"))
            suffix = SUFFIXES.get((match.group("suffix") or "").casefold())
            number = _format(value)
            numbers.append(Fact("number", f"{suffix}-{number}" if suffix else number, shown))
    return numbers


def line_facts(line: str) -> tuple[list[Fact], list[Contact]]:
    """Everything comparable in one line: links and numbers as facts, and the contacts."""
    links, rest = find_links(line)
    contacts, rest = find_contacts(rest)
    for link in links:  # a t.me link is a contact too
        if match := TME_LINK.match(link.value):
            contacts.append(Contact("telegram", match.group(1).lower(), link.shown))
    contact_facts = [Fact("contact", f"{c.kind}:{c.value}", c.shown) for c in contacts]
    return links + contact_facts + find_numbers(rest), contacts
