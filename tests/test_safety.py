"""A cry for help is not a search: the distress phrases of content/safety.yaml, tried with real
phrasings in every locale and both Uzbek scripts (and ones that must not trigger); the bot's
answer ("Talk to a person now", the help topics, the quick exit); urgent cases first for staff."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.loader import load_content
from bot.db.models import HelpRequest, Interaction
from bot.safety.rules import load_safety, safety_problems
from bot.text.translit import to_cyrillic
from bot.views import callbacks
from tests.conftest import ROOT
from tests.test_requests_flow import (ADMIN, STAFF_CHAT, USER, buttons, card_call, desk,  # noqa: F401
                                      file_request, press, rows, say)

CONTENT = load_content(ROOT / "content").content
RULES = load_safety(ROOT / "content", set(CONTENT.topics))

TRIGGERS = [
    # Russian
    ("ru", "Помогите, мы в отчаянии", {"despair"}),
    ("ru", "работодатель забрал паспорт и не отдаёт", {"documents"}),
    ("ru", "у нас отобрали паспорта и не выпускают с территории", {"documents", "movement"}),
    ("ru", "хозяин держит наши документы, говорит отдаст после сезона", {"documents"}),
    ("ru", "Паспорт у бригадира, уже месяц не отдает", {"documents"}),
    ("ru", "нас заперли на складе, работаем по 14 часов", {"movement"}),
    ("ru", "не отпускают домой говорят мы должны за дорогу", {"movement"}),
    ("ru", "бригадир угрожает что сдаст в полицию если уйдём", {"threats"}),
    ("ru", "нас бьют и не платят", {"threats"}),
    ("ru", "работаем бесплатно уже 2 месяца ни копейки не дали", {"unpaid_work"}),
    ("ru", "вербовщик говорит надо отработать долг за билет", {"debt"}),
    ("ru", "SOS помогите нам срочно", {"despair"}),
    ("ru", "Паспорт отобрали, зарплату не платят, что делать", {"documents", "wages"}),
    ("ru", "заставляют работать без выходных и не отпускают", {"trafficking", "movement"}),
    ("ru", "на стройке забрали паспрт", {"documents"}),
    ("ru", "Здравствуйте. Мы с братом приехали в Москву по приглашению знакомого, он обещал "
           "работу на складе. Теперь он держит наши паспорта, денег не платит уже два месяца "
           "и говорит, что мы ему должны за квартиру. Что нам делать?", {"documents", "wages"}),
    ("ru", "pasport zabrali ne otdayut", {"documents"}),
    # English
    ("en", "they took my passport and won't let me leave", {"documents", "movement"}),
    ("en", "my employer keeps my passport and hasn't paid me for 3 months", {"documents", "wages"}),
    ("en", "we are locked in the dormitory and cannot go out", {"movement"}),
    ("en", "the recruiter says we owe him 3000 dollars for the ticket", {"debt"}),
    ("en", "please help, we are desperate", {"despair"}),
    ("en", "the boss threatens to call the police if we complain", {"threats"}),
    ("en", "we work for free, no salary for 4 months", {"unpaid_work"}),
    ("en", "they forced us to work 16 hours a day", {"trafficking"}),
    ("en", "SOS", {"despair"}),
    ("en", "my boss has our passports and says we cant leave", {"documents"}),
    ("en", "dont let us go home", {"movement"}),
    # Uzbek, Latin
    ("uz", "pasportimni olib qoʻyishdi, pul bermayapti, chiqarishmayapti",
     {"documents", "wages", "movement"}),
    ("uz", "pasportimni olib qoyishdi pul bermayapti", {"documents", "wages"}),
    ("uz", "ish beruvchi pasportimni bermayapti", {"documents"}),
    ("uz", "xojayin hujjatlarni olib qoydi", {"documents"}),
    ("uz", "bizni qamab qoʻyishdi, chiqarishmayapti", {"movement"}),
    ("uz", "uyga ketishga qoʻymayapti", {"movement"}),
    ("uz", "vositachiga qarzdormiz deb ishlatyapti", {"debt"}),
    ("uz", "bizni urishyapti va qoʻrqitishyapti", {"threats"}),
    ("uz", "3 oydan beri tekinga ishlayapmiz", {"unpaid_work"}),
    ("uz", "iltimos qutqaring bizni", {"despair"}),
    ("uz", "odam savdosi qurboni boʻldik", {"trafficking"}),
    ("uz", "pasportim xoʻjayinda, oylik toʻlamayapti", {"documents", "wages"}),
    ("uz", "Assalomu alaykum. Men Rossiyada qurilishda ishlayman. Brigadir hammamizning "
           "pasportlarini olib qoʻydi, 2 oydan beri oylik bermayapti, ketaman desam "
           "qoʻrqityapti. Nima qilay?", {"documents", "wages", "threats"}),
    # Uzbek, Cyrillic (and typed on a Russian keyboard)
    ("uz_Cyrl", "паспортимни олиб қўйишди, пул бермаяпти, чиқаришмаяпти",
     {"documents", "wages", "movement"}),
    ("uz_Cyrl", "хўжайин паспортни бермаяпти", {"documents"}),
    ("uz_Cyrl", "бизни қамаб қўйишди", {"movement"}),
    ("uz_Cyrl", "паспортимни олиб куйишди", {"documents"}),
    ("uz_Cyrl", "тахдид килишяпти", {"threats"}),
    ("uz_Cyrl", "иш ҳақи бермаяпти ва ҳужжатларни ушлаб турибди", {"documents", "wages"}),
    ("uz_Cyrl", "тўрт ойдан бери текинга ишлатишяпти", {"unpaid_work"}),
    ("uz_Cyrl", "уйга кетишга қўймаяпти", {"movement"}),
    ("uz_Cyrl", "илтимос қутқаринглар", {"despair"}),
]

QUIET = [
    ("ru", "как долго можно быть в россии без регистрации"),
    ("ru", "я забрал паспорт в консульстве"),
    ("ru", "потерял паспорт в москве"),
    ("ru", "паспорт украли что делать"),
    ("ru", "зарплату не платят"),
    ("ru", "Работодатель не платит зарплату 3 месяца"),
    ("ru", "помогите оформить патент"),
    ("ru", "спасибо большое за помощь"),
    ("ru", "как получить загранпаспорт"),
    ("ru", "долго ли делается патент"),
    ("ru", "у меня долг по налогам, выпустят ли из России"),
    ("ru", "меня не пускают в Россию, запрет на въезд"),
    ("ru", "где сдать экзамен на патент"),
    ("ru", "как отправить деньги домой"),
    ("en", "how long can I stay in Russia"),
    ("en", "my passport was stolen"),
    ("en", "I lost my passport, what do I do"),
    ("en", "how to save money and send it home"),
    ("en", "I want to leave Russia, what do I need"),
    ("en", "can I take my documents to the embassy"),
    ("en", "I keep my passport at home, is that ok"),
    ("en", "my brother has a passport, can he go to Korea"),
    ("en", "Where do I start?"),
    ("en", "my salary is low, how do I find a better job"),
    ("uz", "pasportimni yoʻqotdim"),
    ("uz", "yordam bering, patent qanday olinadi"),
    ("uz", "oylik kechikyapti"),
    ("uz", "qarz olsam boʻladimi"),
    ("uz", "uyga pul yuborish"),
    ("uz", "konsullik javob bermayapti"),
    ("uz", "Ish beruvchi shartnoma bermayapti"),
    ("uz", "Hujjatlarni qayerga topshiraman"),
    ("uz", "xavfsiz migratsiya haqida"),
    ("uz", "Sugʻurta haqida savol"),
    ("uz_Cyrl", "паспортимни йўқотдим"),
    ("uz_Cyrl", "патент қандай олинади"),
    ("uz_Cyrl", "суғурта ҳақида"),
    ("uz_Cyrl", "Қозоғистонга қандай бориш мумкин"),
]



def test_the_real_rules_have_no_problems():
    assert list(RULES.problems) == []
    assert {"rights_trafficking", "rights_documents", "rights_passport_taken",
            "rights_unpaid_wages"} <= RULES.quick_exit_topics


@pytest.mark.parametrize("locale, text, expected", TRIGGERS, ids=[t[1][:40] for t in TRIGGERS])
def test_a_cry_for_help_is_recognised(locale, text, expected):
    distress = RULES.detect(text)
    assert distress is not None, text
    assert expected <= set(distress.categories), distress


@pytest.mark.parametrize("locale, text", QUIET, ids=[t[1][:40] for t in QUIET])
def test_an_ordinary_question_is_not_a_cry_for_help(locale, text):
    assert RULES.detect(text) is None


@pytest.mark.parametrize("locale, text, expected", [t for t in TRIGGERS if t[0] == "uz"],
                         ids=[t[1][:40] for t in TRIGGERS if t[0] == "uz"])
def test_every_uzbek_phrasing_is_recognised_in_cyrillic_too(locale, text, expected):
    distress = RULES.detect(to_cyrillic(text))
    assert distress is not None and expected <= set(distress.categories), to_cyrillic(text)


def test_every_locale_and_both_scripts_are_tried():
    assert {locale for locale, _, _ in TRIGGERS} == {"en", "ru", "uz", "uz_Cyrl"}
    assert {locale for locale, _ in QUIET} == {"en", "ru", "uz", "uz_Cyrl"}


def test_the_help_leads_with_the_trafficking_and_documents_topics():
    distress = RULES.detect("pasportimni olib qoʻyishdi, pul bermayapti, chiqarishmayapti")
    assert distress.topics[:2] == ("rights_trafficking", "rights_passport_taken")
    assert "rights_unpaid_wages" in distress.topics


def test_a_weak_signal_alone_is_not_enough_but_two_are():
    assert RULES.detect("зарплату не платят") is None
    assert RULES.detect("боюсь, зарплату не платят") is not None


SAFETY_YAML = """\
quick_exit: [russia, nowhere]
distress:
  categories:
    - name: held
      alone: maybe
      topics: [russia, gone]
      phrases:
        en: ["took my passport", "*bad"]
        xx: ["a"]
"""


def test_content_check_reports_each_problem_of_the_file_with_its_line(tmp_path):
    (tmp_path / "safety.yaml").write_text(SAFETY_YAML, encoding="utf-8")
    found = {(p.line, p.message) for p in safety_problems(tmp_path, {"russia"})}
    assert (1, "quick_exit: topic 'nowhere' is not in topics.yaml") in found
    assert (5, "held: 'alone' must be true or false") in found
    assert (6, "held: topics: topic 'gone' is not in topics.yaml") in found
    assert (8, "held: phrase '*bad' needs letters before every '*'") in found
    assert any("unknown locale 'xx'" in message for _, message in found)
    assert any("no phrases in ru" in message for _, message in found)


def test_a_missing_file_is_a_warning_not_an_error(tmp_path):
    (problem,) = safety_problems(tmp_path, set())
    assert problem.severity == "warning"


# --- the bot's answer -------------------------------------------------------------------------

CRY = "pasportimni olib qoʻyishdi, pul bermayapti, chiqarishmayapti"


async def start_in(h, locale="uz", user_id=USER):
    await say(h, "/start", user_id=user_id)
    await press(h, callbacks.language(locale), user_id)
    await press(h, callbacks.MAIN_MENU, user_id)


async def test_a_cry_for_help_is_answered_with_a_person_first_and_the_help(desk):
    await start_in(desk)
    await say(desk, CRY)
    screen = desk.request.last_screen()
    data = [d for _, d in buttons(screen)]
    assert data[0] == callbacks.ASK_URGENT
    assert buttons(screen)[0][0] == "🆘 Hozir inson bilan gaplashish"
    assert data[1:3] == [callbacks.topic("rights_trafficking"), callbacks.topic("rights_passport_taken")]
    assert callbacks.HIDE in data and callbacks.MAIN_MENU in data
    assert "yolgʻiz emassiz" in screen.params["text"]
    async with AsyncSession(desk.services.engine) as session:
        logged = list((await session.execute(select(Interaction).where(
            Interaction.kind == "distress"))).scalars())
    assert [(i.query, i.result_count > 0) for i in logged] == [(None, True)]  # the words are not logged


async def test_one_tap_files_the_cry_for_help_as_an_urgent_case(desk):
    await start_in(desk, "ru")
    cry = "Помогите, мы в отчаянии. Хозяин держит наши паспорта и не отпускает"
    await say(desk, cry)
    await press(desk, callbacks.ASK_URGENT)
    flow = await desk.services.flows.get(USER)
    assert (flow.step, flow.data["topic"], flow.data["text"], flow.data["urgent"]) == \
        ("country", "rights_trafficking", cry, True)
    await press(desk, callbacks.flow("country", "RU"))
    await press(desk, callbacks.flow("asker", "self"))
    await say(desk, desk.services.catalogs.get("ru")("Skip"))  # the question is already there
    assert "срочное" in desk.request.last_screen().params["text"]
    await press(desk, callbacks.flow("consent", "yes"))
    (request,) = await rows(desk, HelpRequest)
    assert request.urgent and request.topic_key == "rights_trafficking"
    card = card_call(desk).params["text"]
    assert "🆘" in card and request.number in card


async def test_a_question_typed_in_the_form_that_signals_distress_is_urgent_too(desk):
    await file_request(desk, text="Работодатель забрал мой паспорт и не отдаёт")
    await file_request(desk, text="Как продлить патент?", user_id=USER + 1)
    urgent = {r.user_id: r.urgent for r in await rows(desk, HelpRequest)}
    assert urgent == {USER: True, USER + 1: False}


async def test_staff_see_urgent_cases_first(desk):
    await file_request(desk, text="Как продлить патент?", user_id=USER + 1)
    await file_request(desk, text="Как оплатить патент?", user_id=USER + 2)
    await file_request(desk, text="нас заперли и бьют", user_id=USER + 3)
    requests = {r.user_id: r for r in await rows(desk, HelpRequest)}
    desk.request.clear()
    await say(desk, "/queue", user_id=ADMIN, language_code="en")
    screen = desk.request.last_screen()
    numbers = [label.removeprefix("🆘 ") for label, _ in buttons(screen)]
    assert numbers == [requests[USER + 3].number, requests[USER + 1].number,
                       requests[USER + 2].number]
    assert buttons(screen)[0][0].startswith("🆘")
    await say(desk, f"/case {requests[USER + 3].number}", user_id=ADMIN, language_code="en")
    assert "URGENT" in desk.request.sent_texts()[-1] or "🆘" in desk.request.sent_texts()[-1]
