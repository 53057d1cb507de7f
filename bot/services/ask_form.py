"""The ask-a-person form, in one place: its steps, their order, what each accepts, and Back.

A small state machine over the draft (`Flow`, kept by FlowService): the handler turns an update
into one event (a button pressed, a message written, a contact shared, Back), the form answers
with where the person is now and what to show. Pure: no Telegram, no database.

    topic → country → asker → text → phone → consent

- After an answer the form goes to the first step still unanswered, so a prefilled step (the
  topic of the page the person came from, the question they typed before) is skipped, and an
  answer changed after going back leads straight on to the steps not yet answered, or to the
  consent: a wrong country or topic is fixed without starting again.
- Back goes to the step before, in the order above, showing the answer given there; Back on
  the first step leaves the form. Every step can also be left with Cancel.
- The question is urgent when the person asked from a cry for help, or when its text signals
  one (the check is given to the form: see bot.safety).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.services.flows import Flow
from bot.services.requests import ASKERS, COUNTRIES, QUESTION_LIMIT, Draft

ASK_FLOW = "ask"
STEPS = ("topic", "country", "asker", "text", "phone", "consent")
OTHER_TOPIC = "-"  # the topic button "Other question"

# Outcomes: what the handler does next.
SHOW = "show"          # show `form.step`
INVALID = "invalid"    # the answer was refused (`reason`); the step stays
STALE = "stale"        # a button of another step or of a form that has ended
LEFT = "left"          # Back on the first step, or Cancel: the draft is gone
REFUSED = "refused"    # "Do not send": the draft is gone
AGREED = "agreed"      # "I agree": file the request (see AskForm.draft)

# Reasons an answer is refused.
TOO_LONG = "too_long"
NOT_TEXT = "not_text"
NOT_OWN_PHONE = "not_own_phone"
USE_BUTTONS = "use_buttons"


@dataclass(frozen=True)
class Result:
    outcome: str
    form: Flow | None = None
    reason: str | None = None
    came_from: str | None = None  # the step the event was on (the phone step needs a goodbye)
    details: dict = field(default_factory=dict)


def answered(form: Flow, step: str) -> bool:
    return step in form.data


def next_step(form: Flow) -> str:
    return next((step for step in STEPS[:-1] if not answered(form, step)), "consent")


def _moved(form: Flow, step: str, came_from: str | None) -> Result:
    return Result(SHOW, Flow(ASK_FLOW, step, form.data), came_from=came_from)


class AskForm:
    def __init__(self, topic_exists: Callable[[str], bool],
                 is_urgent: Callable[[str], bool] = lambda text: False) -> None:
        self._topic_exists = topic_exists
        self._is_urgent = is_urgent

    def start(self, topic: str | None = None, text: str | None = None,
              urgent: bool = False) -> Result:
        """A new form; a known topic and a question typed before are filled in."""
        data: dict = {}
        if topic and self._topic_exists(topic):
            data["topic"] = topic
        if text:
            data["text"] = text[:QUESTION_LIMIT]
        if urgent:
            data["urgent"] = True
        form = Flow(ASK_FLOW, "", data)
        return _moved(form, next_step(form), None)

    def choose(self, form: Flow, step: str, value: str) -> Result:
        """A button of the step: a topic, a country, who is asking, or the consent."""
        if step != form.step:
            return Result(STALE, form)
        if step == "topic":
            if value != OTHER_TOPIC and not self._topic_exists(value):
                return Result(STALE, form)
            return self._answer(form, "topic", None if value == OTHER_TOPIC else value)
        if step == "country" and value in COUNTRIES:
            return self._answer(form, "country", value)
        if step == "asker" and value in ASKERS:
            return self._answer(form, "asker", value)
        if step == "consent" and value in ("yes", "no"):
            return self.consent(form, value == "yes")
        return Result(STALE, form)

    def write(self, form: Flow, text: str | None) -> Result:
        """A message: the question on the text step. Typed on a button step before any question
        was written, it is kept as the question (people write first, then read the buttons)
        and the step stays; anywhere else, a nudge to the buttons."""
        if form.step != "text":
            if (form.step in ("topic", "country", "asker") and not answered(form, "text")
                    and text and len(text) <= QUESTION_LIMIT):
                return Result(SHOW, Flow(ASK_FLOW, form.step, {**form.data, "text": text}),
                              came_from=form.step, details={"kept": True})
            return Result(INVALID, form, USE_BUTTONS)
        if not text:
            return Result(INVALID, form, NOT_TEXT)
        if len(text) > QUESTION_LIMIT:
            return Result(INVALID, form, TOO_LONG, details={"length": len(text)})
        return self._answer(form, "text", text)

    def keep(self, form: Flow, step: str) -> Result:
        """Go on with the answer given before (the question written or filled in)."""
        if step != form.step or not answered(form, step):
            return Result(STALE, form)
        return _moved(form, next_step(form), step)

    def phone(self, form: Flow, number: str | None, own: bool = True) -> Result:
        """The phone step: a contact shared (only one's own), or skipped (`number` None)."""
        if form.step != "phone":
            return Result(INVALID, form, USE_BUTTONS)
        if number is not None and not own:
            return Result(INVALID, form, NOT_OWN_PHONE)
        return self._answer(form, "phone", number)

    def back(self, form: Flow, step: str) -> Result:
        if step != form.step:
            return Result(STALE, form)
        index = STEPS.index(step)
        if index == 0:
            return Result(LEFT, None, came_from=step)
        return _moved(form, STEPS[index - 1], step)

    def cancel(self, form: Flow, step: str) -> Result:
        if step != form.step:
            return Result(STALE, form)
        return Result(LEFT, None, came_from=step)

    def consent(self, form: Flow, agreed: bool) -> Result:
        if form.step != "consent":
            return Result(STALE, form)
        if not agreed:
            return Result(REFUSED, None, came_from="consent")
        return Result(AGREED, form, came_from="consent")

    def draft(self, form: Flow, locale: str) -> Draft:
        """The request to file from a form that was agreed to."""
        data = form.data
        text = data["text"]
        return Draft(topic_key=data.get("topic"), country=data["country"], asker=data["asker"],
                     text=text, locale=locale, phone=data.get("phone"),
                     urgent=bool(data.get("urgent")) or self._is_urgent(text))

    def _answer(self, form: Flow, step: str, value) -> Result:
        data = {**form.data, step: value}
        answered_form = Flow(ASK_FLOW, step, data)
        return _moved(answered_form, next_step(answered_form), step)
