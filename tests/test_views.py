"""Every real topic renders within Telegram's limits, in every locale; user text is escaped."""
from __future__ import annotations

import pytest

from bot import LOCALES
from bot.content.loader import load_content
from bot.content.markup import TELEGRAM_TEXT_LIMIT, telegram_length
from bot.i18n import Catalogs
from bot.views import callbacks, screens
from tests.conftest import ROOT

CONTENT = load_content(ROOT / "content").content
CATALOGS = Catalogs(ROOT / "locales")


def all_buttons(screen):
    return [b for row in screen.keyboard.inline_keyboard for b in row]


@pytest.mark.parametrize("locale", LOCALES)
def test_every_topic_page_fits_and_every_button_is_valid(locale):
    t = CATALOGS.get(locale)
    for key in CONTENT.topics:
        pages = screens.topic_pages(CONTENT, t, locale, key)
        for number in range(len(pages)):
            screen = screens.topic_screen(CONTENT, t, locale, key, number)
            assert 0 < telegram_length(screen.text) <= TELEGRAM_TEXT_LIMIT
            for button in all_buttons(screen):
                assert 0 < len(button.callback_data.encode()) <= callbacks.CALLBACK_DATA_LIMIT
                assert callbacks.parse(button.callback_data) is not None
                assert 0 < len(button.text) <= 64


def test_callback_data_for_every_real_key_and_language_fits():
    for key in CONTENT.topics:
        assert callbacks.parse(callbacks.topic(key, 999)).key == key
        for locale in LOCALES:
            parsed = callbacks.parse(callbacks.language(locale, key))
            assert (parsed.locale, parsed.key) == (locale, key)


def test_oversized_callback_data_is_refused():
    with pytest.raises(ValueError):
        callbacks.topic("k" * 70)


def test_titles_and_sources_are_escaped(tmp_path):
    from tests.test_content import write_content

    root = write_content(tmp_path, files={
        "en/visas.md": "---\ntitle: Visas <b>&</b>\n---\nIntro\n",
        "en/russia.md": "---\ntitle: R <i>\n---\nBody\n"})
    content = load_content(root).content
    text = screens.topic_screen(content, CATALOGS.get("en"), "en", "russia").text
    assert "Visas &lt;b&gt;&amp;&lt;/b&gt;" in text
    assert "<b>R &lt;i&gt;</b>" in text


def test_paginate_never_exceeds_budget_even_for_one_huge_block():
    block = "x<b>y</b> " + "word " * 2000
    pages = screens.paginate((block, "tail"), 1000)
    assert len(pages) > 2
    assert all(telegram_length(page) <= 1000 for page in pages)
    assert pages[-1].endswith("tail")


def test_language_picker_lists_four_languages_and_carries_deep_link():
    translators = [CATALOGS.get(locale) for locale in ("en", "uz", "uz_Cyrl", "ru")]
    screen = screens.language_picker(translators, then_key="visas")
    assert [b.text for b in all_buttons(screen)] == ["English", "Oʻzbekcha (lotin)",
                                                     "Ўзбекча (кирилл)", "Русский"]
    assert [b.callback_data for b in all_buttons(screen)][0] == "l|en|visas"
