"""The ask form: its steps, order, validation and Back in one state machine
(bot.services.ask_form), and Back on every step of the real form, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from bot.db.models import FlowState, HelpRequest, RequestMessage
from bot.services import ask_form
from bot.services.ask_form import STEPS, AskForm
from bot.views import callbacks
from tests.test_requests_flow import (USER, buttons, desk, press, rows, say,  # noqa: F401
                                      to_question_step)

FORM = AskForm(topic_exists=lambda key: key in {"visas", "rights_documents"},
               is_urgent=lambda text: "passport taken" in text)


def walk(*events):
    """Start a form and apply (method, args) events; the last result."""
    result = FORM.start()
    for name, *args in events:
        result = getattr(FORM, name)(result.form, *args)
    return result


# --- the state machine -------------------------------------------------------------------------

def test_the_steps_in_order_then_the_draft():
    result = FORM.start()
    seen = [result.form.step]
    for event in (("choose", "topic", "visas"), ("choose", "country", "RU"),
                  ("choose", "asker", "self"), ("write", "My question"), ("phone", None)):
        result = getattr(FORM, event[0])(result.form, *event[1:])
        seen.append(result.form.step)
    assert seen == list(STEPS)
    result = FORM.choose(result.form, "consent", "yes")
    assert result.outcome == ask_form.AGREED
    draft = FORM.draft(result.form, "en")
    assert (draft.topic_key, draft.country, draft.asker, draft.text, draft.phone, draft.urgent) == \
        ("visas", "RU", "self", "My question", None, False)


def test_a_prefilled_topic_and_question_are_skipped_and_urgent_is_kept():
    result = FORM.start(topic="rights_documents", text="Help", urgent=True)
    assert result.form.step == "country"
    result = FORM.choose(result.form, "country", "KZ")
    result = FORM.choose(result.form, "asker", "self")
    assert result.form.step == "phone"  # the question was typed before
    result = FORM.phone(result.form, None)
    assert FORM.draft(FORM.consent(result.form, True).form, "ru").urgent


def test_a_question_that_signals_distress_makes_the_draft_urgent():
    result = walk(("choose", "topic", "-"), ("choose", "country", "RU"),
                  ("choose", "asker", "self"), ("write", "my passport taken by the boss"),
                  ("phone", None))
    assert FORM.draft(result.form, "en").urgent


@pytest.mark.parametrize("step", STEPS)
def test_back_goes_to_the_step_before_and_leaves_from_the_first(step):
    path = [("choose", "topic", "visas"), ("choose", "country", "RU"), ("choose", "asker", "self"),
            ("write", "Q"), ("phone", None)]
    form = walk(*path[:STEPS.index(step)]).form
    assert form.step == step
    result = FORM.back(form, step)
    if step == "topic":
        assert (result.outcome, result.form) == (ask_form.LEFT, None)
    else:
        assert result.outcome == ask_form.SHOW
        assert result.form.step == STEPS[STEPS.index(step) - 1]
        assert result.form.data == form.data  # the answers stay


def test_a_changed_answer_leads_straight_to_what_is_not_yet_answered():
    at_consent = walk(("choose", "topic", "visas"), ("choose", "country", "RU"),
                      ("choose", "asker", "self"), ("write", "Q"), ("phone", None)).form
    form = at_consent
    for step in ("consent", "phone", "text", "asker"):
        form = FORM.back(form, step).form
    assert form.step == "country"
    result = FORM.choose(form, "country", "KZ")
    assert result.form.step == "consent" and result.form.data["country"] == "KZ"
    assert result.form.data["text"] == "Q"


def test_answers_are_validated():
    at_text = walk(("choose", "topic", "visas"), ("choose", "country", "RU"),
                   ("choose", "asker", "self")).form
    assert FORM.write(at_text, "x" * 2001).reason == ask_form.TOO_LONG
    assert FORM.write(at_text, None).reason == ask_form.NOT_TEXT
    assert FORM.choose(at_text, "country", "RU").outcome == ask_form.STALE  # not this step
    at_country = walk(("choose", "topic", "visas")).form
    assert FORM.choose(at_country, "country", "XX").outcome == ask_form.STALE
    kept = FORM.write(at_country, "My question first")  # typed before reading the buttons
    assert (kept.outcome, kept.form.step, kept.form.data["text"]) == \
        (ask_form.SHOW, "country", "My question first")
    assert FORM.write(kept.form, "again").reason == ask_form.USE_BUTTONS
    assert FORM.choose(FORM.start().form, "topic", "no_such_topic").outcome == ask_form.STALE
    at_phone = FORM.write(at_text, "Q").form
    assert FORM.phone(at_phone, "+998901234567", own=False).reason == ask_form.NOT_OWN_PHONE
    assert FORM.back(at_phone, "text").outcome == ask_form.STALE  # an old Back button


def test_keep_goes_on_with_the_question_written_before():
    at_phone = walk(("choose", "topic", "visas"), ("choose", "country", "RU"),
                    ("choose", "asker", "self"), ("write", "Q")).form
    at_text = FORM.back(at_phone, "phone").form
    assert FORM.keep(at_text, "text").form.step == "phone"
    assert FORM.cancel(at_text, "text").outcome == ask_form.LEFT


# --- Back on every step of the real form -------------------------------------------------------

def step_of(screen) -> str:
    """Which step a screen shows, from its Back button."""
    return next(data.split("|")[2] for _, data in buttons(screen) if data.startswith("f|back|"))


async def test_back_on_every_step_shows_the_step_before_with_its_answer(desk):
    await to_question_step(desk, locale="en", topic="visas", country="KZ", asker="self")
    assert step_of(desk.request.last_screen()) == "text"
    await press(desk, callbacks.flow("back", "text"))
    asker = desk.request.last_screen()
    assert step_of(asker) == "asker" and ("✓ For myself", "f|asker|self") in buttons(asker)
    await press(desk, callbacks.flow("back", "asker"))
    country = desk.request.last_screen()
    assert step_of(country) == "country" and ("✓ Kazakhstan", "f|country|KZ") in buttons(country)
    await press(desk, callbacks.flow("back", "country"))
    topic = desk.request.last_screen()
    assert step_of(topic) == "topic"
    assert any(label.startswith("✓ ") and data == "f|topic|visas" for label, data in buttons(topic))
    await press(desk, callbacks.flow("back", "topic"))  # Back on the first step leaves the form
    assert await rows(desk, FlowState) == []
    assert "Main menu" in desk.request.last_screen().params["text"]


async def test_a_wrong_country_is_fixed_at_the_consent_without_starting_again(desk):
    await to_question_step(desk, locale="en", topic="visas", country="RU", asker="family_abroad")
    await say(desk, "My brother's patent expired")
    await say(desk, "Skip")
    consent = desk.request.last_screen()
    assert "Country: Russia" in consent.params["text"]
    assert "My brother's patent expired" in consent.params["text"]
    await press(desk, callbacks.flow("back", "consent"))
    phone = desk.request.last_screen()  # the phone step again, with Back on its keyboard
    assert ["‹ Back"] in [[b["text"] for b in row] for row in phone.params["reply_markup"]["keyboard"]]
    await say(desk, "‹ Back")
    removed = [c for c in desk.request.of("sendMessage") if "remove_keyboard" in
               str(c.params.get("reply_markup"))]
    assert removed  # the phone keyboard went away
    text_step = desk.request.last_screen()
    assert "My brother's patent expired" in text_step.params["text"]
    assert ("Keep this question ›", "f|keep|text") in buttons(text_step)
    await press(desk, callbacks.flow("back", "text"))
    await press(desk, callbacks.flow("back", "asker"))
    await press(desk, callbacks.flow("country", "KZ"))  # fixed
    consent = desk.request.last_screen()
    assert "Country: Kazakhstan" in consent.params["text"]  # straight back to the consent
    await press(desk, callbacks.flow("consent", "yes"))
    (request,) = await rows(desk, HelpRequest)
    assert (request.topic_key, request.country, request.asker) == ("visas", "KZ", "family_abroad")
    assert [m.text for m in await rows(desk, RequestMessage)] == ["My brother's patent expired"]


async def test_a_wrong_topic_is_fixed_and_the_question_is_kept(desk):
    await to_question_step(desk, locale="en", topic="visas", country="RU")
    await say(desk, "Where do I start?")
    await say(desk, "‹ Back")  # from the phone step to the question
    await press(desk, callbacks.flow("keep", "text"))  # keep it: to the phone step again
    assert (await desk.services.flows.get(USER)).step == "phone"
    await say(desk, "‹ Back")
    for step in ("text", "asker", "country"):
        await press(desk, callbacks.flow("back", step))
    await press(desk, callbacks.flow("topic", "rights_documents"))
    flow = await desk.services.flows.get(USER)
    assert flow.step == "phone" and flow.data["topic"] == "rights_documents"
    assert flow.data["text"] == "Where do I start?"


async def test_cancel_on_a_step_ends_the_form_and_a_later_message_is_a_search(desk):
    await to_question_step(desk, locale="en")
    await press(desk, callbacks.flow("cancel", "text"))
    assert await rows(desk, FlowState) == []
    await say(desk, "patent")
    assert any(data.startswith("t|russia_patent") for _, data in buttons(desk.request.last_screen()))


async def test_an_old_back_button_is_out_of_date(desk):
    await to_question_step(desk, locale="en")
    await press(desk, callbacks.flow("back", "country"))  # pressed on an older screen
    assert "out of date" in desk.request.last_screen().params["text"]
    assert (await desk.services.flows.get(USER)).step == "text"  # the form is where it was


async def test_a_question_typed_before_the_buttons_is_kept_and_an_urgent_one_marked(desk):
    await say(desk, "/start")
    await press(desk, callbacks.language("en"))
    await press(desk, callbacks.ASK)
    await say(desk, "They took my passport and we are locked in the dormitory")
    assert "Your question is kept" in desk.request.sent_texts()[-2]
    assert step_of(desk.request.last_screen()) == "topic"  # the step is shown again
    await press(desk, callbacks.flow("topic", "-"))
    await press(desk, callbacks.flow("country", "KR"))
    await press(desk, callbacks.flow("asker", "self"))
    assert (await desk.services.flows.get(USER)).step == "phone"  # no need to write it again
    await say(desk, "Skip")
    await press(desk, callbacks.flow("consent", "yes"))
    (request,) = await rows(desk, HelpRequest)
    assert request.urgent and request.country == "KR"
