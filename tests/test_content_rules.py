"""Content rules of `content check`: one fact stated the same in every locale, contacts only
from [V], keyword traps. Small content trees are written to tmp_path (see tests/test_content.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.content.contacts import load_verified
from bot.content.facts import find_contacts, line_facts
from bot.content.keywords import load_traps
from bot.content.writing_rules import writing_rule_problems
from tests.conftest import ROOT
from tests.test_content import write_content

LOCALE_FILES = ("en", "ru", "uz", "uz_Cyrl")


def topic(body: str, title: str = "Russia", keywords: str = "[a]") -> str:
    """A topic file whose body starts at line 5."""
    return f"---\ntitle: {title}\nkeywords: {keywords}\n---\n{body}\n"


def russia(**bodies: str) -> dict[str, str]:
    """The four locales of the fixture topic 'russia' (a locale not given gets en's body)."""
    return {f"{loc}/russia.md": topic(bodies.get(loc, bodies["en"])) for loc in LOCALE_FILES}


def problems(root: Path, severity: str | None = "error") -> list[str]:
    return [f"{p.path.parent.name}/{p.path.name}:{p.line}: {p.message}"
            for p in writing_rule_problems(root) if severity is None or p.severity == severity]


# --- parity -----------------------------------------------------------------------------------

@pytest.mark.parametrize("forms", [
    ("50,000 soum", "50 000 сум", "50 000 soʻm", "50.000 сўм"),
    ("50,000", "50 тысяч", "50 ming", "50 минг"),
    ("2 million soum", "2 млн сум", "2 000 000 soʻm", "2 миллион сўм"),
    ("USD 1.9 million", "1,9 млн долларов", "1,9 million AQSh dollari", "1,9 миллион доллар"),
    ("1.35 M", "1,35 млн", "1,35 million", "1 350 000"),
    ("698k", "698 тыс.", "698 mingga", "698 000"),
    ("2.0 million", "2 млн", "2,0 million", "2 миллион"),
    ("8.3%", "8,3%", "8,3 foiz", "8,3 фоиз"),
    ("Decree UP-59 of 4 April 2024", "Указ УП-59 от 4 апреля 2024 года",
     "2024-yil 4-apreldagi PF-59-son (UP-59) Farmon", "2024 йил 4 апрелдаги ПФ-59-сонли Фармон"),
    ("Resolution PP-4829", "Постановление ПП-4829", "PQ-4829-son qaror", "ПҚ-4829-сонли қарор"),
    ("Law ZRU-547, Art. 27-1", "Закон ЗРУ-547, ст. 27-1", "OʻRQ-547-son Qonun, 27¹-modda",
     "ЎРҚ-547-сонли Қонун, 27¹-модда"),
    ("Federal Law 260-FZ", "Федеральный закон 260-ФЗ", "260-FZ-son Federal qonun", "260-ФЗ-сонли қонун"),
    ("E-9 visa", "виза E-9", "E-9 vizasi", "Е-9 визаси"),
    ("Decree No. 59", "Указ УП-59", "PF-59-son Farmon", "59-сонли Фармон"),
    ("on 15.04.2022", "15 апреля 2022 года", "2022-yil 15-aprel", "2022-04-15"),
    ("age 18–39", "от 18 до 39 лет", "18 yoshdan 39 yoshgacha", "18–39 ёш"),
    ("[page](https://gov.uz/en/migration)", "gov.uz/en/migration", "[sahifa](https://gov.uz/en/migration/)",
     "[саҳифа](https://www.gov.uz/en/migration)"),
    ("1. Go.\n2. Ask.\n3. Wait.", "1. Идите и спросите.\n2. Ждите.", "1. Boring.", "1. Боринг."),
])
def test_parity_accepts_legitimate_translations(tmp_path, forms):
    bodies = dict(zip(LOCALE_FILES, forms))
    root = write_content(tmp_path, files=russia(**bodies))
    assert problems(root) == []


def test_parity_reports_a_missing_number_in_the_file_that_lacks_it_at_its_body_start(tmp_path):
    root = write_content(tmp_path, files=russia(
        en="Loans of up to 2 million soum.\n\nUnder Decree UP-5785 of 20 August 2019.",
        ru="Кредиты до 2 млн сум.\n\nПо Указу УП-5785 от 20 августа.",
    ))
    found = problems(root)
    assert found == ["ru/russia.md:5: parity: number 2019 is in en (line 7), uz (line 7), "
                     "uz_Cyrl (line 7) but missing here"]


def test_parity_reports_an_extra_number_where_it_appears_naming_the_other_locales(tmp_path):
    root = write_content(tmp_path, files=russia(
        en="Stay 15 days without registration.",
        uz="Roʻyxatdan oʻtmasdan 15 kun turish mumkin.\n\nKalendar yili 31-dekabrgacha.",
    ))
    assert problems(root) == ["uz/russia.md:7: parity: number 31 ('31-dekabrgacha') is here "
                              "but not in en, ru, uz_Cyrl"]


def test_parity_reports_a_number_written_in_words(tmp_path):
    root = write_content(tmp_path, files=russia(en="For 2 years.", ru="В течение двух лет."))
    assert problems(root) == ["ru/russia.md:5: parity: number 2 is in en (line 5), uz (line 5), "
                              "uz_Cyrl (line 5) but missing here"]


def test_parity_tells_different_decrees_with_the_same_number_apart(tmp_path):
    root = write_content(tmp_path, files=russia(en="Decree UP-59.", ru="Постановление ПП-59."))
    found = problems(root)
    assert "ru/russia.md:5: parity: number UP-59 is in en (line 5), uz (line 5), uz_Cyrl (line 5) " \
           "but missing here" in found
    assert "ru/russia.md:5: parity: number PP-59 ('ПП-59') is here but not in en, uz, uz_Cyrl" in found


def test_parity_reports_different_links_and_thousands(tmp_path):
    root = write_content(tmp_path, files=russia(
        en="4,886 people. [Page](https://gov.uz/en/migration)",
        uz_Cyrl="4 866 киши. [Саҳифа](https://konstitutsiya.gov.uz)",
    ))
    found = problems(root)
    assert "uz_Cyrl/russia.md:5: parity: number 4866 ('4 866') is here but not in en, ru, uz" in found
    assert ("uz_Cyrl/russia.md:5: parity: link https://gov.uz/en/migration is in en (line 5), "
            "ru (line 5), uz (line 5) but missing here") in found
    assert ("uz_Cyrl/russia.md:5: parity: link https://konstitutsiya.gov.uz is here but not in en, "
            "ru, uz") in found


def test_parity_compares_the_title_but_not_the_keywords(tmp_path):
    files = russia(en="Body.")
    files["ru/russia.md"] = topic("Тело.", title='"Россия: 90 дней"', keywords="[2024, 15 дней]")
    root = write_content(tmp_path, files=files)
    assert problems(root) == ["ru/russia.md:2: parity: number 90 is here but not in en, uz, uz_Cyrl"]


def test_parity_on_a_tie_follows_english(tmp_path):
    root = write_content(tmp_path, files=russia(en="In 2024.", ru="В 2024 году.", uz="Yilda.",
                                                uz_Cyrl="Йилда."))
    assert problems(root) == [
        "uz/russia.md:5: parity: number 2024 is in en (line 5), ru (line 5) but missing here",
        "uz_Cyrl/russia.md:5: parity: number 2024 is in en (line 5), ru (line 5) but missing here"]


def test_parity_ignores_a_locale_shown_by_fallback(tmp_path):
    root = write_content(tmp_path, files=russia(en="In 2024.", ru="В 2025 году."))
    for locale in ("ru", "uz", "uz_Cyrl"):
        (root / locale / "russia.md").unlink()
    assert problems(root) == []


@pytest.mark.parametrize("text, values", [
    ("Article 23 and 86-maqsad", ["23", "86"]),
    ("10 000–15 000 roubles", ["10000", "15000"]),
    ("£1,270 for 28 days; 2,9323; 4,325 tenge", ["1270", "28", "2.9323", "4325"]),
    ("in 2024, 483 bodies", ["2024", "483"]),
    ("COVID-19", ["19"]),
    ("consul2011@inbox.ru", ["contact:email:consul2011@inbox.ru"]),
])
def test_numbers_are_normalised(text, values):
    facts = line_facts(text)[0]
    assert [f.value if f.kind == "number" else f"{f.kind}:{f.value}" for f in facts] == values


# --- contacts only from [V] -------------------------------------------------------------------

CONTACTS = """\
contacts:
  - value: "0345 161 6000"
    kind: phone
    what: "UK licensing line"
    source: "gov.uk"
    grade: V
    checked: 2026-12-01
  - value: "licensing@fairworkagency.gov.uk"
    kind: email
    what: "UK licensing e-mail"
    source: "gov.uk"
    grade: V
    checked: 2026-12-01
"""


def test_a_contact_not_in_the_verified_list_is_an_error(tmp_path):
    body = ("Call +998 (71) 202-33-55 or write to iomuz@iom.int.\n\n"
            "Bot: @huquqiyyordamuzbot, [channel](https://t.me/agentlik_fargona).\n\n"
            "Or dial the short number 12-82.")
    root = write_content(tmp_path, files=russia(en=body))
    found = [m for m in problems(root) if "contact" in m and "parity" not in m and m.startswith("en/")]
    assert [m.split(": contact ")[0] for m in found] == ["en/russia.md:5"] * 2 + ["en/russia.md:7"] * 2 \
        + ["en/russia.md:9"]
    assert "'+998 (71) 202-33-55' (phone) is not in contacts.yaml" in found[0]
    assert any("'iomuz@iom.int' (email)" in m for m in found)
    assert any("'@huquqiyyordamuzbot' (telegram)" in m for m in found)
    assert any("(telegram)" in m and "agentlik_fargona" in m for m in found)
    assert any("'12-82' (phone)" in m for m in found)


def test_a_verified_contact_is_allowed_in_any_spelling(tmp_path):
    root = write_content(tmp_path, files=russia(
        en="Licensing: 0345 161 6000, licensing@fairworkagency.gov.uk.",
        ru="Лицензирование: 0345-161-6000, Licensing@FairWorkAgency.gov.uk."))
    (root / "contacts.yaml").write_text(CONTACTS, encoding="utf-8")
    assert problems(root) == []


def test_without_contacts_file_every_contact_is_an_error(tmp_path):
    root = write_content(tmp_path, files=russia(en="Licensing: 0345 161 6000."))
    assert len([m for m in problems(root) if "is not in contacts.yaml" in m]) == 4


@pytest.mark.parametrize("edit, expected", [
    (("grade: V\n    checked: 2026-12-01\n  - value: \"lic", "grade: \"?\"\n    checked: 2026-12-01\n"
      "  - value: \"lic"), "is graded '?': only contacts the facts sheet grades [V]"),
    (("checked: 2026-12-01\n", "checked: soon\n"), "'checked' must be a date"),
    (("    source: \"gov.uk\"\n", ""), "needs source"),
    (("kind: phone", "kind: fax"), "kind must be one of"),
])
def test_the_contacts_file_holds_only_verified_dated_entries(tmp_path, edit, expected):
    (tmp_path / "contacts.yaml").write_text(CONTACTS.replace(*edit, 1), encoding="utf-8")
    verified, found = load_verified(tmp_path)
    assert found and expected in found[0].message and found[0].line == 2, found


@pytest.mark.parametrize("text", [
    "10 000 000 soum", "on 2024-04-04", "aged 18-39", "in 2024 483 bodies", "Law No. 154 of 17.04.2008",
    "10-12 working days", "24/7 call centre", "4,886 people; 123 681 people", "UP-4947 of 7 Feb 2017",
])
def test_numbers_are_not_taken_for_phones(text):
    assert find_contacts(text)[0] == []


def test_the_real_contacts_file_is_valid_and_holds_only_grade_v():
    verified, found = load_verified(ROOT / "content")
    assert found == [] and verified
    entries = yaml.safe_load((ROOT / "content" / "contacts.yaml").read_text(encoding="utf-8"))["contacts"]
    values = " ".join(str(e["value"]) for e in entries)
    for unverified in ("202-33-55", "12-82", "huquqiyyordamuzbot", "925 045 4744", "inbox.ru", "gmail.com"):
        assert unverified not in values, unverified
    assert all(e["grade"] == "V" and e["checked"] and e["source"] and e["what"] for e in entries)


# --- keyword traps ----------------------------------------------------------------------------

TREE_WITH_RIGHTS = """\
topics:
  - key: rights
    parent: null
    reviewed: 2026-11-01
    verified: true
  - key: rights_constitution
    parent: rights
    reviewed: 2026-11-01
    verified: true
    sources: [{title: "Constitution"}]
  - key: rights_deported
    parent: rights
    reviewed: 2026-11-01
    verified: true
    sources: [{title: "Law"}]
"""
TRAPS = """\
traps:
  - name: deportation
    terms: ["deport*", "депорт*", "kirish* taqiq*", "entry ban"]
    allowed: [rights_deported]
"""


def rights_tree(tmp_path: Path, keywords: dict[str, str]) -> Path:
    files = {f"{loc}/{key}.md": topic(f"Body of {key}.", title=key,
                                      keywords=keywords.get(f"{loc}/{key}", f"[{key}]"))
             for loc in LOCALE_FILES for key in ("rights", "rights_constitution", "rights_deported")}
    root = write_content(tmp_path, TREE_WITH_RIGHTS, files)
    for name in ("visas", "russia"):
        for loc in LOCALE_FILES:
            (root / loc / f"{name}.md").unlink()
    (root / "keyword_traps.yaml").write_text(TRAPS, encoding="utf-8")
    return root


def test_a_sensitive_keyword_on_a_topic_not_allowed_to_carry_it_is_an_error(tmp_path):
    root = rights_tree(tmp_path, {
        "en/rights_constitution": "[constitution, Deportation]",
        "uz/rights_constitution": "[Konstitutsiya, kirishga taqiqi]",
        "ru/rights_constitution": "\n  - конституция\n  - депортировали",
        "en/rights_deported": "[deportation, entry ban]",  # allowed
        "ru/rights": "[права, депортация]",  # the section above the allowed topic
    })
    found = problems(root)
    assert found == [
        "uz/rights_constitution.md:3: keyword trap: 'kirishga taqiqi' matches 'kirish* taqiq*' "
        "(deportation); only rights_deported may carry it (see keyword_traps.yaml)",
        "ru/rights_constitution.md:5: keyword trap: 'депортировали' matches 'депорт*' "
        "(deportation); only rights_deported may carry it (see keyword_traps.yaml)",
        "en/rights_constitution.md:3: keyword trap: 'Deportation' matches 'deport*' "
        "(deportation); only rights_deported may carry it (see keyword_traps.yaml)",
    ]


def test_an_allowed_topic_missing_from_the_tree_is_a_warning(tmp_path):
    root = rights_tree(tmp_path, {})
    (root / "keyword_traps.yaml").write_text(TRAPS.replace("[rights_deported]", "[rights_gone]"),
                                             encoding="utf-8")
    assert any(m.endswith("keyword_traps.yaml:2: deportation: allowed topic 'rights_gone' is not in "
                          "topics.yaml") for m in problems(root, "warning"))


def test_the_same_keyword_in_two_topics_of_one_locale_is_a_warning(tmp_path):
    root = rights_tree(tmp_path, {
        "uz/rights_constitution": "[huquq, Yordam]",
        "uz/rights_deported": "[yordam, deportatsiya]",
        "ru/rights_deported": "[yordam]",  # another locale: no clash
        "uz/rights": "[huquq]",  # a section and a topic inside it may share a keyword
    })
    assert problems(root, "warning") == [
        "uz/rights_deported.md:3: keyword 'yordam' also in rights_constitution (uz): a search cannot "
        "tell the two apart"]
    assert problems(root) == []


def test_the_real_trap_file_is_valid_and_catches_the_constitution_trap():
    traps, found = load_traps(ROOT / "content")
    assert found == []
    deportation = next(t for t in traps if t.name.startswith("deportation"))
    assert "rights_constitution" not in deportation.allowed
    for keyword in ("deportation", "депортация", "deportatsiya", "выдворение", "chiqarib yuborishdi"):
        assert any(p.search(keyword) for _, p in deportation.terms), keyword


# --- wired into `content check` ---------------------------------------------------------------

def test_content_check_prints_rule_problems_as_file_line_and_exits_nonzero(tmp_path, capsys):
    from bot.content.check import check_content

    good = write_content(tmp_path / "good", files=russia(en="In 2024, [page](https://gov.uz/en/migration)."))
    assert check_content(good, ROOT / "locales") == 0
    bad = write_content(tmp_path / "bad",
                        files=russia(en="In 2024.", ru="В 2025 году. Звоните +998 71 000 00 00."))
    assert check_content(bad, ROOT / "locales") == 1
    out = capsys.readouterr().out
    assert "bad/ru/russia.md:5: error: parity: number 2025 is here but not in en, uz, uz_Cyrl" in out
    assert "bad/ru/russia.md:5: error: parity: number 2024 is in en (line 5)" in out
    assert "bad/ru/russia.md:5: error: contact '+998 71 000 00 00' (phone) is not in contacts.yaml" in out


# --- the topics no writer owns keep their facts the same in every locale ----------------------

UNOWNED = ("insurance", "insurance_subsidy", "insurance_life_health", "insurance_voluntary_draft",
           "visas_exit_reform", "visas_safe_migration", "visas_costs", "rights_protection_abroad",
           "rights_trafficking", "rights_repatriation", "official_laws", "official_statistics",
           "official_xorijda_ish")


def test_unowned_topics_state_the_same_facts_in_every_locale():
    found = [str(p) for p in writing_rule_problems(ROOT / "content")
             if p.severity == "error" and p.path.stem in UNOWNED]
    assert found == []
