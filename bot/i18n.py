"""Gettext catalogs read straight from `locales/<locale>/LC_MESSAGES/messages.po`.

The `.po` files are compiled in memory at start-up, so neither users nor staff run a compile
step after editing a translation.
"""
from __future__ import annotations

import gettext
import io
import logging
from dataclasses import dataclass
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot import LOCALES

log = logging.getLogger(__name__)

DOMAIN = "messages"

# Telegram's language_code is an IETF tag; it cannot tell Latin from Cyrillic Uzbek.
_LANGUAGE_CODE_GUESS = {"uz": "uz", "ru": "ru", "en": "en", "kk": "ru", "ky": "ru", "tg": "ru"}


def N_(message: str) -> str:
    """Marks a message id for extraction where it is translated later, per locale."""
    return message


def guess_locale(language_code: str | None, default: str) -> str:
    if not language_code:
        return default
    return _LANGUAGE_CODE_GUESS.get(language_code.split("-")[0].lower(), default)


def po_path(locales_dir: Path, locale: str) -> Path:
    return locales_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def _compile(po_file: Path) -> gettext.GNUTranslations:
    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale=po_file.parent.parent.name)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@dataclass(frozen=True)
class Translator:
    """Translates UI strings for one locale; `{name}` placeholders are filled by keyword."""

    locale: str
    _translations: gettext.NullTranslations

    def __call__(self, message: str, /, **values: object) -> str:
        text = self._translations.gettext(message)
        return text.format(**values) if values else text

    def plural(self, singular: str, plural: str, n: int, /, **values: object) -> str:
        return self._translations.ngettext(singular, plural, n).format(n=n, **values)


class Catalogs:
    """All four locales' translators; English message ids are the fallback."""

    def __init__(self, locales_dir: Path, default_locale: str = "uz") -> None:
        self.default_locale = default_locale
        self._translators: dict[str, Translator] = {}
        for locale in LOCALES:
            path = po_path(locales_dir, locale)
            translations: gettext.NullTranslations
            if path.exists():
                translations = _compile(path)
            else:
                log.warning("no catalog for %s at %s: English text will be shown", locale, path)
                translations = gettext.NullTranslations()
            self._translators[locale] = Translator(locale, translations)

    def get(self, locale: str | None) -> Translator:
        return self._translators.get(locale or "", self._translators[self.default_locale])

    def all(self) -> dict[str, Translator]:
        return dict(self._translators)
