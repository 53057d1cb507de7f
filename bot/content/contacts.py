"""Contacts only from [V]: every phone, e-mail, @handle or t.me link a topic shows must be listed
in `content/contacts.yaml`, which holds only contacts the facts sheet grades [V], each with what
it is, its source and the date it was checked.

contacts.yaml:

    contacts:
      - value: "licensing@fairworkagency.gov.uk"
        kind: email            # phone | email | telegram | web
        what: "…"              # whose contact it is, in plain words
        source: "…"            # where the sheet found it
        grade: V               # only V is accepted
        checked: 2026-12-01    # the date it was checked
        also: ["…"]            # optional: other spellings of the same contact

Phones compare as digits, e-mails and handles case-insensitively; `web` entries are listed for
writers and not enforced here (links are compared across locales by the parity rule).
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml

from bot.content.facts import TME_LINK, line_facts, normalise_phone
from bot.content.loader import SAFE_LOADER, Problem, line_of
from bot.content.parity import readable_lines
from bot.content.written import Written

CONTACTS_FILE = "contacts.yaml"
KINDS = ("phone", "email", "telegram", "web")
REQUIRED = ("value", "kind", "what", "source", "grade", "checked")


def normalise_contact(kind: str, value: str) -> str:
    if kind == "phone":
        return normalise_phone(value)
    if kind == "telegram":
        value = value.strip()
        if match := TME_LINK.search(value):
            value = match.group(1)
        return value.lstrip("@").lower()
    return value.strip().lower()


def load_verified(content_dir: Path) -> tuple[set[tuple[str, str]], list[Problem]]:
    """The verified contacts as (kind, normalised value), and the problems of the file itself.
    A missing file means no contact is verified."""
    path = content_dir / CONTACTS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return set(), []
    lines = text.splitlines()
    try:
        data = yaml.load(text, Loader=SAFE_LOADER) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return set(), [Problem(path, (mark.line + 1) if mark else 1, f"not valid YAML: {exc}")]
    entries = data.get("contacts") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return set(), [Problem(path, 1, "expected a mapping with a 'contacts' list")]
    verified: set[tuple[str, str]] = set()
    problems = []
    for entry in entries:
        value = entry.get("value") if isinstance(entry, dict) else None
        line = line_of(lines, str(value)) if value else 1
        if not isinstance(entry, dict):
            problems.append(Problem(path, 1, f"each contact is a mapping: {entry!r}"[:200]))
            continue
        missing = [field for field in REQUIRED if entry.get(field) in (None, "")]
        if missing:
            problems.append(Problem(path, line, f"contact {value!r} needs {', '.join(missing)}"))
            continue
        if entry["kind"] not in KINDS:
            problems.append(Problem(path, line, f"contact {value!r}: kind must be one of {', '.join(KINDS)}"))
            continue
        if str(entry["grade"]).upper() != "V":
            problems.append(Problem(path, line, f"contact {value!r} is graded {entry['grade']!r}: "
                                                "only contacts the facts sheet grades [V] may be listed"))
            continue
        if not isinstance(entry["checked"], date):
            problems.append(Problem(path, line, f"contact {value!r}: 'checked' must be a date (YYYY-MM-DD)"))
            continue
        for spelling in [entry["value"], *(entry.get("also") or [])]:
            verified.add((entry["kind"], normalise_contact(entry["kind"], str(spelling))))
    return verified, problems


def contact_problems(content_dir: Path, written: Written) -> list[Problem]:
    verified, problems = load_verified(content_dir)
    for text in written.texts:
        for line in readable_lines(text.path)[0]:
            for contact in line_facts(line.text)[1]:
                if (contact.kind, contact.value) in verified:
                    continue
                problems.append(Problem(
                    text.path, line.number,
                    f"contact {contact.shown!r} ({contact.kind}) is not in {CONTACTS_FILE}: publish "
                    "only contacts the facts sheet grades [V], listed there with the date checked"))
    return problems
