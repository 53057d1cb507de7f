"""My deadlines: the conversation's steps, the plan kept in the database, and its reminders.

No Telegram here. Each method takes the user's answer, saves what it changes (the step in
`flow_states`, the plan in `deadline_plans`, …) before it returns, and says what to show next
as a `Step`, which a view turns into a screen. Any process can take the user's next answer.

The dates are personal data: stored once the user gives the entry date, shown by /mydata,
erased by /delete and by `purge_past` once no deadline is ahead. Reminders are sent only
after the user agreed to them; each is a row of `deadline_reminders` with an outbox row
(kind "reminder") due at its time, so one process sends it, once, and a restart loses none.
Changing a date, a stay or the country reschedules them all.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import DeadlinePlan, DeadlineReminder, DeadlineStay, utcnow
from bot.db.repositories import (REMINDER, DeadlineRepository, FlowRepository, OutboxRepository,
                                 RequestRepository, UserRepository)
from bot.deadlines import (IMPOSSIBLE, NOT_A_DATE, DateRejected, Deadline, Rule, RuleBook, deadlines_for,
                           load_rules, parse_user_date)
from bot.deadlines.reminders import has_deadline_ahead, local_today, reminder_times
from bot.services.flows import DRAFT_LIFETIME, Flow

log = logging.getLogger(__name__)

__all__ = ["REMINDER", "DeadlineService", "RulesStore", "Step", "PlanView", "ReminderDue"]

FLOW = "deadlines"
# The conversation's steps, as kept in flow_states.step.
STEP_COUNTRY, STEP_ENTRY, STEP_CONTRACT = "country", "entry", "contract"
STEP_STAYS, STEP_STAY_FROM, STEP_STAY_TO = "stays", "stay_from", "stay_to"
# The date each date step asks for, as named in button data.
FIELDS = {STEP_ENTRY: "entry", STEP_CONTRACT: "contract", STEP_STAY_FROM: "from",
          STEP_STAY_TO: "to"}
STEP_OF_FIELD = {value: key for key, value in FIELDS.items()}

# What a view shows (Step.screen).
COUNTRIES, DATE, STAYS, RESULT, CONSENT, FORGOTTEN, UNAVAILABLE = (
    "countries", "date", "stays", "result", "consent", "forgotten", "unavailable")
# Why an answer was not taken (Step.error), besides the parser's reasons.
ENDS_BEFORE_START = "ends_before_start"
AFTER_ENTRY = "after_entry"
STAY_AHEAD = "stay_ahead"  # an earlier stay cannot be in the future
TOO_MANY_STAYS = "too_many_stays"
USE_BUTTONS = "use_buttons"
# What just happened (Step.notice).
REMINDERS_ON, REMINDERS_OFF, DECLINED, DONE = "reminders_on", "reminders_off", "declined", "done"
STALE, STAYS_DROPPED, NO_PLAN = "stale", "stays_dropped", "no_plan"

MAX_STAYS = 20
# Text that is not a date goes to the search instead once a date step is this old: the user
# has left the conversation without saying so.
STEP_PATIENCE = timedelta(minutes=15)
MAX_FUTURE_DAYS = 366  # a planned entry: within a year
MAX_PAST_DAYS = 3653  # ten years
PURGE_BATCH = 500


@dataclass(frozen=True)
class PlanView:
    """A person's plan, detached from the session."""

    user_id: int
    country: str
    entry: date
    contract: date | None
    stays: tuple[tuple[int, date, date], ...]  # (id, entered, left), in date order
    reminders: bool
    done: frozenset[str]
    pending: tuple[tuple[str, date, int, datetime], ...] = ()  # (rule, deadline, days before, at)


@dataclass(frozen=True)
class Step:
    """What to show next."""

    screen: str
    today: date | None = None  # on the host country's clock
    plan: PlanView | None = None
    rules: tuple[Rule, ...] = ()  # the plan's country's rules
    deadlines: tuple[Deadline, ...] = ()
    countries: tuple[str, ...] = ()  # to choose from, the one the bot knows first
    country: str | None = None  # date steps: whose entry is asked about
    field: str | None = None  # date steps: entry | contract | from | to
    month: date | None = None  # date steps: the first day of the calendar month shown
    earliest: date | None = None  # date steps: the days that can be picked
    latest: date | None = None
    stay_from: date | None = None  # the "to" step: where the stay began
    setup: bool = False  # the first time through: the steps lead on to the next
    error: str | None = None
    notice: str | None = None
    notice_rule: Rule | None = None


@dataclass(frozen=True)
class ReminderDue:
    """A claimed reminder to send now."""

    id: int
    user_id: int
    locale: str | None
    country: str
    rule: Rule
    deadline: date
    days_left: int


class RulesStore:
    """content/rules.yaml in service: a broken edit is logged and the last good rules stay."""

    def __init__(self, content_dir: Path, check_every: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = content_dir / "rules.yaml"
        self._content_dir = content_dir
        self._check_every = check_every
        self._clock = clock
        self._book = RuleBook({})
        self._signature: tuple[int, int] | None = None
        self._checked = float("-inf")

    def _stat(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def load(self) -> None:
        self._signature = self._stat()
        self._checked = self._clock()
        result = load_rules(self._content_dir)
        if result.rules is None:
            for problem in result.errors:
                log.error("deadline rules not taken, the last good ones stay: %s", problem)
            return
        self._book = result.rules

    @property
    def current(self) -> RuleBook:
        if self._clock() - self._checked >= self._check_every:
            self._checked = self._clock()
            if self._stat() != self._signature:
                self.load()
        return self._book


def counts_a_window(rules: tuple[Rule, ...]) -> bool:
    return any(reading.counts_a_window for rule in rules for reading in rule.readings)


def needs_contract(rules: tuple[Rule, ...]) -> bool:
    return any(rule.event == "labour_contract" for rule in rules)


def _done_keys(plan: DeadlinePlan) -> frozenset[str]:
    try:
        keys = json.loads(plan.done_rules or "[]")
    except ValueError:
        return frozenset()
    return frozenset(k for k in keys if isinstance(k, str))


def _date_from_number(number: int | None) -> date | None:
    """20261112 → 12 Nov 2026; None for anything else (button data can be forged)."""
    if number is None:
        return None
    try:
        return date(number // 10000, number // 100 % 100, number % 100)
    except ValueError:
        return None


def _month(text: str | None) -> date | None:
    try:
        return date.fromisoformat(f"{text}-01") if text else None
    except ValueError:
        return None


def _first_of_month(day: date) -> date:
    return day.replace(day=1)


class DeadlineService:
    def __init__(self, sessions: async_sessionmaker, rules: RulesStore,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessions
        self.rules = rules
        self.clock = clock  # tests move it

    def now(self) -> datetime:
        return self.clock()

    # ---- the conversation ---------------------------------------------------------------

    async def open(self, user_id: int, notice: str | None = None) -> Step:
        """"📅 My deadlines": the plan's answer, or the first step."""
        book = self.rules.current
        if not book.by_country:
            return Step(UNAVAILABLE)
        async with self._sessions.begin() as session:
            await self._end_flow(session, user_id)
            plan = await DeadlineRepository(session).plan(user_id)
            if plan is not None:
                return await self._result(session, plan, notice=notice)
            return await self._start(session, user_id, notice=notice)

    async def choose_country(self, user_id: int, country: str) -> Step:
        async with self._sessions.begin() as session:
            flow = await self._flow(session, user_id)
            if flow is None or flow.step != STEP_COUNTRY:
                return await self._stale(session, user_id)
            if not self.rules.current.for_country(country):
                return await self._start(session, user_id)
            flow.data.update(country=country, month=None)
            flow.step = STEP_ENTRY
            await self._save_flow(session, user_id, flow)
            return await self._date_step(session, user_id, flow)

    async def show_month(self, user_id: int, field_name: str, month_number: int | None) -> Step:
        """The calendar's ‹ and ›."""
        async with self._sessions.begin() as session:
            flow = await self._flow(session, user_id)
            month = _date_from_number(month_number * 100 + 1) if month_number else None
            if flow is None or FIELDS.get(flow.step) != field_name or month is None:
                return await self._stale(session, user_id)
            flow.data["month"] = month.isoformat()[:7]
            await self._save_flow(session, user_id, flow)
            return await self._date_step(session, user_id, flow)

    async def pick_date(self, user_id: int, field_name: str, day_number: int | None) -> Step:
        """A day pressed in the calendar."""
        async with self._sessions.begin() as session:
            flow = await self._flow(session, user_id)
            if flow is None or FIELDS.get(flow.step) != field_name:
                return await self._stale(session, user_id)
            day = _date_from_number(day_number)
            if day is None:
                return await self._date_step(session, user_id, flow, error=IMPOSSIBLE)
            rejected = self._out_of_range(flow, day)
            if rejected is not None:
                return await self._date_step(session, user_id, flow, error=rejected.reason)
            return await self._take_date(session, user_id, flow, day)

    async def type_answer(self, user_id: int, text: str | None) -> Step | None:
        """A message while the conversation is at a step. Where a date is asked for: the date
        taken, or the step again saying what was wrong. None when the message is not for
        this conversation (a step that waits for buttons, or a date step left a while ago
        and text that is no date): the conversation ends and the message is the caller's."""
        async with self._sessions.begin() as session:
            flow, saved = await self._flow_and_time(session, user_id)
            if flow is None or flow.step not in FIELDS:
                await self._end_flow(session, user_id)
                return None
            recent = utcnow() - saved < STEP_PATIENCE
            if text is None:
                if not recent:
                    await self._end_flow(session, user_id)
                    return None
                return await self._date_step(session, user_id, flow, error=USE_BUTTONS)
            today = await self._today(session, user_id, flow)
            typed = parse_user_date(text, today, max_future_days=MAX_FUTURE_DAYS,
                                    max_past_days=MAX_PAST_DAYS)
            if isinstance(typed, DateRejected):
                if typed.reason == NOT_A_DATE and not recent:
                    await self._end_flow(session, user_id)
                    return None
                return await self._date_step(session, user_id, flow, error=typed.reason)
            return await self._take_date(session, user_id, flow, typed)

    async def leave(self, user_id: int) -> None:
        """The user went to the main menu: a step waiting for an answer waits no more."""
        async with self._sessions.begin() as session:
            await self._end_flow(session, user_id)

    async def skip(self, user_id: int) -> Step:
        """No labour contract date (yet)."""
        async with self._sessions.begin() as session:
            flow = await self._flow(session, user_id)
            plan = await DeadlineRepository(session).plan(user_id)
            if flow is None or flow.step != STEP_CONTRACT or plan is None:
                return await self._stale(session, user_id)
            return await self._after_contract(session, plan, flow)

    async def change(self, user_id: int, what: str) -> Step:
        """Change the entry date, the contract date, or the country (which starts again)."""
        async with self._sessions.begin() as session:
            plan = await DeadlineRepository(session).plan(user_id)
            if plan is None or what == "country":
                return await self._start(session, user_id)
            step = {"entry": STEP_ENTRY, "contract": STEP_CONTRACT}.get(what)
            if step is None:
                return await self._stale(session, user_id)
            flow = Flow(FLOW, step, {"setup": False, "country": plan.country})
            await self._save_flow(session, user_id, flow)
            return await self._date_step(session, user_id, flow)

    async def _in_setup(self, session, user_id: int) -> bool:
        """Whether the user is still setting the plan up for the first time."""
        flow = await self._flow(session, user_id)
        return bool(flow and flow.data.get("setup"))

    async def stays(self, user_id: int) -> Step:
        async with self._sessions.begin() as session:
            plan = await DeadlineRepository(session).plan(user_id)
            if plan is None:
                return await self._start(session, user_id)
            setup = await self._in_setup(session, user_id)
            return await self._stays_step(session, plan, setup)

    async def add_stay(self, user_id: int) -> Step:
        async with self._sessions.begin() as session:
            repository = DeadlineRepository(session)
            plan = await repository.plan(user_id)
            if plan is None:
                return await self._start(session, user_id)
            setup = await self._in_setup(session, user_id)
            if len(await repository.stays(user_id)) >= MAX_STAYS:
                return await self._stays_step(session, plan, setup, error=TOO_MANY_STAYS)
            flow = Flow(FLOW, STEP_STAY_FROM, {"setup": setup, "country": plan.country})
            await self._save_flow(session, user_id, flow)
            return await self._date_step(session, user_id, flow)

    async def remove_stay(self, user_id: int, stay_id: int) -> Step:
        async with self._sessions.begin() as session:
            repository = DeadlineRepository(session)
            plan = await repository.plan(user_id)
            if plan is None:
                return await self._start(session, user_id)
            if await repository.delete_stays(user_id, stay_id):
                plan.updated_at = utcnow()
                await self._reschedule(session, plan)
            setup = await self._in_setup(session, user_id)
            return await self._stays_step(session, plan, setup)

    async def ask_reminders(self, user_id: int) -> Step:
        async with self._sessions.begin() as session:
            plan = await DeadlineRepository(session).plan(user_id)
            if plan is None:
                return await self._start(session, user_id)
            return Step(CONSENT, plan=await self._plan_view(session, plan),
                        country=plan.country)

    async def consent(self, user_id: int, agreed: bool) -> Step:
        async with self._sessions.begin() as session:
            await self._end_flow(session, user_id)
            plan = await DeadlineRepository(session).plan(user_id)
            if plan is None:
                return await self._start(session, user_id)
            if not agreed:
                return await self._result(session, plan, notice=DECLINED)
            now = self.now()
            plan.reminders, plan.consented_at, plan.updated_at = True, now, now
            await self._reschedule(session, plan)
            return await self._result(session, plan, notice=REMINDERS_ON)

    async def stop_all(self, user_id: int) -> Step:
        """"Stop all": no more reminders (the dates stay until /delete or until they pass)."""
        async with self._sessions.begin() as session:
            await self._end_flow(session, user_id)
            repository = DeadlineRepository(session)
            plan = await repository.plan(user_id)
            if plan is None:
                return await self._start(session, user_id, notice=NO_PLAN)
            plan.reminders, plan.consented_at, plan.updated_at = False, None, utcnow()
            await repository.delete_reminders(user_id)
            return await self._result(session, plan, notice=REMINDERS_OFF)

    async def done(self, user_id: int, rule_key: str) -> Step:
        """"Done" on a reminder: no more reminders of this deadline."""
        async with self._sessions.begin() as session:
            await self._end_flow(session, user_id)
            repository = DeadlineRepository(session)
            plan = await repository.plan(user_id)
            if plan is None:
                return await self._start(session, user_id, notice=NO_PLAN)
            rule = self.rules.current.find(rule_key)
            if rule is None or rule.country != plan.country:
                return await self._result(session, plan, notice=STALE)
            plan.done_rules = json.dumps(sorted(_done_keys(plan) | {rule_key}))
            plan.updated_at = utcnow()
            await repository.delete_reminders(user_id, rule_key=rule_key)
            return await self._result(session, plan, notice=DONE, notice_rule=rule)

    async def forget(self, user_id: int) -> Step:
        """Delete the plan, its stays and reminders."""
        async with self._sessions.begin() as session:
            await self._end_flow(session, user_id)
            await DeadlineRepository(session).delete_all(user_id)
        return Step(FORGOTTEN)

    # ---- reminders ------------------------------------------------------------------------

    async def reminder_to_send(self, reminder_id: int) -> ReminderDue | None:
        """The claimed reminder, or None when there is nothing to send any more (stopped,
        done, changed, or too late): then its outbox row is marked done."""
        now = self.now()
        async with self._sessions.begin() as session:
            repository = DeadlineRepository(session)
            reminder = await repository.reminder(reminder_id)
            plan = await repository.plan(reminder.user_id) if reminder else None
            rule = self.rules.current.find(reminder.rule_key) if reminder else None
            why_not = None
            if reminder is None or plan is None or rule is None:
                why_not = "no longer planned"
            elif reminder.sent_at is not None:
                why_not = "sent already"
            elif not plan.reminders or reminder.rule_key in _done_keys(plan):
                why_not = "stopped by the user"
            else:
                today = local_today(plan.country, now)
                if today > reminder.deadline or (reminder.days_before and today >= reminder.deadline):
                    why_not = "too late"  # the deadline passed, or the day's reminder is due
            if why_not is not None:
                await self._close_outbox(session, reminder_id, why_not)
                return None
            user = await UserRepository(session).get(reminder.user_id)
            return ReminderDue(reminder.id, reminder.user_id, user.locale if user else None,
                               plan.country, rule, reminder.deadline, (reminder.deadline - today).days)

    async def reminder_sent(self, reminder_id: int) -> None:
        async with self._sessions.begin() as session:
            reminder = await DeadlineRepository(session).reminder(reminder_id)
            if reminder is not None:
                reminder.sent_at = utcnow()
            await self._close_outbox(session, reminder_id)

    async def reminder_dropped(self, reminder_id: int, error: str) -> None:
        """The user blocked the bot: this reminder is dropped, never retried (it counts as
        handled, like a sent one; the outbox row keeps why)."""
        async with self._sessions.begin() as session:
            reminder = await DeadlineRepository(session).reminder(reminder_id)
            if reminder is not None:
                reminder.sent_at = utcnow()
            await self._close_outbox(session, reminder_id, error)

    async def purge_past(self) -> int:
        """Delete the plans with no deadline ahead; returns how many."""
        book, now = self.rules.current, self.now()
        purged, after = 0, -(2 ** 63)
        while True:
            async with self._sessions.begin() as session:
                repository = DeadlineRepository(session)
                plans = await repository.plans_after(after, PURGE_BATCH)
                if not plans:
                    return purged
                stays = await repository.stays_of([p.user_id for p in plans])
                for plan in plans:
                    deadlines = self._deadlines(book, plan, stays[plan.user_id], now)
                    if deadlines is None or not has_deadline_ahead(deadlines):
                        await repository.delete_all(plan.user_id)
                        purged += 1
                after = plans[-1].user_id

    async def export(self, session: AsyncSession, user_id: int) -> dict | None:
        """The plan as /mydata shows it, read on the caller's session."""
        plan = await DeadlineRepository(session).plan(user_id)
        if plan is None:
            return None
        view = await self._plan_view(session, plan)
        return {
            "country": view.country, "entry_date": view.entry.isoformat(),
            "labour_contract_date": view.contract.isoformat() if view.contract else None,
            "earlier_stays": [{"entered": a.isoformat(), "left": b.isoformat()}
                              for _, a, b in view.stays],
            "reminders": view.reminders,
            "reminders_agreed_at": plan.consented_at.isoformat() if plan.consented_at else None,
            "done": sorted(view.done),
            "reminders_planned": [{"rule": key, "deadline": day.isoformat(),
                                   "days_before": before, "at": at.isoformat()}
                                  for key, day, before, at in view.pending],
        }

    # ---- inside -------------------------------------------------------------------------

    async def _flow(self, session: AsyncSession, user_id: int) -> Flow | None:
        return (await self._flow_and_time(session, user_id))[0]

    async def _flow_and_time(self, session: AsyncSession,
                             user_id: int) -> tuple[Flow | None, datetime | None]:
        state = await FlowRepository(session).get(user_id)
        if state is None or state.flow != FLOW or utcnow() - state.updated_at > DRAFT_LIFETIME:
            return None, None
        return Flow(state.flow, state.step, json.loads(state.data)), state.updated_at

    async def _save_flow(self, session: AsyncSession, user_id: int, flow: Flow) -> None:
        await FlowRepository(session).put(user_id, flow.name, flow.step,
                                          json.dumps(flow.data, ensure_ascii=False), utcnow())

    async def _end_flow(self, session: AsyncSession, user_id: int) -> None:
        """End this conversation's step (never another flow's draft, e.g. a question)."""
        state = await FlowRepository(session).get(user_id)
        if state is not None and state.flow == FLOW:
            await FlowRepository(session).delete(user_id)

    async def _start(self, session: AsyncSession, user_id: int, notice: str | None = None) -> Step:
        book = self.rules.current
        if not book.by_country:
            return Step(UNAVAILABLE)
        known = await self._known_country(session, user_id, book)
        countries = tuple(book.by_country)
        if known is not None:
            countries = (known, *(c for c in countries if c != known))
        await self._save_flow(session, user_id, Flow(FLOW, STEP_COUNTRY, {"setup": True}))
        return Step(COUNTRIES, countries=countries, setup=True, notice=notice)

    async def _known_country(self, session: AsyncSession, user_id: int, book: RuleBook) -> str | None:
        """The country the bot already knows for this user: their profile's (once the users
        table has it), their plan's, or that of their latest request."""
        user = await UserRepository(session).get(user_id)
        candidates = [getattr(user, "country", None)]
        plan = await DeadlineRepository(session).plan(user_id)
        candidates.append(plan.country if plan else None)
        latest = await RequestRepository(session).for_user(user_id, limit=1)
        candidates.append(latest[0].country if latest else None)
        return next((c for c in candidates if c and book.for_country(c)), None)

    async def _stale(self, session: AsyncSession, user_id: int) -> Step:
        """A button from an earlier step: show where the user is now."""
        await self._end_flow(session, user_id)
        plan = await DeadlineRepository(session).plan(user_id)
        if plan is not None:
            return await self._result(session, plan, notice=STALE)
        return await self._start(session, user_id, notice=STALE)

    async def _today(self, session: AsyncSession, user_id: int, flow: Flow) -> date:
        country = flow.data.get("country")
        if country is None:
            plan = await DeadlineRepository(session).plan(user_id)
            country = plan.country if plan else "UZ"
        return local_today(country, self.now())

    @staticmethod
    def _bounds(today: date) -> tuple[date, date]:
        """The dates the bot takes: within ten years back and a year ahead."""
        return today - timedelta(days=MAX_PAST_DAYS), today + timedelta(days=MAX_FUTURE_DAYS)

    def _out_of_range(self, flow: Flow, day: date) -> DateRejected | None:
        today = local_today(flow.data.get("country") or "UZ", self.now())
        earliest, latest = self._bounds(today)
        if day > latest:
            return DateRejected("far_future")
        if day < earliest:
            return DateRejected("far_past")
        return None

    async def _date_step(self, session: AsyncSession, user_id: int, flow: Flow,
                         error: str | None = None) -> Step:
        today = await self._today(session, user_id, flow)
        plan = await DeadlineRepository(session).plan(user_id)
        earliest, latest = self._bounds(today)
        stay_from = date.fromisoformat(flow.data["from"]) if flow.data.get("from") else None
        if flow.step == STEP_STAY_TO and stay_from is None:
            flow.step = STEP_STAY_FROM
            await self._save_flow(session, user_id, flow)
        default = today
        if plan is not None:
            default = {
                STEP_ENTRY: plan.entry_date if not flow.data.get("setup") else today,
                STEP_CONTRACT: plan.contract_date or plan.entry_date,
                STEP_STAY_FROM: _first_of_month(min(plan.entry_date, today)) - timedelta(days=1),
                STEP_STAY_TO: stay_from or plan.entry_date,
            }[flow.step]
        if plan is not None and flow.step == STEP_STAY_FROM:
            latest = min(latest, plan.entry_date - timedelta(days=1), today)
        elif plan is not None and flow.step == STEP_STAY_TO:
            earliest = max(earliest, stay_from or earliest)
            latest = min(latest, plan.entry_date, today)
        month = _month(flow.data.get("month")) or _first_of_month(default)
        month = min(max(month, _first_of_month(earliest)), _first_of_month(latest))
        return Step(DATE, today=today, country=flow.data.get("country") or (plan and plan.country),
                    field=FIELDS[flow.step], month=month, earliest=earliest, latest=latest,
                    stay_from=stay_from if flow.step == STEP_STAY_TO else None,
                    setup=bool(flow.data.get("setup")), error=error,
                    plan=await self._plan_view(session, plan) if plan else None)

    async def _take_date(self, session: AsyncSession, user_id: int, flow: Flow, day: date) -> Step:
        repository = DeadlineRepository(session)
        plan = await repository.plan(user_id)
        if flow.step == STEP_ENTRY:
            return await self._take_entry(session, user_id, flow, plan, day)
        if plan is None:
            return await self._start(session, user_id)
        if flow.step == STEP_CONTRACT:
            plan.contract_date, plan.updated_at = day, utcnow()
            await self._reschedule(session, plan)
            return await self._after_contract(session, plan, flow)
        if day > local_today(plan.country, self.now()):
            return await self._date_step(session, user_id, flow, error=STAY_AHEAD)
        if flow.step == STEP_STAY_FROM:
            if day >= plan.entry_date:
                return await self._date_step(session, user_id, flow, error=AFTER_ENTRY)
            flow.step = STEP_STAY_TO
            flow.data.update({"from": day.isoformat(), "month": None})
            await self._save_flow(session, user_id, flow)
            return await self._date_step(session, user_id, flow)
        began = date.fromisoformat(flow.data["from"])
        if day < began:
            return await self._date_step(session, user_id, flow, error=ENDS_BEFORE_START)
        if day > plan.entry_date:
            return await self._date_step(session, user_id, flow, error=AFTER_ENTRY)
        if len(await repository.stays(user_id)) >= MAX_STAYS:
            return await self._stays_step(session, plan, bool(flow.data.get("setup")),
                                          error=TOO_MANY_STAYS)
        repository.add_stay(DeadlineStay(user_id=user_id, entered=began, left=day))
        plan.updated_at = utcnow()
        await session.flush()
        await self._reschedule(session, plan)
        return await self._stays_step(session, plan, bool(flow.data.get("setup")))

    async def _take_entry(self, session: AsyncSession, user_id: int, flow: Flow,
                          plan: DeadlinePlan | None, day: date) -> Step:
        repository = DeadlineRepository(session)
        country = flow.data.get("country") or (plan.country if plan else None)
        if country is None or not self.rules.current.for_country(country):
            return await self._start(session, user_id)
        now, notice = self.now(), None
        if plan is None:
            plan = DeadlinePlan(user_id=user_id, country=country, entry_date=day,
                                reminders=False, done_rules="[]", created_at=now, updated_at=now)
            repository.add_plan(plan)
        elif plan.country != country:
            # Another country: the stays and the contract were about the other one. The
            # consent to reminders stays: it was given for reminders, not for a country.
            await repository.delete_stays(user_id)
            plan.country, plan.entry_date, plan.contract_date = country, day, None
            plan.done_rules, plan.created_at, plan.updated_at = "[]", now, now
        else:
            # A new entry date is a new count: what was "done" was done for the old one.
            plan.entry_date, plan.done_rules, plan.updated_at = day, "[]", now
            later = [s for s in await repository.stays(user_id) if s.left > day]
            for stay in later:
                await session.delete(stay)
            notice = STAYS_DROPPED if later else None
        await session.flush()
        await self._reschedule(session, plan)
        rules = self.rules.current.for_country(country)
        if flow.data.get("setup"):
            if needs_contract(rules) and plan.contract_date is None:
                flow.step, flow.data["month"] = STEP_CONTRACT, None
                await self._save_flow(session, user_id, flow)
                return await self._date_step(session, user_id, flow)
            if counts_a_window(rules):
                return await self._stays_step(session, plan, setup=True)
        await self._end_flow(session, user_id)
        return await self._result(session, plan, notice=notice)

    async def _after_contract(self, session: AsyncSession, plan: DeadlinePlan, flow: Flow) -> Step:
        if flow.data.get("setup") and counts_a_window(self.rules.current.for_country(plan.country)):
            return await self._stays_step(session, plan, setup=True)
        await self._end_flow(session, plan.user_id)
        return await self._result(session, plan)

    async def _stays_step(self, session: AsyncSession, plan: DeadlinePlan, setup: bool,
                          error: str | None = None) -> Step:
        await self._save_flow(session, plan.user_id, Flow(FLOW, STEP_STAYS,
                                                          {"setup": setup, "country": plan.country}))
        return Step(STAYS, today=local_today(plan.country, self.now()),
                    plan=await self._plan_view(session, plan), country=plan.country,
                    rules=self.rules.current.for_country(plan.country), setup=setup, error=error)

    async def _result(self, session: AsyncSession, plan: DeadlinePlan, notice: str | None = None,
                      notice_rule: Rule | None = None) -> Step:
        view = await self._plan_view(session, plan)
        book = self.rules.current
        rules = book.for_country(plan.country)
        stays = [(a, b) for _, a, b in view.stays]
        today = local_today(plan.country, self.now())
        deadlines = deadlines_for(rules, plan.entry_date, today, stays,
                                  labour_contract=plan.contract_date)
        return Step(RESULT, today=today, plan=view, rules=rules, deadlines=tuple(deadlines),
                    country=plan.country, notice=notice, notice_rule=notice_rule)

    async def _plan_view(self, session: AsyncSession, plan: DeadlinePlan) -> PlanView:
        repository = DeadlineRepository(session)
        stays = tuple((s.id, s.entered, s.left) for s in await repository.stays(plan.user_id))
        pending = tuple((r.rule_key, r.deadline, r.days_before, r.due_at)
                        for r in await repository.reminders(plan.user_id) if r.sent_at is None)
        return PlanView(plan.user_id, plan.country, plan.entry_date, plan.contract_date, stays,
                        bool(plan.reminders), _done_keys(plan), pending)

    def _deadlines(self, book: RuleBook, plan: DeadlinePlan, stays: list[DeadlineStay],
                   now: datetime) -> list[Deadline] | None:
        rules = book.for_country(plan.country)
        if not rules:
            return None
        try:
            return deadlines_for(rules, plan.entry_date, local_today(plan.country, now),
                                 [(s.entered, s.left) for s in stays],
                                 labour_contract=plan.contract_date)
        except ValueError:
            return None

    async def _reschedule(self, session: AsyncSession, plan: DeadlinePlan) -> None:
        """Drop the reminders not yet sent and plan them again from the dates as they are."""
        repository = DeadlineRepository(session)
        await repository.delete_reminders(plan.user_id)
        if not plan.reminders:
            return
        now = self.now()
        deadlines = self._deadlines(self.rules.current, plan, await repository.stays(plan.user_id),
                                    now)
        for when in reminder_times(deadlines or (), plan.country, now, skip=_done_keys(plan)):
            await repository.add_reminder(DeadlineReminder(
                user_id=plan.user_id, rule_key=when.rule_key, deadline=when.deadline,
                days_before=when.days_before, due_at=when.due_at))

    async def _close_outbox(self, session: AsyncSession, reminder_id: int,
                            why: str | None = None) -> None:
        message = await OutboxRepository(session).for_ref(REMINDER, reminder_id)
        if message is not None and message.done_at is None:
            message.done_at, message.claimed_until = utcnow(), None
            if why:
                message.last_error = why[:500]
