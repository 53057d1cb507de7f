"""The catalogs are complete in all four locales and match the code's message ids."""
from __future__ import annotations

import re
import string
import tokenize

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot import LOCALES
from bot.i18n import Catalogs, guess_locale, po_path
from tests.conftest import ROOT

LOCALES_DIR = ROOT / "locales"


def catalog(locale):
    with po_path(LOCALES_DIR, locale).open("rb") as handle:
        return read_po(handle, locale=locale)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def code_message_ids() -> set[str]:
    # The console's templates call t() too (babel.cfg extracts them for `make catalogs`).
    found = extract_from_dir(str(ROOT / "bot"), method_map=[("**.py", "python"),
                                                            ("console/templates/**.html", "jinja2")],
                             keywords={"t": None, "N_": None, "plural": (1, 2)})
    ids = set()
    for _, _, message, _, _ in found:
        ids.update(message if isinstance(message, tuple) else (message,))
    return ids


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_is_complete_without_fuzzy_and_placeholders_match(locale):
    problems = []
    for message in catalog(locale):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {ids[0]!r}")
        if not all(strings):
            problems.append(f"untranslated: {ids[0]!r}")
        for text in strings:
            if text and placeholders(text) != placeholders(ids[0]):
                problems.append(f"placeholders differ: {ids[0]!r} → {text!r}")
    assert problems == []


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_in_code_is_in_the_catalog(locale):
    in_catalog = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog(locale) if m.id}
    assert code_message_ids() - in_catalog == set()


def test_code_calls_translator_with_literals_only():
    # Babel cannot extract a message id hidden inside an f-string.
    offenders = []
    for path in (ROOT / "bot").rglob("*.py"):
        with path.open("rb") as handle:
            for token in tokenize.tokenize(handle.readline):
                is_fstring = token.type == tokenize.STRING and token.string[:2].lower() in ("f'", 'f"')
                if is_fstring and re.search(r"""\bt\(["']""", token.string):
                    offenders.append(f"{path.name}:{token.start[0]}")
    assert offenders == []


def test_translators_translate_and_fall_back_to_default():
    catalogs = Catalogs(LOCALES_DIR, default_locale="uz")
    assert catalogs.get("ru")("Main menu") == "Главное меню"
    assert catalogs.get("uz_Cyrl")("Main menu") == "Бош меню"
    assert catalogs.get("xx")("Main menu") == "Bosh menyu"
    assert catalogs.get("en")("Reviewed on {date}", date="1 May") == "Reviewed on 1 May"
    assert catalogs.get("en")("An id nobody translated") == "An id nobody translated"


def test_uzbek_catalog_uses_official_apostrophes():
    for message in catalog("uz"):
        if message.id and isinstance(message.string, str):
            assert not re.search(r"[’‘'`]", message.string), message.string


@pytest.mark.parametrize("code, expected", [("uz", "uz"), ("ru", "ru"), ("en-GB", "en"),
                                            ("kk", "ru"), ("de", "uz"), (None, "uz")])
def test_language_code_guess(code, expected):
    assert guess_locale(code, "uz") == expected
