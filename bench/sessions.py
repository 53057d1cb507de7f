"""Simulated users. A bot session presses the buttons the bot really showed; an echo session
sends the same number and kinds of updates to the baseline, which has no buttons.

A session is closed-loop per user: each update waits for its answer (or a timeout) before the
next one. How fast updates follow each other is up to the pacer, which the phase chooses.
"""
from __future__ import annotations

import asyncio
import csv
import itertools
import random
import time
from dataclasses import dataclass
from typing import Callable, Protocol

from bench.config import CONTENT_DIR, LOCALES_DIR, SEARCH_QUERIES
from bench.fake_server import BenchTelegram, Json, ReplyTest
from bench.metrics import StepRecorder, StepSample

# How simulated users are spread over the bot's locales, and what their Telegram app says.
LOCALE_WEIGHTS = {"uz": 40, "uz_Cyrl": 15, "ru": 35, "en": 10}
TELEGRAM_LANGUAGE = {"uz": "uz", "uz_Cyrl": "uz", "ru": "ru", "en": "en"}
# Steps of a session: start, language, country (asked once after the language), section, topic,
# back, main menu, search; then, for some, ask, its topic, country and asker, the question,
# "Skip" for the phone, consent.
SESSION_STEPS, ASK_STEPS = 8, 7


class Pacer(Protocol):
    def session_started(self, steps: int) -> None:
        """A new session of about `steps` steps begins for this user."""

    async def before_step(self) -> bool:
        """Wait for this user's turn; False when the phase is over."""

    def after_step(self) -> None:
        """The user got the answer to their last update."""


class SessionOver(Exception):
    """The phase ended; the session stops between two steps."""


class StepFailed(Exception):
    """The step timed out or the screen was not what a user needs to go on (recorded)."""


@dataclass(frozen=True)
class SessionPlan:
    """The random choices of one session, made up front so both targets get the same mix."""

    locale: str
    search_query: str
    question: str
    asks: bool
    section_pick: int
    topic_pick: int
    country_pick: int


@dataclass(frozen=True)
class UiLabels:
    """Button labels a user reads, per locale (from the bot's own catalogs)."""

    back: str
    main_menu: str
    skip: str


class Scenario:
    """Everything sessions draw from: search queries, labels, the content tree."""

    def __init__(self, ask_share: float) -> None:
        from bot.content.loader import load_content
        from bot.i18n import Catalogs

        self.ask_share = ask_share
        with SEARCH_QUERIES.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        self.queries = {locale: [r["query"] for r in rows if r["locale"] == locale]
                        for locale in LOCALE_WEIGHTS}
        catalogs = Catalogs(LOCALES_DIR)
        self.labels = {locale: UiLabels(t("‹ Back"), t("Main menu"), t("Skip"))
                       for locale, t in ((loc, catalogs.get(loc)) for loc in LOCALE_WEIGHTS)}
        content = load_content(CONTENT_DIR).content
        self.tree = {root: content.topics[root].children for root in content.roots}

    def plan(self, rng: random.Random) -> SessionPlan:
        locale = rng.choices(list(LOCALE_WEIGHTS), weights=list(LOCALE_WEIGHTS.values()))[0]
        query = rng.choice(self.queries[locale])
        return SessionPlan(locale=locale, search_query=query, question=f"{query}?",
                           asks=rng.random() < self.ask_share, section_pick=rng.randrange(1000),
                           topic_pick=rng.randrange(1000), country_pick=rng.randrange(1000))


def has_inline_keyboard(_method: str, params: Json) -> bool:
    markup = params.get("reply_markup")
    return isinstance(markup, dict) and "inline_keyboard" in markup


def _buttons(message: Json | None) -> list[tuple[str, str]]:
    """(label, callback data) of every inline button, in screen order."""
    markup = (message or {}).get("reply_markup") or {}
    return [(button["text"], button["callback_data"])
            for row in markup.get("inline_keyboard", []) for button in row
            if "callback_data" in button]


class _Session:
    """What both kinds of sessions share: offering one update and waiting for its answer."""

    def __init__(self, tg: BenchTelegram, user_id: int, plan: SessionPlan, pacer: Pacer,
                 recorder: StepRecorder, step_timeout: float) -> None:
        self.tg, self.user_id, self.plan = tg, user_id, plan
        self.pacer, self.recorder, self.step_timeout = pacer, recorder, step_timeout
        self.screen_id: int | None = None  # the bot message the user is looking at

    async def run(self) -> None:
        self.recorder.sessions_started += 1
        self.pacer.session_started(self.expected_steps())
        self.user = self.tg.add_user(self.user_id, first_name="Bench",
                                     language_code=TELEGRAM_LANGUAGE[self.plan.locale])
        try:
            await self.steps()
            self.recorder.sessions_completed += 1
        except (SessionOver, StepFailed):
            pass
        finally:
            # The user stays on the server: after a timeout the bot may still answer them.
            self.tg.give_up(self.user_id)

    async def steps(self) -> None:
        raise NotImplementedError

    def expected_steps(self) -> int:
        raise NotImplementedError

    async def _step(self, kind: str, step: str, offer: Callable[[], object],
                    until: ReplyTest | None = None) -> None:
        if not await self.pacer.before_step():
            raise SessionOver
        waiter = self.tg.expect_reply(self.user_id, until)
        try:
            offer()
        except ValueError as exc:  # FakeTelegram refused: no such message or button
            self.tg.give_up(self.user_id)
            self.recorder.failed(f"{step}: {str(exc)[:80]}")
            raise StepFailed from exc
        waiter.offered_at = time.perf_counter()
        self.recorder.offer(kind)
        try:
            done_at = await asyncio.wait_for(waiter.done, self.step_timeout)
        except asyncio.TimeoutError:
            self.tg.give_up(self.user_id)
            self.recorder.timed_out(kind, waiter.offered_at, self.step_timeout)
            raise StepFailed from None
        self.recorder.answered(StepSample(kind, step, waiter.offered_at,
                                          waiter.first_reply_at or done_at, done_at))
        self.screen_id = waiter.message_id or self.screen_id
        self.pacer.after_step()

    def _fail(self, reason: str) -> StepFailed:
        self.recorder.failed(reason)
        return StepFailed(reason)


class BotSession(_Session):
    """/start → language → section → topic → (next page) → back → main menu → search →
    (for some) ask a question to the end; every press uses a button the bot showed."""

    def __init__(self, *args, labels: UiLabels, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.labels = labels

    def expected_steps(self) -> int:
        return SESSION_STEPS + (ASK_STEPS if self.plan.asks else 0)

    async def steps(self) -> None:
        plan, labels = self.plan, self.labels
        await self._text("start", "/start")
        await self._press("language", f"l|{plan.locale}")
        await self._press("country", self._pick(lambda label, data: data.startswith("C|"),
                                                plan.country_pick))
        await self._press("section", self._pick(lambda label, data: data.startswith("t|"),
                                                plan.section_pick))
        back_to_menu = self._data_of(labels.back)
        topic = self._pick(lambda label, data: data.startswith("t|") and data != back_to_menu,
                           plan.topic_pick, required=False)
        if topic is not None:
            await self._press("topic", topic)
            next_page = self._data_of("›", required=False)
            if next_page is not None:
                await self._press("next_page", next_page)
        await self._press("back", self._data_of(labels.back))
        if self._data_of(labels.main_menu, required=False) is not None:
            await self._press("main_menu", self._data_of(labels.main_menu))
        menu_id = self.screen_id
        await self._text("search", plan.search_query)
        if not plan.asks:
            return
        self.screen_id = menu_id  # "Ask a question" is on the main menu, above the results
        await self._press("ask", "a")
        await self._press("ask_topic", "f|topic|-")
        await self._press("ask_country", self._pick(
            lambda label, data: data.startswith("f|country|"), plan.country_pick))
        await self._press("ask_asker", "f|asker|self")
        await self._text("ask_question", plan.question)
        # "Skip" is answered twice: "Thank you" (removing the phone keyboard), then consent.
        await self._text("ask_skip_phone", labels.skip, until=has_inline_keyboard)
        await self._press("ask_consent", "f|consent|yes")

    # ------------------------------------------------------------ reading the screen

    def _screen(self) -> Json | None:
        return self.tg.bot_message(self.user_id, self.screen_id)

    def _pick(self, wanted: Callable[[str, str], bool], pick: int,
              required: bool = True) -> str | None:
        choices = [data for label, data in _buttons(self._screen()) if wanted(label, data)]
        if not choices:
            if required:
                raise self._fail(f"no button to pick on the screen {self.screen_id}")
            return None
        return choices[pick % len(choices)]

    def _data_of(self, label: str, required: bool = True) -> str | None:
        for text, data in _buttons(self._screen()):
            if text == label:
                return data
        if required:
            raise self._fail(f"no {label!r} button")
        return None

    # ------------------------------------------------------------ acting

    async def _text(self, step: str, text: str, until: ReplyTest | None = None) -> None:
        await self._step("text", step, lambda: self.tg.send_text(self.user_id, text), until)

    async def _press(self, step: str, data: str) -> None:
        message_id = self.screen_id
        if message_id is None:
            raise self._fail(f"{step}: nothing to press on")
        await self._step("callback", step,
                         lambda: self.tg.press(self.user_id, message_id, data))


class EchoSession(_Session):
    """The same plan as a BotSession, as the same sequence of texts and callback queries.
    The echo bot shows no buttons, so callback queries are raw updates."""

    def __init__(self, *args, labels: UiLabels, tree: dict[str, tuple[str, ...]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.labels, self.tree = labels, tree
        self._queries = itertools.count(1)

    def script(self) -> list[tuple[str, str, str]]:
        """(kind, step, text or callback data), in the order a BotSession sends them."""
        plan = self.plan
        sections = list(self.tree)
        section = sections[plan.section_pick % len(sections)]
        children = self.tree[section]
        steps = [("text", "start", "/start"), ("callback", "language", f"l|{plan.locale}"),
                 ("callback", "country", "C|RU"), ("callback", "section", f"t|{section}")]
        if children:  # topic, then Back to the section, then Main menu
            steps += [("callback", "topic", f"t|{children[plan.topic_pick % len(children)]}"),
                      ("callback", "back", f"t|{section}"), ("callback", "main_menu", "m")]
        else:  # Back from a section is the main menu
            steps.append(("callback", "back", "m"))
        steps.append(("text", "search", plan.search_query))
        if plan.asks:
            steps += [("callback", "ask", "a"), ("callback", "ask_topic", "f|topic|-"),
                      ("callback", "ask_country", "f|country|RU"),
                      ("callback", "ask_asker", "f|asker|self"),
                      ("text", "ask_question", plan.question),
                      ("text", "ask_skip_phone", self.labels.skip),
                      ("callback", "ask_consent", "f|consent|yes")]
        return steps

    def expected_steps(self) -> int:
        return len(self.script())

    async def steps(self) -> None:
        for kind, step, payload in self.script():
            if kind == "text":
                offer = lambda text=payload: self.tg.send_text(self.user_id, text)  # noqa: E731
            else:
                offer = lambda data=payload: self.tg.send_update(self._callback(data))  # noqa: E731
            await self._step(kind, step, offer)

    def _callback(self, data: str) -> Json:
        chat = {"id": self.user_id, "type": "private", "first_name": self.user["first_name"]}
        message = {"message_id": self.screen_id or 1, "date": int(time.time()), "chat": chat,
                   "from": self.tg.bot_user, "text": "echo"}
        return {"callback_query": {"id": f"{self.user_id}-{next(self._queries)}",
                                   "from": self.user, "chat_instance": str(self.user_id),
                                   "message": message, "data": data}}
