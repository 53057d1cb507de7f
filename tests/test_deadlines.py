"""My deadlines: content/rules.yaml, the pure date arithmetic and the parser of typed dates.

The table below is written from the rules' sources (content-facts.md sections 8, 11-14), by
hand: each case is a country, an entry date, earlier stays and today, and the dates and days
the bot must show.
"""
from __future__ import annotations

import textwrap
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from bot import LOCALES
from bot.content.model import Source
from bot.deadlines import (FAR_FUTURE, FAR_PAST, IMPOSSIBLE, NOT_A_DATE, DateRejected,
                           deadlines_for, load_rules, merge_stays, parse_user_date)
from bot.deadlines.counting import (add_months, days_allowed, days_in_window,
                                    fewest_days_in_months, last_day_of_continuous_stay,
                                    nth_working_day, window_start)
from bot.deadlines.rules import Reading

ROOT = Path(__file__).resolve().parent.parent
D = date.fromisoformat


@pytest.fixture(scope="module")
def book():
    result = load_rules(ROOT / "content")
    assert result.problems == []
    return result.rules


def test_the_real_rules_load_for_every_country_with_sources_and_texts(book):
    assert {code: [r.key for r in rules] for code, rules in book.by_country.items()} == {
        "RU": ["ru_registration", "ru_patent_application", "ru_fingerprinting",
               "ru_stay_90_per_year"],
        "KZ": ["kz_no_registration_30", "kz_stay_90_in_180"],
        "TR": ["tr_visa_free_90_in_180"],
        "GB": ["gb_seasonal_6_in_12", "gb_poultry_season"],
        "KR": ["kr_return_cost_insurance", "kr_e9_employment_period"],
    }
    for rules in book.by_country.values():
        for rule in rules:
            assert all(reading.sources for reading in rule.readings)
            assert set(rule.title) == set(rule.note) == set(LOCALES)
    # Graded [?] in the sheet: Türkiye's 90/180 and the "15 working days" reading.
    unverified = {(r.key, reading.kind) for rules in book.by_country.values() for r in rules
                  for reading in r.readings if not reading.verified}
    assert unverified == {("tr_visa_free_90_in_180", "days_in_window"),
                          ("ru_registration", "working_days")}
    assert book.find("ru_stay_90_per_year").who == "without_work_grounds"
    assert book.find("ru_patent_application").who == "workers"
    assert book.find("kr_return_cost_insurance").event == "labour_contract"


# (what the case shows, country, entry, today, earlier stays, labour contract,
#  {rule: (deadline, days to it) or (deadline, days to it, days used, days left in window)})
CASES = [
    ("Russia, first days; a Friday entry", "RU", "2026-12-04", "2026-12-10", [], None, {
        "ru_registration": ("2026-12-18", 8),  # day 15, the entry day being day 1
        "ru_patent_application": ("2027-01-02", 23),  # 30 calendar days
        "ru_fingerprinting": ("2027-01-02", 23),
        # 28 days in 2026, then the count starts again on 1 January: 90 days end on 31 March.
        "ru_stay_90_per_year": ("2027-03-31", 111, 7, 83),
    }),
    ("Russia, an earlier stay this year and one last year", "RU", "2026-11-01", "2026-11-05",
     [("2025-10-01", "2025-12-31"), ("2026-03-01", "2026-03-31")], None, {
        "ru_registration": ("2026-11-15", 10),
        # last year's days do not count; 31 in March + 59 from 1 Nov = 90 on 29 Dec
        "ru_stay_90_per_year": ("2026-12-29", 54, 36, 54),
    }),
    ("Russia, a leap year: 31 + 29 + 30 days reach 90 on 30 March", "RU", "2027-11-01",
     "2027-11-01", [], None, {
        "ru_registration": ("2027-11-15", 14),
        "ru_stay_90_per_year": ("2028-03-30", 150, 1, 89),
    }),
    ("Russia, overstayed: 105 days used by 15 April", "RU", "2026-01-01", "2026-04-15", [], None, {
        "ru_registration": ("2026-01-15", -90),
        "ru_stay_90_per_year": ("2026-03-31", -15, 105, -15),
    }),
    ("Russia, the entry is still ahead", "RU", "2026-12-20", "2026-12-01", [], None, {
        "ru_registration": ("2027-01-03", 33),
        "ru_patent_application": ("2027-01-18", 48),
        # counted as on the entry day: that day is day 1
        "ru_stay_90_per_year": ("2027-03-31", 120, 1, 89),
    }),
    ("Kazakhstan, earlier days drop out of the 180 as new ones come", "KZ", "2026-06-01",
     "2026-06-10", [("2026-01-10", "2026-02-28")], None, {
        "kz_no_registration_30": ("2026-06-30", 20),
        "kz_stay_90_in_180": ("2026-08-29", 80, 60, 30),
    }),
    ("Kazakhstan, a stay older than the window does not count", "KZ", "2026-06-01",
     "2026-06-01", [("2025-01-01", "2025-03-31")], None, {
        "kz_stay_90_in_180": ("2026-08-29", 89, 1, 89),
    }),
    ("Kazakhstan, overlapping stays and a one-day trip count each day once", "KZ", "2026-05-01",
     "2026-05-01", [("2026-03-01", "2026-03-10"), ("2026-03-05", "2026-03-20"),
                    ("2026-04-01", "2026-04-01")], None, {
        # 20 + 1 earlier days, so 69 from 1 May: the 90th day is 8 July
        "kz_stay_90_in_180": ("2026-07-08", 68, 22, 68),
    }),
    ("Kazakhstan, earlier stays used the whole 90 before this entry", "KZ", "2026-05-01",
     "2026-05-01", [("2026-01-01", "2026-03-31")], None, {
        "kz_stay_90_in_180": ("2026-04-30", -1, 91, -1),
    }),
    ("Türkiye, 90 in 180, to be confirmed", "TR", "2026-07-01", "2026-07-01", [], None, {
        "tr_visa_free_90_in_180": ("2026-09-28", 89, 1, 89),
    }),
    ("United Kingdom, six months counted as the shortest they can be (181 days)", "GB",
     "2026-04-01", "2026-04-01", [], None, {
        "gb_seasonal_6_in_12": ("2026-09-28", 180, 1, 180),
    }),
    ("United Kingdom, last autumn's 92 days are still in the 12 months", "GB", "2026-05-01",
     "2026-05-01", [("2025-10-01", "2025-12-31")], None, {
        "gb_seasonal_6_in_12": ("2026-07-28", 88, 93, 88),
    }),
    ("United Kingdom, poultry: the season ends on 31 December", "GB", "2026-10-05", "2026-10-05",
     [], None, {
        "gb_poultry_season": ("2026-12-31", 87),
    }),
    ("Korea, insurance from the contract, E-9 period from the entry", "KR", "2026-03-15",
     "2026-04-01", [], "2026-03-02", {
        "kr_return_cost_insurance": ("2026-05-20", 49),  # day 80 from the contract
        "kr_e9_employment_period": ("2029-03-14", 1078),
    }),
]


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_rule_table(book, case):
    _, country, entry, today, stays, contract, expected = case
    results = deadlines_for(book.for_country(country), D(entry), D(today),
                            [(D(a), D(b)) for a, b in stays],
                            labour_contract=D(contract) if contract else None)
    by_key = {result.key: result for result in results}
    for key, want in expected.items():
        result = by_key[key]
        got = (result.deadline.isoformat(), result.days_to_deadline)
        if len(want) == 4:
            got += (result.days_used, result.days_left_in_window)
        assert got == want, key


def test_registration_shows_the_earlier_calendar_date_and_keeps_the_working_day_reading(book):
    # Entry on Friday 20 Nov 2026: day 15 is 4 Dec; the 15th working day (Mon-Fri) is 10 Dec.
    [registration] = deadlines_for([book.find("ru_registration")], D("2026-11-20"),
                                   D("2026-11-20"))
    assert registration.deadline == D("2026-12-04")
    assert registration.shown.kind == "days" and registration.verified
    [other] = registration.others
    assert other.reading.kind == "working_days" and other.deadline == D("2026-12-10")
    assert not other.reading.verified and other.reading.holidays_not_counted
    assert registration.sources[0].title.startswith("Ministry of Internal Affairs of Uzbekistan")
    assert set(book.find("ru_registration").dispute) == set(LOCALES)


def test_a_rule_whose_event_date_is_not_known_says_which_date_it_needs(book):
    insurance, period = deadlines_for(book.for_country("KR"), D("2026-03-15"), D("2026-04-01"))
    assert insurance.missing_event == "labour_contract" and insurance.deadline is None
    assert period.deadline == D("2029-03-14")


def test_season_result_gives_its_start_and_the_turkish_rule_is_to_be_confirmed(book):
    [poultry] = deadlines_for([book.find("gb_poultry_season")], D("2026-10-05"), D("2026-10-05"))
    assert poultry.season_start == D("2026-10-02")
    [turkey] = deadlines_for(book.for_country("TR"), D("2026-07-01"), D("2026-07-01"))
    assert turkey.verified is False and turkey.window_start == D("2026-01-03")


def test_a_stay_that_ends_before_it_begins_is_refused(book):
    with pytest.raises(ValueError):
        deadlines_for(book.for_country("KZ"), D("2026-05-01"), D("2026-05-01"),
                      [(D("2026-03-10"), D("2026-03-01"))])


def test_calendar_helpers():
    assert add_months(D("2028-02-29"), 12) == D("2029-02-28")
    assert add_months(D("2026-01-31"), 1) == D("2026-02-28")
    assert add_months(D("2026-03-31"), -1) == D("2026-02-28")
    assert add_months(D("2026-12-15"), 1) == D("2027-01-15")
    assert fewest_days_in_months(6) == 181 and fewest_days_in_months(12) == 365
    assert nth_working_day(D("2026-11-01"), 15) == D("2026-11-20")  # a Sunday start
    assert merge_stays([(D("2026-01-05"), D("2026-01-05")), (D("2026-01-01"), D("2026-01-04"))]) \
        == [(D("2026-01-01"), D("2026-01-05"))]  # touching stays join


# ---- properties ---------------------------------------------------------------------------

def reading(kind: str, **numbers) -> Reading:
    return Reading(kind, True, (Source("test"),), **numbers)


WINDOW_READINGS = [reading("days_in_window", limit_days=90, window_days=180),
                   reading("days_in_window", limit_days=3, window_days=7),
                   reading("days_per_calendar_year", limit_days=90),
                   reading("months_in_window", limit_months=6, window_months=12),
                   reading("months_in_window", limit_months=1, window_months=3)]
days = st.dates(min_value=D("2024-01-01"), max_value=D("2029-12-31"))
stays = st.lists(st.tuples(days, st.integers(0, 120)).map(
    lambda s: (s[0], s[0] + timedelta(days=s[1]))), max_size=5)


def present_days(stay_list) -> set[date]:
    return {a + timedelta(days=i) for a, b in stay_list for i in range((b - a).days + 1)}


def brute_used(reading_, day, present) -> int:
    first = window_start(reading_, day)
    return sum(1 for d in present if first <= d <= day)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(WINDOW_READINGS), stays, days)
def test_days_in_window_counts_each_day_of_stay_once(reading_, stay_list, day):
    used = days_in_window(reading_, day, merge_stays(stay_list))
    assert used == brute_used(reading_, day, present_days(stay_list))
    assert 0 <= used <= (day - window_start(reading_, day)).days + 1


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(WINDOW_READINGS), stays, days)
def test_the_last_day_keeps_every_window_within_the_limit_and_the_next_breaks_it(
        reading_, stay_list, entry):
    earlier = merge_stays(stay_list)
    last = last_day_of_continuous_stay(reading_, entry, earlier)
    allowed = days_allowed(reading_)

    def present_until(day):
        return present_days(earlier) | present_days([(entry, day)] if day >= entry else [])

    day = entry
    while day <= last:
        assert brute_used(reading_, day, present_until(day)) <= allowed
        day += timedelta(days=1)
    after = last + timedelta(days=1)
    assert brute_used(reading_, after, present_until(after)) > allowed


@settings(max_examples=100, deadline=None)
@given(stays)
def test_merging_stays_keeps_the_days_and_ignores_order_and_repeats(stay_list):
    merged = merge_stays(stay_list)
    assert present_days(merged) == present_days(stay_list)
    assert merge_stays(list(reversed(stay_list)) + stay_list) == merged
    assert all(b + timedelta(days=1) < c for (_, b), (c, _) in zip(merged, merged[1:]))


@settings(max_examples=100, deadline=None)
@given(days, st.integers(1, 40))
def test_the_nth_working_day_is_a_weekday_with_n_weekdays_up_to_it(start, n):
    day = nth_working_day(start, n)
    assert day.weekday() < 5
    weekdays = sum(1 for i in range((day - start).days + 1)
                   if (start + timedelta(days=i)).weekday() < 5)
    assert weekdays == n


@settings(max_examples=60, deadline=None)
@given(days, days, stays)
def test_a_disputed_rule_always_shows_its_earliest_date(book, entry, today, stay_list):
    [result] = deadlines_for([book.find("ru_registration")], entry, today, stay_list)
    assert all(result.deadline <= other.deadline for other in result.others)
    assert result.days_to_deadline == (result.deadline - today).days


# ---- the parser of typed dates --------------------------------------------------------------

TODAY = D("2026-12-01")


@pytest.mark.parametrize("text, expected", [
    ("12.11.2026", "2026-11-12"),
    ("12/11", "2026-11-12"),  # no year: the most recent 12 Nov not after today
    ("25/12", "2025-12-25"),  # 25 Dec 2026 is still ahead, so last year's
    ("1.12", "2026-12-01"),  # today itself
    ("12-11-2026", "2026-11-12"),
    ("2026-11-12", "2026-11-12"),
    ("12.11.26", "2026-11-12"),
    ("12 noyabr", "2026-11-12"),
    ("12-noyabr 2026", "2026-11-12"),
    ("2026-yil 12-noyabr", "2026-11-12"),
    ("12-noyabrda", "2026-11-12"),
    ("12 ноября", "2026-11-12"),
    ("1 ма\u0438\u0306", "2026-05-01"),  # й sent as и + a combining breve
    ("12 ноября 2026 г.", "2026-11-12"),
    ("12 ноябрь", "2026-11-12"),  # Uzbek Cyrillic
    ("12-ноябрда", "2026-11-12"),
    ("12 November", "2026-11-12"),
    ("Nov 12", "2026-11-12"),
    ("November 12th, 2026", "2026-11-12"),
    ("3 fevral'", "2026-02-03"),
    ("3 fevral’ 2026", "2026-02-03"),
    ("3 fevralʼ", "2026-02-03"),
    ("3 fevral`", "2026-02-03"),
    ("3 fevralʻ", "2026-02-03"),
    ("5 sentyabr", "2026-09-05"),
    ("5 sentabr", "2026-09-05"),
    ("7 sept", "2026-09-07"),
    ("7 июл", "2026-07-07"),
    ("  9 MAY 2026 ", "2026-05-09"),
    ("bugun", "2026-12-01"),
    ("вчера", "2026-11-30"),
    ("29.02.2028", "2028-02-29"),
])
def test_typed_dates(text, expected):
    assert parse_user_date(text, TODAY, max_future_days=800) == D(expected)


@pytest.mark.parametrize("text, reason", [
    ("31.04.2026", IMPOSSIBLE),
    ("29.02.2027", IMPOSSIBLE),
    ("32 noyabr", IMPOSSIBLE),
    ("12.13.2026", IMPOSSIBLE),
    ("0.11.2026", IMPOSSIBLE),
    ("31/04", IMPOSSIBLE),
    ("12.11.2030", FAR_FUTURE),
    ("12.11.1926", FAR_PAST),
    ("salom", NOT_A_DATE),
    ("", NOT_A_DATE),
    ("15", NOT_A_DATE),
    ("12:30", NOT_A_DATE),
    ("12 iyu", NOT_A_DATE),  # June or July?
    ("12 noyabr 13 dekabr", NOT_A_DATE),
    ("12 noyabr kirdim", NOT_A_DATE),
    ("12.11.2026.5", NOT_A_DATE),
    ("1 2 3 4", NOT_A_DATE),
    ("12.11.2026²", NOT_A_DATE),
    ("١٢.١١.٢٠٢٦", NOT_A_DATE),  # Arabic-Indic digits: not what the bot asks for
])
def test_typed_dates_refused_with_a_reason(text, reason):
    assert parse_user_date(text, TODAY) == DateRejected(reason)


def test_far_future_is_measured_from_today():
    assert parse_user_date("1.12.2027", TODAY) == D("2027-12-01")  # 365 days ahead
    assert parse_user_date("3.12.2027", TODAY) == DateRejected(FAR_FUTURE)
    assert parse_user_date("3.12.2027", TODAY, max_future_days=400) == D("2027-12-03")


# Written out here rather than taken from the parser, so that the test checks its table.
UZ_LATIN = "yanvar fevral mart aprel may iyun iyul avgust sentabr oktabr noyabr dekabr".split()
UZ_CYRILLIC = ("январь февраль март апрель май июнь июль август сентябрь октябрь ноябрь "
               "декабрь").split()
RU_GENITIVE = ("января февраля марта апреля мая июня июля августа сентября октября ноября "
               "декабря").split()
FORMATS = [
    lambda d: d.strftime("%d.%m.%Y"), lambda d: d.strftime("%d/%m/%Y"),
    lambda d: d.strftime("%d-%m-%Y"), lambda d: d.isoformat(),
    lambda d: f"{d.day} {UZ_LATIN[d.month - 1]} {d.year}",
    lambda d: f"{d.day}-{UZ_LATIN[d.month - 1]}, {d.year}-yil",
    lambda d: f"{d.day}-{UZ_CYRILLIC[d.month - 1]} {d.year} йил",
    lambda d: f"{d.day} {RU_GENITIVE[d.month - 1]} {d.year} года",
    lambda d: d.strftime("%B %d, %Y"), lambda d: d.strftime("%d %b %Y"),
    lambda d: d.strftime("%b %d %Y"),
]


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=TODAY - timedelta(days=3000), max_value=TODAY + timedelta(days=300)),
       st.sampled_from(FORMATS))
def test_any_date_written_in_a_known_format_reads_back(day, form):
    assert parse_user_date(form(day), TODAY) == day


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=D("2025-01-01"), max_value=D("2030-12-31")), days)
def test_a_date_without_a_year_is_the_most_recent_one_not_after_today(day, today):
    result = parse_user_date(f"{day.day}.{day.month}", today)
    if isinstance(result, DateRejected):
        assert (day.month, day.day) == (2, 29) and result.reason == IMPOSSIBLE
    else:
        assert (result.month, result.day) == (day.month, day.day)
        assert today - timedelta(days=366) < result <= today


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_the_parser_never_raises(text):
    result = parse_user_date(text, TODAY)
    assert isinstance(result, (date, DateRejected))


# ---- content check on a broken rules.yaml ----------------------------------------------------

GOOD_RULE = textwrap.dedent("""\
    countries:
      RU:
        - key: ru_test
          counts: registration
          from: entry
          who: everyone
          count: days
          days: 15
          verified: true
          sources:
            - title: "A treaty"
          title: {uz: "Roʻyxat", uz_Cyrl: "Рўйхат", ru: "Учёт", en: "Registration"}
          note: {uz: "Hammaga.", uz_Cyrl: "Ҳаммага.", ru: "Для всех.", en: "For everyone."}
    """)


def rules_problems(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "rules.yaml").write_text(text, encoding="utf-8")
    return [f"{p.path.name}:{p.line}: {p.message}" for p in load_rules(tmp_path).problems]


def test_the_minimal_rule_is_good(tmp_path):
    assert rules_problems(tmp_path, GOOD_RULE) == []


@pytest.mark.parametrize("old, new, expected", [
    ("count: days", "count: dayz", "rules.yaml:7: ru_test: 'count' must be one of days, "
     "working_days, months, days_per_calendar_year, days_in_window, months_in_window, season"),
    ("days: 15", "days: -3", "rules.yaml:8: ru_test: 'days' must be a whole number above 0"),
    ("days: 15", "dias: 15", "rules.yaml:8: ru_test: unknown field 'dias'"),
    ("from: entry", "from: arrival",
     "rules.yaml:5: ru_test: 'from' must be one of entry, labour_contract"),
    ("who: everyone", "who: all", "rules.yaml:6: ru_test: 'who' must be one of everyone, "
     "workers, without_work_grounds, poultry_workers"),
    ("verified: true", "verified: yes please", "rules.yaml:9: ru_test: 'verified' must be true "
     "or false"),
    ('      sources:\n        - title: "A treaty"\n', "",
     "rules.yaml:7: ru_test: every reading needs at least one source"),
    ('uz_Cyrl: "Ҳаммага.", ', "", "rules.yaml:13: ru_test: note is missing in uz_Cyrl"),
    ('uz: "Roʻyxat"', "uz: \"Ro'yxat\"", "rules.yaml:12: ru_test: title in uz: write oʻ gʻ with "
     "ʻ (U+02BB) and the separating sign with ʼ (U+02BC), not ' ’ ‘ `"),
    ("key: ru_test", "key: RU-test", "rules.yaml:3: key 'RU-test' must be 1-32 characters of "
     "a-z, 0-9 and _"),
    ("  RU:", "  Russia:", "rules.yaml:2: country code must be two capital letters: 'Russia'"),
    ("count: days\n      days: 15", "count: days_in_window\n      limit_days: 180\n"
     "      window_days: 90", "rules.yaml:8: ru_test: 'limit_days' must be less than "
     "'window_days'"),
    ("count: days\n      days: 15", "count: days_in_window\n      limit_days: 90",
     "rules.yaml:7: ru_test: count 'days_in_window' needs 'window_days'"),
    ("from: entry\n      who: everyone\n      count: days\n      days: 15",
     "from: labour_contract\n      who: everyone\n      count: days_per_calendar_year\n"
     "      limit_days: 90", "rules.yaml:5: ru_test: a days_per_calendar_year count must be "
     "'from: entry'"),
    ("count: days\n      days: 15", "count: season\n      season: {start: \"10-02\", "
     "end: \"02-30\"}", "rules.yaml:8: ru_test: season end must be a date as \"MM-DD\" (in "
     "quotes): '02-30'"),
    ("count: days\n      days: 15", "count: working_days\n      days: 15\n"
     "      holidays: not_counted", "rules.yaml:10: ru_test: a working_days count skips no "
     "public holidays, so it must be verified: false (to be confirmed)"),
    ("      verified: true\n", "      verified: true\n      disputed:\n"
     "        - {count: days, days: 10, verified: false, sources: [{title: B}]}\n",
     "rules.yaml:10: ru_test: 'disputed' needs a 'dispute' text saying why, in every locale"),
    ("    - key: ru_test", "    - key: ru_test\n      oops: [", None),
])
def test_a_broken_rules_file_is_reported_with_file_and_line(tmp_path, old, new, expected):
    assert old in GOOD_RULE
    problems = rules_problems(tmp_path, GOOD_RULE.replace(old, new, 1))
    if expected is None:  # not YAML at all
        assert len(problems) == 1 and problems[0].startswith("rules.yaml:")
        assert "not valid YAML" in problems[0]
    else:
        assert expected in problems, problems


def test_a_duplicate_key_is_reported_at_its_second_place(tmp_path):
    second = GOOD_RULE.split("  RU:\n")[1]
    problems = rules_problems(tmp_path, GOOD_RULE + second)
    assert "rules.yaml:14: duplicate key 'ru_test'" in problems


def test_a_country_given_twice_is_reported(tmp_path):
    problems = rules_problems(tmp_path, GOOD_RULE + GOOD_RULE.removeprefix("countries:\n"))
    assert "rules.yaml:14: 'RU' appears twice in the same mapping" in problems


def test_content_without_rules_yaml_is_only_warned_about(tmp_path):
    result = load_rules(tmp_path)
    assert result.errors == [] and result.rules.for_country("RU") == ()
    assert [p.severity for p in result.problems] == ["warning"]


def test_content_check_prints_rules_problems_and_fails(tmp_path, capsys):
    from bot.content.check import check_content
    from tests.test_content import write_content

    root = write_content(tmp_path / "content")
    (root / "rules.yaml").write_text(GOOD_RULE.replace("days: 15", "days: 0"), encoding="utf-8")
    assert check_content(root, ROOT / "locales") == 1
    out = capsys.readouterr().out
    assert f"{root / 'rules.yaml'}:8: error: ru_test: 'days' must be a whole number above 0" in out
