"""The country first: asked once after the language (skippable, changeable from the menu) or
taken from a request; menus show its topics first and hide other countries', "All countries"
shows them; search ranks its topics higher; /mydata shows it and /delete erases it."""
from __future__ import annotations

import json

import pytest

from bot.content.countries import country_sections, visible_children
from bot.content.loader import load_content
from bot.db.models import User
from bot.i18n import Catalogs
from bot.search.index import SearchIndex
from bot.views import callbacks, screens
from tests.conftest import ROOT
from tests.test_requests_flow import (USER, buttons, desk, file_request, press, rows,  # noqa: F401
                                      say)

CONTENT = load_content(ROOT / "content").content
INDEX = SearchIndex(CONTENT)
RU = Catalogs(ROOT / "locales").get("ru")
COUNTRY_SECTIONS = ["visas_russia", "visas_kazakhstan", "visas_korea", "visas_turkey", "visas_uk"]


def datas(call) -> list[str]:
    return [data for _, data in buttons(call)]


# --- pure: which topics, in which order --------------------------------------------------------

@pytest.mark.parametrize("country, own", [("RU", "visas_russia"), ("KZ", "visas_kazakhstan"),
                                          ("KR", "visas_korea"), ("TR", "visas_turkey"),
                                          ("GB", "visas_uk")])
def test_a_section_shows_its_countrys_topics_first_and_hides_the_others(country, own):
    shown, hidden = visible_children(CONTENT, "visas", country)
    assert shown[0] == own
    assert set(hidden) == set(COUNTRY_SECTIONS) - {own}
    assert "visas_other_countries" in shown and "visas_costs" in shown  # countries: [] stay
    assert country_sections(CONTENT, country) == (own,)


def test_without_a_country_or_for_one_without_topics_nothing_of_theirs_is_hidden_wrongly():
    shown, hidden = visible_children(CONTENT, "visas", None)
    assert shown == CONTENT.topics["visas"].children and hidden == ()
    shown, hidden = visible_children(CONTENT, "visas", "DE")  # no topics of its own
    assert set(hidden) == set(COUNTRY_SECTIONS) and "visas_other_countries" in shown
    # A section about another country, opened anyway, lists everything in it.
    assert visible_children(CONTENT, "visas_russia", "KZ") == \
        (CONTENT.topics["visas_russia"].children, ())


@pytest.mark.parametrize("query, country, expected", [
    ("разрешение на работу", "KZ", "kz_work_permit"),
    ("разрешение на работу", "TR", "turkey_work_permit"),
    ("work permit", "RU", "russia_patent"),
    ("work permit", "KR", "korea_eps_conditions"),
    ("регистрация", "KZ", "kz_stay"),
    ("регистрация", "RU", "russia_registration"),
    ("ruxsatnoma", "KZ", "kz_work_permit"),
    ("how long can I stay", "RU", "russia_stay"),
    ("how long can I stay", "KZ", "kz_stay"),
    ("Salom. Akam Rossiyaga bir hafta oldin bordi, hozircha tanishlarnikida turibdi. Roʻyxatdan "
     "oʻtish uchun necha kun bor va buni qayerda qilsa boʻladi?", "RU", "russia_registration"),
])
def test_search_ranks_the_persons_country_first(query, country, expected):
    assert INDEX.search(query, 1, country=country)[0].key == expected


def test_search_still_finds_another_countrys_topic_when_asked_for_it():
    # A person in Türkiye who asks about Russia's patent gets it.
    assert INDEX.search("patent", 1, country="TR")[0].key.startswith("russia_patent")


def test_views_of_the_menu_and_sections_follow_the_country():
    t = RU
    menu = screens.main_menu(CONTENT, t, "ru", "KZ")
    first = menu.keyboard.inline_keyboard[0][0]
    assert (first.text, first.callback_data) == ("🇰🇿 Казахстан", "t|visas_kazakhstan")
    assert menu.keyboard.inline_keyboard[-1][1].text == "📍 Казахстан"
    assert screens.main_menu(CONTENT, t, "ru").keyboard.inline_keyboard[-1][1].text == "📍 Ваша страна"
    section = screens.topic_screen(CONTENT, t, "ru", "visas", 0, "KZ")
    data = [b.callback_data for row in section.keyboard.inline_keyboard for b in row]
    assert data[0] == "t|visas_kazakhstan" and "t|visas_russia" not in data
    assert "T|visas" in data  # All countries
    everything = screens.topic_screen(CONTENT, t, "ru", "visas", 0, "KZ", all_countries=True)
    data = [b.callback_data for row in everything.keyboard.inline_keyboard for b in row]
    assert {f"t|{key}" for key in COUNTRY_SECTIONS} <= set(data) and "T|visas" not in data


# --- the bot -----------------------------------------------------------------------------------

async def test_the_country_is_asked_once_after_the_language_and_can_be_skipped(desk):
    await say(desk, "/start")
    await press(desk, callbacks.language("ru"))
    picker = desk.request.last_screen()
    assert RU("Which country are you in, or going to?") in picker.params["text"]
    assert callbacks.country("RU") in datas(picker) and callbacks.MAIN_MENU in datas(picker)
    assert (RU("Skip ›"), callbacks.MAIN_MENU) in buttons(picker)
    await press(desk, callbacks.MAIN_MENU)  # skipped
    assert (await rows(desk, User))[0].country is None
    await say(desk, "/language")
    await press(desk, callbacks.language("en"))  # not the first time: straight to the menu
    assert "Main menu" in desk.request.last_screen().params["text"]


async def test_a_chosen_country_leads_the_menu_and_hides_the_others(desk):
    await say(desk, "/start")
    await press(desk, callbacks.language("ru"))
    await press(desk, callbacks.country("KZ"))
    menu = desk.request.last_screen()
    assert datas(menu)[0] == "t|visas_kazakhstan"
    assert "Казахстан" in menu.params["text"]  # "its topics come first"
    assert (await rows(desk, User))[0].country == "KZ"
    await press(desk, callbacks.topic("visas"))
    section = datas(desk.request.last_screen())
    assert section[0] == "t|visas_kazakhstan" and "t|visas_russia" not in section
    await press(desk, callbacks.topic("visas", all_countries=True))
    assert "t|visas_russia" in datas(desk.request.last_screen())
    # Another user in another country gets their own screens (the memo key has the country).
    await say(desk, "/start", user_id=USER + 1)
    await press(desk, callbacks.language("ru"), USER + 1)
    await press(desk, callbacks.country("RU"), USER + 1)
    await press(desk, callbacks.topic("visas"), USER + 1)
    other = datas(desk.request.last_screen())
    assert other[0] == "t|visas_russia" and "t|visas_kazakhstan" not in other
    await press(desk, callbacks.topic("visas"))
    assert datas(desk.request.last_screen())[0] == "t|visas_kazakhstan"


async def test_the_country_is_changed_from_the_menu_and_all_countries_can_be_shown(desk):
    await say(desk, "/start")
    await press(desk, callbacks.language("ru"))
    await press(desk, callbacks.country("TR"))
    assert (RU("🌐 Language"), callbacks.LANGUAGE_PICKER) in buttons(desk.request.last_screen())
    await press(desk, callbacks.COUNTRY_PICKER)
    picker = desk.request.last_screen()
    assert ("✓ 🇹🇷 Турция", callbacks.country("TR")) in buttons(picker)
    assert (RU("‹ Back"), callbacks.MAIN_MENU) in buttons(picker)
    await press(desk, callbacks.country(callbacks.ALL_COUNTRIES))
    assert not any(d.startswith("t|visas_") for d in datas(desk.request.last_screen()))
    await press(desk, callbacks.topic("visas"))
    assert {f"t|{key}" for key in COUNTRY_SECTIONS} <= set(datas(desk.request.last_screen()))
    # Chosen, even as "all countries", it is not overwritten by a request.
    await file_request(desk)
    assert (await rows(desk, User))[0].country == callbacks.ALL_COUNTRIES


async def test_search_ranks_the_users_country_first(desk):
    await say(desk, "/start")
    await press(desk, callbacks.language("ru"))
    await press(desk, callbacks.country("KZ"))
    await say(desk, "регистрация")
    assert datas(desk.request.last_screen())[0] == "t|kz_stay"
    await press(desk, callbacks.COUNTRY_PICKER)
    await press(desk, callbacks.country("RU"))
    await say(desk, "регистрация")
    assert datas(desk.request.last_screen())[0] == "t|russia_registration"


async def test_the_country_is_taken_from_a_request_and_shown_and_erased(desk):
    await file_request(desk)  # skips the question after the language; the request is about RU
    assert (await rows(desk, User))[0].country == "RU"
    await say(desk, "/menu")
    assert datas(desk.request.last_screen())[0] == "t|visas_russia"
    document = json.loads(await desk.services.privacy.export_user(USER))
    assert document["settings"]["country"] == "RU"
    await say(desk, "/delete")
    await press(desk, callbacks.ERASE_CONFIRMED)
    assert await rows(desk, User) == []
