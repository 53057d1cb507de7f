"""Screenshots of the staff console for the docs, from a seeded database of fictional cases in
Russian and Uzbek (no real person's data):

    python -m tests.support.screenshots docs/

writes console-inbox.png, console-case.png and console-dashboard.png there. The cases are filed
through the real bot (in this process, Telegram recorded, not called) and worked through the
services the console uses; the console is then served alone (`python -m bot console`) and shot
in headless Debian chromium.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.console.web import CONSOLE_LOCALES
from bot.context import BotContext
from bot.db.models import AuditEntry, CaseNote, HelpRequest, RequestMessage, utcnow
from bot.runner import send_due_outbox
from bot.views import callbacks
from tests.conftest import make_settings, run_in_thread, start_harness, stop_harness
from tests.support.botprocess import BotProcess, bot_environment
from tests.support.browser import CHROMIUM, chromium, free_port, wait_until_serving
from tests.test_requests_flow import press, say, to_question_step

STAFF, ADMIN = 3003, 2202
NAMES = {STAFF: "Malika Yusupova", ADMIN: "Bekzod Rahimov"}
VIEWPORT = {"width": 1360, "height": 860}


@dataclass
class Case:
    """One fictional case: who asks, about what, and what staff did with it."""

    user_id: int
    locale: str
    topic: str
    country: str
    asker: str
    question: str
    hours_ago: float  # when it was filed
    answer: str = ""  # staff's, from the console
    follow_up: str = ""  # the user's reply to it
    note: str = ""
    holder: int | None = None
    status: str = ""  # set last, if any
    urgent: bool = False
    read: tuple[str, ...] = ()  # topics the user read before asking
    rating: str = ""  # "did the answer help?": up | down
    comment: str = ""


CASES = [
    Case(5101, "ru", "rights", "RU", "self",
         "Работодатель на стройке третий месяц не платит зарплату, обещает «потом». Трудовой "
         "договор у меня на руках. Куда обращаться и что взять с собой?", 27,
         answer="Здравствуйте! Сохраните договор и все переписки с работодателем. Напишите "
                "жалобу в трудовую инспекцию вашего региона; мы подскажем, как её составить. "
                "В каком городе вы работаете?",
         follow_up="Спасибо! Я в Подольске, договор сфотографировал.",
         note="Проверить, есть ли у работодателя разрешение на привлечение иностранных работников.",
         holder=STAFF, read=("rights", "rights_unpaid_wages", "russia_patent")),
    Case(5102, "uz", "visas", "KR", "self",
         "Koreyaga E-9 vizasi bilan ishlash uchun qaysi hujjatlar kerak va koreys tili "
         "imtihonini qayerda topshirsa bo'ladi?", 5, holder=ADMIN,
         note="Imtihon jadvali agentlik saytida yangilanganini tekshirish.",
         read=("visas_korea", "korea_eps_topik", "korea_eps_conditions")),
    Case(5103, "uz", "insurance", "TR", "family_abroad",
         "Akam Turkiyada ishlaydi, ishda qo'lini jarohatladi. Sug'urta davolanish xarajatini "
         "qoplaydimi va qayerga murojaat qilish kerak?", 50,
         answer="Assalomu alaykum! Sug'urta polisi raqamini va shifoxona hujjatlarini yuboring, "
                "tekshirib javob beramiz.", holder=STAFF,
         read=("insurance", "insurance_life_health", "visas_turkey")),
    Case(5104, "ru", "return", "UZ", "family_returned",
         "Муж вернулся из Казахстана и хочет встать на учёт как ищущий работу. С чего начать?",
         2, urgent=True, read=("return", "return_jobs", "rights_unpaid_wages")),
    Case(5105, "ru", "families", "KZ", "self",
         "Как записать ребёнка в школу, если у нас только временная регистрация?", 0.6),
    Case(5106, "uz", "official", "RU", "self",
         "Patent uchun to'lovni kechiktirib qo'ydim, endi nima qilishim kerak?", 70,
         answer="Kechiktirilgan to'lov bo'yicha hududiy migratsiya bo'limiga murojaat qiling; "
                "to'lov kvitansiyalarini saqlab qo'ying.", status="resolved", holder=STAFF,
         read=("russia_patent", "russia_patent_payment", "russia_patent"), rating="up",
         comment="Rahmat, hammasi tushunarli bo'ldi!"),
]


# What users looked for and the bot did not find (the dashboard's gaps).
SEARCHES = [(5201, "ru", "алименты"), (5202, "uz", "alimentlar"), (5203, "ru", "Алименты")]


async def _file(h, case: Case) -> int:
    await say(h, "/start", user_id=case.user_id)
    await press(h, callbacks.language(case.locale), case.user_id)
    for key in case.read:
        await press(h, callbacks.topic(key), case.user_id)
    await to_question_step(h, user_id=case.user_id, locale=case.locale, topic=case.topic,
                           country=case.country, asker=case.asker)
    await say(h, case.question, user_id=case.user_id)
    await say(h, h.services.catalogs.get(case.locale)("Skip"), user_id=case.user_id)
    await press(h, callbacks.flow("consent", "yes"), case.user_id)
    async with AsyncSession(h.services.engine) as session:
        return (await session.execute(select(HelpRequest.id).where(
            HelpRequest.user_id == case.user_id))).scalar_one()


# Between two steps of a case: what _age tells apart.
STEP = timedelta(milliseconds=40)


async def _work(h, request_id: int, case: Case) -> None:
    services = h.services

    async def step():
        await asyncio.sleep(STEP.total_seconds())

    await step()
    if case.holder:
        await services.casework.assign(request_id, case.holder, case.holder)
        await step()
    if case.note:
        await services.casework.add_note(request_id, case.holder or STAFF, case.note)
        await step()
    if case.answer:
        await services.requests.staff_reply(request_id, case.holder or STAFF, case.answer,
                                            send_now=False)
        await send_due_outbox(BotContext(h.app))
        await step()
    if case.follow_up:
        await say(h, case.follow_up, user_id=case.user_id)
        await step()
    if case.status:
        await services.requests.set_status(request_id, case.holder or STAFF, case.status)
        await send_due_outbox(BotContext(h.app))  # "did the answer help?"
        await step()
    if case.rating:
        await press(h, callbacks.satisfaction(case.rating, request_id), case.user_id)
        await step()
    if case.comment:
        await say(h, case.comment, user_id=case.user_id)


async def _age(h, request_id: int, case: Case) -> None:
    """Move the case back in time: every moment of it (messages, notes, history, the case's
    own times) keeps its order and is spread evenly over the case's age, as if worked over
    hours or days."""
    async with AsyncSession(h.services.engine) as session, session.begin():
        request = await session.get(HelpRequest, request_id)
        request.urgent = case.urgent
        rows = [request]
        for model, column in ((RequestMessage, RequestMessage.request_id),
                              (CaseNote, CaseNote.request_id), (AuditEntry, AuditEntry.target)):
            key = request.number if model is AuditEntry else request_id
            rows += (await session.execute(select(model).where(column == key))).scalars()
        moments = sorted({value for row in rows for value in _moments(row).values()})
        ranks, rank = {}, 0
        for earlier, moment in zip([None, *moments], moments):
            if earlier is not None and moment - earlier > STEP / 2:
                rank += 1  # a later step; closer ones are one step's writes
            ranks[moment] = rank
        now = utcnow()
        age = timedelta(hours=case.hours_ago)
        spread = {moment: now - age + age * (0.9 * rank / max(ranks[moments[-1]], 1))
                  for moment, rank in ranks.items()}
        for row in rows:
            for name, value in _moments(row).items():
                setattr(row, name, spread[value])


def _moments(row) -> dict[str, datetime]:
    return {column.key: getattr(row, column.key) for column in row.__table__.columns
            if isinstance(getattr(row, column.key), datetime)}


async def seed(database_url: str) -> dict[str, int]:
    """The fictional cases; the number → id of each."""
    h = await start_harness(make_settings(database_url, staff_chat_id=-1009009,
                                          admin_ids=(ADMIN,)))
    try:
        await h.services.staff.add(None, STAFF)
        for member, name in NAMES.items():
            await h.services.console_auth.issue_link(member, name)  # keeps the name
        await h.services.canned.save(STAFF, "ru", "Трудовая инспекция",
                                     "Напишите жалобу в трудовую инспекцию вашего региона.")
        await h.services.canned.save(STAFF, "uz", "Hujjatlar ro'yxati",
                                     "Pasport, mehnat shartnomasi va sug'urta polisi nusxasini yuboring.")
        ids = {}
        for case in CASES:
            request_id = await _file(h, case)
            await _work(h, request_id, case)
            await _age(h, request_id, case)
            ids[case.user_id] = request_id
        for user_id, locale, text in SEARCHES:
            await say(h, "/start", user_id=user_id)
            await press(h, callbacks.language(locale), user_id)
            await say(h, text, user_id=user_id)
        return ids
    finally:
        await stop_harness(h)


async def _login_link(database_url: str, locale: str) -> str:
    h = await start_harness(make_settings(database_url))
    try:
        await h.services.console_auth.set_locale(STAFF, locale)
        return await h.services.console_auth.issue_link(STAFF, NAMES[STAFF])
    finally:
        await stop_harness(h)


def shoot(out: Path, work: Path, locale: str = "en") -> list[Path]:
    """The PNGs in `out`, the console in `locale`; `work` holds the database and the log."""
    from bot.db.migrate import upgrade_database

    database_url = f"sqlite+aiosqlite:///{work}/console.db"
    run_in_thread(upgrade_database, database_url)
    ids = run_in_thread(asyncio.run, seed(database_url))
    token = run_in_thread(asyncio.run, _login_link(database_url, locale))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = bot_environment("http://127.0.0.1:9", "0:screenshots-not-a-token", database_url,
                          CONSOLE_ENABLED="true", CONSOLE_PORT=str(port), CONSOLE_PUBLIC_URL=url)
    console = BotProcess(env, work / "console.log", command="console")
    out.mkdir(parents=True, exist_ok=True)
    shots = []
    try:
        wait_until_serving(f"{url}/healthz", alive=lambda: console.process.poll() is None)
        with chromium() as browser:
            page = browser.new_context(viewport=VIEWPORT).new_page()
            page.goto(f"{url}/login/link?token={token}")
            page.click("#login")
            page.wait_for_selector("#inbox tr[data-case]")
            for name, path, ready in (
                    ("console-inbox.png", "/", "#inbox tr[data-case]"),
                    ("console-case.png", f"/cases/{ids[CASES[0].user_id]}", "#thread .message.note"),
                    ("console-dashboard.png", "/dashboard", "main")):
                response = page.goto(url + path)
                if not response.ok:
                    raise RuntimeError(f"{path} answered {response.status}")
                page.wait_for_selector(ready)
                shots.append(out / name)
                page.screenshot(path=str(shots[-1]), full_page=True)
    finally:
        console.stop()
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.screenshots",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the folder for the PNGs, e.g. docs/")
    parser.add_argument("--locale", choices=CONSOLE_LOCALES, default="en",
                        help="the console's language (the cases are in Russian and Uzbek)")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as work:
        for shot in shoot(args.out, Path(work), args.locale):
            print(f"wrote {shot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
