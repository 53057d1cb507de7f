"""Uzbek Latin ⇄ Cyrillic transliteration: accuracy on a reference table and
the guarantees the bot relies on (links, codes and names are never touched)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bot.text.apostrophes import APOSTROPHE_LOOKALIKES, normalize_uz_latin
from bot.text.translit import LOAN_WORDS, to_cyrillic, to_latin, transliterate_markdown

PAIRS_FILE = Path(__file__).with_name("translit_pairs.tsv")
MIN_CYRILLIC_TO_LATIN = 0.98
MIN_LATIN_TO_CYRILLIC = 0.95


def _load_pairs() -> list[tuple[str, str, str]]:
    rows = []
    for number, line in enumerate(PAIRS_FILE.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("\t")
        assert len(fields) == 3, f"{PAIRS_FILE.name}:{number}: expected 3 tab-separated fields"
        rows.append((fields[0], fields[1], fields[2]))
    return rows


PAIRS = _load_pairs()


def _accuracy(cases: list[tuple[str, str]], convert) -> tuple[float, list[str]]:
    misses = [
        f"  {source!r} -> {convert(source)!r}, expected {expected!r}"
        for source, expected in cases
        if convert(source) != expected
    ]
    return 1 - len(misses) / len(cases), misses


def _report(label: str, accuracy: float, total: int, misses: list[str]) -> None:
    print(f"\n{label}: {accuracy:.1%} ({total - len(misses)}/{total})")
    for miss in misses:
        print(miss)


def _report_by_category(rows: list[tuple[str, str, str]], convert) -> None:
    """rows: (source, expected, category)."""
    for category in sorted({category for _, _, category in rows}):
        cases = [(src, exp) for src, exp, cat in rows if cat == category]
        accuracy, _ = _accuracy(cases, convert)
        print(f"  {category:<10} {accuracy:6.1%} of {len(cases)}")


def _uses_loan_dictionary(latin: str) -> bool:
    words = normalize_uz_latin(latin).lower().replace("-", " ").split()
    return any(word.strip(".,!?") in LOAN_WORDS for word in words)


def test_table_is_big_and_well_formed():
    assert len(PAIRS) >= 220
    categories = {category for _, _, category in PAIRS}
    assert {"common", "loan", "name", "caps", "title", "apostrophe"} <= categories


def test_cyrillic_to_latin_accuracy():
    cases = [
        (cyrillic, normalize_uz_latin(latin))
        for latin, cyrillic, category in PAIRS
        if category != "apostrophe"
    ]
    accuracy, misses = _accuracy(cases, to_latin)
    _report("Cyrillic -> Latin", accuracy, len(cases), misses)
    _report_by_category(
        [(cyr, normalize_uz_latin(lat), cat) for lat, cyr, cat in PAIRS if cat != "apostrophe"],
        to_latin,
    )
    assert accuracy >= MIN_CYRILLIC_TO_LATIN


def test_latin_to_cyrillic_accuracy():
    cases = [(latin, cyrillic) for latin, cyrillic, _ in PAIRS]
    accuracy, misses = _accuracy(cases, to_cyrillic)
    _report("Latin -> Cyrillic", accuracy, len(cases), misses)
    _report_by_category(PAIRS, to_cyrillic)
    # The loan-word dictionary covers part of the table; the rules alone
    # are what the bot gets for unseen words, so show that figure too.
    unseen = [(lat, cyr) for lat, cyr in cases if not _uses_loan_dictionary(lat)]
    unseen_accuracy, _ = _accuracy(unseen, to_cyrillic)
    print(f"Latin -> Cyrillic without the loan-word dictionary rows: "
          f"{unseen_accuracy:.1%} of {len(unseen)}")
    assert accuracy >= MIN_LATIN_TO_CYRILLIC


# ------------------------------------------------------------ never touched

@pytest.mark.parametrize("convert", [to_cyrillic, to_latin])
@pytest.mark.parametrize(
    "token",
    [
        "https://lex.uz/docs/3517337",
        "http://migration.uz/uz/news?id=5&lang=oz",
        "www.mehnat.uz/oz/ish",
        "migration.uz",
        "t.me/uzbek_migrant_bot",
        "info@mehnat.uz",
        "o'zbek.yordam@gmail.com",
        "@uzbek_migrant_bot",
        "UP-4947",
        "PF-162",
        "ПФ-162",
        "260-FZ",
        "2026",
        "+998 71 200-06-00",
        "12.03.2024",
    ],
)
def test_links_addresses_and_codes_are_untouched(convert, token):
    text = f"Batafsil: {token} ." if convert is to_cyrillic else f"Батафсил: {token} ."
    converted = convert(text)
    assert token in converted
    assert converted.replace(token, "") != text.replace(token, "")  # prose did change


def test_url_at_sentence_end_keeps_its_punctuation_outside():
    assert to_cyrillic("Manzil: https://lex.uz/docs/123.") == "Манзил: https://lex.uz/docs/123."
    assert to_cyrillic("(www.mehnat.uz)") == "(www.mehnat.uz)"


def test_number_suffixes_follow_the_script_but_codes_do_not():
    assert to_cyrillic("5-o'rin, 1-yanvardan, 10:30da") == "5-ўрин, 1-январдан, 10:30да"
    assert to_cyrillic("2026-yil 5-modda PF-4947-son 260-FZ") == "2026-йил 5-модда PF-4947-сон 260-FZ"
    assert to_latin("2017 йил 7 февралдаги ПФ-4947-сон") == "2017 yil 7 fevraldagi ПФ-4947-son"


def test_protected_names_are_untouched():
    text = "Shavkat Mirziyoyev va Yelena Petrova Toshkentda"
    result = to_cyrillic(text, protect=["Yelena Petrova", "Shavkat Mirziyoyev"])
    assert result == "Shavkat Mirziyoyev ва Yelena Petrova Тошкентда"
    assert to_latin("Ёрдам: ООО «Цемент»", protect=["ООО «Цемент»"]) == "Yordam: ООО «Цемент»"


def test_foreign_words_and_brands_are_left_alone():
    assert to_cyrillic("WhatsApp va Facebook orqali") == "WhatsApp ва Facebook орқали"
    assert to_cyrillic("YouTube, iPhone, Telegram") == "YouTube, iPhone, Телеграм"
    assert to_cyrillic("O'zR Prezidenti") == "ЎзР Президенти"


# ---------------------------------------------------------------- all caps

@pytest.mark.parametrize(
    "latin, cyrillic",
    [
        ("YOSHLAR", "ЁШЛАР"),
        ("SHAHAR", "ШАҲАР"),
        ("XALQ HARAKATI", "ХАЛҚ ҲАРАКАТИ"),
        ("O\u02bbZBEKISTON", "ЎЗБЕКИСТОН"),
        ("CHET ELDA ISHLASH", "ЧЕТ ЭЛДА ИШЛАШ"),
        ("YEVROPA", "ЕВРОПА"),
    ],
)
def test_all_caps_both_ways(latin, cyrillic):
    assert to_cyrillic(latin) == cyrillic
    assert to_latin(cyrillic) == latin


def test_single_capital_letters():
    assert to_latin("Ш. Мирзиёев") == "Sh. Mirziyoyev"
    assert to_latin("Ё") == "Yo"
    assert to_latin("ШАҲАР Ш") == "SHAHAR SH"
    assert to_cyrillic("Sh. Mirziyoyev") == "Ш. Мирзиёев"


# ----------------------------------------------------------------- apostrophes

def test_every_lookalike_becomes_the_official_letter():
    for mark in APOSTROPHE_LOOKALIKES:
        assert normalize_uz_latin(f"o{mark}zbek g{mark}alla ma{mark}lumot") == (
            "o\u02bbzbek g\u02bballa ma\u02bclumot"
        )
        assert to_cyrillic(f"O{mark}zbekiston") == "Ўзбекистон"


def test_quotes_contractions_and_urls_keep_their_apostrophes():
    assert normalize_uz_latin("'hello'") == "'hello'"
    assert normalize_uz_latin("He said 'radio' and 'tog'") == "He said 'radio' and 'tog'"
    assert normalize_uz_latin("don't, it's, we're") == "don't, it's, we're"
    assert normalize_uz_latin("https://x.uz/o'zbek") == "https://x.uz/o'zbek"
    assert normalize_uz_latin("tog' va bog'") == "tog\u02bb va bog\u02bb"


def test_normalization_is_idempotent():
    samples = [
        "O'zbekiston, g‘alla, ma’lumot, Is`hoq, tog', 'hello', don't, https://a.uz/o'z",
        "‘‘o’’ g`` a'b' 'c ʻʼ oʼ",
    ]
    rng = random.Random(1995)
    alphabet = "oOgGasbh '‘’`´ʻʼʹ′-."
    samples += ["".join(rng.choice(alphabet) for _ in range(30)) for _ in range(500)]
    for text in samples:
        once = normalize_uz_latin(text)
        assert normalize_uz_latin(once) == once, text


# -------------------------------------------------------------------- Markdown

def test_markdown_syntax_and_link_targets_are_kept():
    source = (
        "**Diqqat!** _Ish_ shartnomasini o'qing:\n"
        "- [Mehnat vazirligi](https://mehnat.uz/oz/ish-qidiruvchilar)\n"
        "- `o'zgarmas` kod va [yordam](https://t.me/yordam_bot \"Yordam\")\n"
    )
    expected = (
        "**Диққат!** _Иш_ шартномасини ўқинг:\n"
        "- [Меҳнат вазирлиги](https://mehnat.uz/oz/ish-qidiruvchilar)\n"
        "- `o'zgarmas` код ва [ёрдам](https://t.me/yordam_bot \"Yordam\")\n"
    )
    assert transliterate_markdown(source, to="cyrillic") == expected
    assert transliterate_markdown(expected, to="latin") == normalize_uz_latin(source).replace(
        "`o\u02bbzgarmas`", "`o'zgarmas`"
    )


def test_markdown_backtick_apostrophe_is_not_code():
    assert transliterate_markdown("o`zbek va g`alla") == "ўзбек ва ғалла"


def test_markdown_rejects_unknown_direction():
    with pytest.raises(ValueError):
        transliterate_markdown("x", to="arabic")


# ------------------------------------------------------------------ round trip

CYRILLIC_PARAGRAPH = (
    "Ўзбекистон Республикаси фуқаролари хорижда ишлаш учун олдиндан маълумот "
    "олишлари керак. Меҳнат шартномаси, суғурта полиси ва паспорт муддатини "
    "текширинг. Ёшлар учун бепул касб курслари очилди: ғалла, пахта ва қурилиш "
    "соҳаларида ўқиш мумкин. Исҳоқ ака Европа ва Россия бўйича маслаҳат беради. "
    "ТАШҚИ МЕҲНАТ МИГРАЦИЯСИ АГЕНТЛИГИ эълон қилди: поезд эртага жўнайди."
)


def test_round_trip_paragraph():
    latin = to_latin(CYRILLIC_PARAGRAPH)
    assert "Isʼhoq" in latin and "Yevropa" in latin and "YOSHLAR" not in latin
    assert to_cyrillic(latin) == CYRILLIC_PARAGRAPH
    assert to_latin(to_cyrillic(latin)) == latin
