"""Callback data: short, versionless strings that any old button can still be parsed from.

Every kind fits Telegram's 64-byte limit because topic keys are at most 32 ASCII characters.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bot import LOCALES

CALLBACK_DATA_LIMIT = 64
MAIN_MENU = "m"
LANGUAGE_PICKER = "L"
NOOP = "n"
ASK = "a"
ASK_WITH_QUERY = "aq"
ERASE_CONFIRMED = "del"
MY_REQUESTS = "r"
DEADLINES = "d"
COUNTRY_PICKER = "C"
HIDE = "x"  # the quick exit
ASK_URGENT = "u"  # "Talk to a person now": the ask form with the typed text, marked urgent
ALL_COUNTRIES = "ALL"  # in the country picker: no country, every topic shown

_KEY = r"[a-z0-9_]{1,32}"
# t|<key>[|<page>]; T|… is the same topic with every country's topics shown.
_TOPIC = re.compile(rf"^([tT])\|({_KEY})(?:\|(\d{{1,3}}))?$")
_COUNTRY = re.compile(r"^C\|([A-Z]{2,5})$")
_LANGUAGE = re.compile(rf"^l\|([A-Za-z_]{{2,8}})(?:\|({_KEY}))?$")
_ASK = re.compile(rf"^a\|({_KEY})$")
# f|<step>|<answer> answers a step of the ask form; f|back|<step>, f|keep|<step> and
# f|cancel|<step> go back from, keep the answer of, or leave the form at that step.
_FLOW = re.compile(r"^f\|(topic|country|asker|consent|back|keep|cancel)\|([A-Za-z0-9_-]{1,32})$")
_MY_CASE = re.compile(r"^r\|(\d{1,12})(?:\|(\d{1,3}))?$")
_WRITE = re.compile(r"^w\|(\d{1,12})$")
_STAFF = re.compile(r"^s\|(take|resolve|close)\|(\d{1,12})$")
_QUEUE = re.compile(r"^q\|(\d{1,4})$")
_STAFF_CASE = re.compile(r"^c\|(\d{1,12})(?:\|(\d{1,3}))?$")
# Staff: cn|<reply>|<request> shows a canned reply for a case, cs|<reply>|<request>|<version>
# sends it as is (version: when the reply was last changed, so an edited one is not sent blind).
_CANNED = re.compile(r"^cn\|(\d{1,12})\|(\d{1,12})$")
_CANNED_SEND = re.compile(r"^cs\|(\d{1,12})\|(\d{1,12})\|(\d{1,12})$")
# The user: sf|up|<request>, sf|down|<request> answer "did it help?"; sf|skip|… skips the comment.
_SATISFACTION = re.compile(r"^sf\|(up|down|skip)\|(\d{1,12})$")
# My deadlines: d|<action>[|<value>][|<number>], e.g. d|p|entry|20261112 (a day picked).
_DEADLINES = re.compile(r"^d\|([a-z]{1,8})(?:\|([A-Za-z0-9_]{1,32}))?(?:\|(\d{1,8}))?$")


@dataclass(frozen=True)
class Callback:
    # main, topic, language, picker, noop, ask, flow, mine, case, write, staff, queue, staffcase,
    # canned, satisfaction, deadlines, announce, announcement, announcements
    kind: str
    key: str | None = None
    page: int = 0
    locale: str | None = None
    value: str | None = None
    id: int | None = None
    ref: int | None = None  # a second id (the canned reply)
    version: int = 0


def _checked(data: str) -> str:
    if len(data.encode("utf-8")) > CALLBACK_DATA_LIMIT:
        raise ValueError(f"callback data over {CALLBACK_DATA_LIMIT} bytes: {data!r}")
    return data


def topic(key: str, page: int = 0, all_countries: bool = False) -> str:
    kind = "T" if all_countries else "t"
    return _checked(f"{kind}|{key}|{page}" if page else f"{kind}|{key}")


def country(code: str) -> str:
    return _checked(f"C|{code}")


def language(locale: str, then_key: str | None = None) -> str:
    return _checked(f"l|{locale}|{then_key}" if then_key else f"l|{locale}")


def ask(key: str | None = None) -> str:
    return _checked(f"a|{key}" if key else ASK)


def flow(field: str, value: str) -> str:
    return _checked(f"f|{field}|{value}")


def my_case(request_id: int, page: int = 0) -> str:
    return _checked(f"r|{request_id}|{page}" if page else f"r|{request_id}")


def write_to_case(request_id: int) -> str:
    return _checked(f"w|{request_id}")


def staff_action(action: str, request_id: int) -> str:
    return _checked(f"s|{action}|{request_id}")


def queue(page: int) -> str:
    return _checked(f"q|{page}")


def staff_case(request_id: int, page: int = 0) -> str:
    return _checked(f"c|{request_id}|{page}" if page else f"c|{request_id}")


def canned(reply_id: int, request_id: int) -> str:
    return _checked(f"cn|{reply_id}|{request_id}")


def canned_send(reply_id: int, request_id: int, version: int) -> str:
    return _checked(f"cs|{reply_id}|{request_id}|{version}")


def satisfaction(answer: str, request_id: int) -> str:
    return _checked(f"sf|{answer}|{request_id}")


def deadlines(action: str, value: str | None = None, number: int | None = None) -> str:
    data = f"d|{action}"
    if value is not None:
        data += f"|{value}"
    if number is not None:
        data += f"|{number}"
    return _checked(data)


def _parse_request_kinds(data: str) -> Callback | None:
    if data == ASK:
        return Callback("ask")
    if data == ERASE_CONFIRMED:
        return Callback("erase")
    if data == ASK_WITH_QUERY:
        return Callback("ask", value="query")
    if data == ASK_URGENT:
        return Callback("ask", value="urgent")
    if data == MY_REQUESTS:
        return Callback("mine")
    if match := _ASK.match(data):
        return Callback("ask", key=match.group(1))
    if match := _FLOW.match(data):
        return Callback("flow", key=match.group(1), value=match.group(2))
    if match := _MY_CASE.match(data):
        return Callback("case", id=int(match.group(1)), page=int(match.group(2) or 0))
    if match := _WRITE.match(data):
        return Callback("write", id=int(match.group(1)))
    if match := _STAFF.match(data):
        return Callback("staff", value=match.group(1), id=int(match.group(2)))
    if match := _QUEUE.match(data):
        return Callback("queue", page=int(match.group(1)))
    if match := _STAFF_CASE.match(data):
        return Callback("staffcase", id=int(match.group(1)), page=int(match.group(2) or 0))
    if match := _CANNED.match(data):
        return Callback("canned", value="show", ref=int(match.group(1)), id=int(match.group(2)))
    if match := _CANNED_SEND.match(data):
        return Callback("canned", value="send", ref=int(match.group(1)), id=int(match.group(2)),
                        version=int(match.group(3)))
    if match := _SATISFACTION.match(data):
        return Callback("satisfaction", value=match.group(1), id=int(match.group(2)))
    return None


def parse(data: str | None) -> Callback | None:
    """The button's meaning, or None for data this bot never made (forged or from elsewhere)."""
    if not data:
        return None
    if data == MAIN_MENU:
        return Callback("main")
    if data == LANGUAGE_PICKER:
        return Callback("picker")
    if data == NOOP:
        return Callback("noop")
    if match := _TOPIC.match(data):
        return Callback("topic", key=match.group(2), page=int(match.group(3) or 0),
                        value="all" if match.group(1) == "T" else None)
    if data == COUNTRY_PICKER:
        return Callback("country")
    if match := _COUNTRY.match(data):
        return Callback("country", value=match.group(1))
    if data == HIDE:
        return Callback("hide")
    if (match := _LANGUAGE.match(data)) and match.group(1) in LOCALES:
        return Callback("language", locale=match.group(1), key=match.group(2))
    if data == DEADLINES:
        return Callback("deadlines", key="open")
    if match := _DEADLINES.match(data):
        number = match.group(3)
        return Callback("deadlines", key=match.group(1), value=match.group(2),
                        id=int(number) if number else None)
    if parsed := _parse_announcement_kinds(data):
        return parsed
    return _parse_request_kinds(data)


# Announcements: an|<action>[|<value>] composes one (admins), ac|<action>|<id> steers one,
# au|… and at|<topic> are the buttons users get with one.
STOP_ANNOUNCEMENTS = "au|stop"  # on an announcement: answered with a new message
ANNOUNCEMENTS_OFF = "au|off"  # on the /announcements screen: edited in place
ANNOUNCEMENTS_ON = "au|on"
_ANNOUNCE = re.compile(r"^an\|([a-z]{1,8})(?:\|([A-Za-z0-9_-]{1,32}))?$")
_ANNOUNCEMENT = re.compile(r"^ac\|(view|pause|resume|cancel|approve|reject)\|(\d{1,12})$")
_ANNOUNCED_TOPIC = re.compile(rf"^at\|({_KEY})$")


def announce(action: str, value: str | None = None) -> str:
    return _checked(f"an|{action}|{value}" if value is not None else f"an|{action}")


def announcement(action: str, announcement_id: int) -> str:
    return _checked(f"ac|{action}|{announcement_id}")


def announced_topic(key: str) -> str:
    return _checked(f"at|{key}")


def _parse_announcement_kinds(data: str) -> Callback | None:
    if data in (STOP_ANNOUNCEMENTS, ANNOUNCEMENTS_OFF, ANNOUNCEMENTS_ON):
        return Callback("announcements", value=data.split("|")[1])
    if match := _ANNOUNCED_TOPIC.match(data):
        return Callback("announcements", value="topic", key=match.group(1))
    if match := _ANNOUNCE.match(data):
        return Callback("announce", value=match.group(1), key=match.group(2))
    if match := _ANNOUNCEMENT.match(data):
        return Callback("announcement", value=match.group(1), id=int(match.group(2)))
    return None
