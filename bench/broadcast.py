"""Announcements: the pace a broadcast achieves against its target, and what it does to the
replies of people who are using the bot meanwhile.

    python -m bench.broadcast                  # 1,500 recipients at the default 25/s, SQLite
    python -m bench.broadcast --rate 30 --postgres

The bot runs as users start it (`python -m bot run`, its rate limiter on, as in production)
against the benchmark's fake Telegram. Interactive users send `/help` at a fixed rate for
`--duration` seconds without a broadcast, then for as long again while one goes to every
recipient. Printed: messages per second achieved against the target (over the whole
broadcast, and in its busiest second), the interactive reply latency p50/p95/p99 with and
without it, and whether anyone got the announcement twice. Nothing here is asserted: a run
that completes exits 0.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

from bench.config import POSTGRES_URL, RESULTS_DIR
from bench.database import reset_postgres, sqlite_url
from bench.fake_server import BenchTelegram
from bench.metrics import latency_summary
from bench.processes import ManagedProcess, bot_environment, wait_for_first_poll

TOKEN = "7000002:BENCH-broadcast-token"
STAFF_CHAT_ID = -1009000000002
ADMIN_ID = 600_000_000
FIRST_RECIPIENT = 610_000_000
FIRST_INTERACTIVE = 690_000_000
REPLY_TIMEOUT = 15.0


class BroadcastTelegram(BenchTelegram):
    """Also notes when each recipient's announcement arrived, and every message's second."""

    def __init__(self, token: str, recipients: range) -> None:
        super().__init__(token)
        self.recipients = recipients
        self.announcements: list[tuple[float, int]] = []
        self.per_second: Counter[int] = Counter()

    async def _call(self, method, params):
        result = await super()._call(method, params)
        if method == "sendMessage":
            now = time.perf_counter()
            self.per_second[int(now)] += 1
            chat = int(params.get("chat_id"))
            if chat in self.recipients:
                self.announcements.append((now, chat))
        return result


async def seed_users(database_url: str, recipients: range) -> None:
    from bot.db.engine import make_engine
    from bot.db.models import User, utcnow

    engine = make_engine(database_url)
    now = utcnow()
    rows = [{"id": user, "pseudonym": f"b{user}", "locale": ("uz", "ru", "uz_Cyrl", "en")[user % 4],
             "language_code": None, "is_active": True, "first_seen": now, "last_seen": now,
             "announcements_off": False} for user in recipients]
    try:
        async with engine.begin() as connection:
            for start in range(0, len(rows), 500):
                await connection.execute(User.__table__.insert(), rows[start:start + 500])
    finally:
        await engine.dispose()


async def announce(database_url: str) -> int:
    from bot.db.engine import make_engine, make_sessionmaker
    from bot.services.announcements import AnnouncementService, Draft, Segment

    engine = make_engine(database_url)
    try:
        service = AnnouncementService(make_sessionmaker(engine), "bench", 10**9, "uz")
        texts = {"uz": "<b>Diqqat!</b> Yangi qoidalar kuchga kirdi.",
                 "uz_Cyrl": "<b>Диққат!</b> Янги қоидалар кучга кирди.",
                 "ru": "<b>Внимание!</b> Вступили в силу новые правила.",
                 "en": "<b>Attention!</b> New rules are in force."}
        _, progress = await service.confirm(ADMIN_ID, Draft(texts, "kz_stay", Segment()))
        return progress.id
    finally:
        await engine.dispose()


async def interactive_load(tg: BroadcastTelegram, users: list[int], rate: float,
                           duration: float) -> tuple[list[float], int]:
    """`/help` from a user not waiting for an answer, `rate` times a second: (latencies in
    seconds, timeouts)."""
    latencies: list[float] = []
    timeouts = 0
    idle = list(users)
    pending: set[asyncio.Task] = set()

    async def one(user: int) -> None:
        nonlocal timeouts
        waiter = tg.expect_reply(user)
        waiter.offered_at = time.perf_counter()
        tg.send_text(user, "/help")
        try:
            arrived = await asyncio.wait_for(waiter.done, REPLY_TIMEOUT)
            latencies.append(arrived - waiter.offered_at)
        except TimeoutError:
            tg.give_up(user)
            timeouts += 1
        idle.append(user)

    started = time.perf_counter()
    offered = 0
    while (elapsed := time.perf_counter() - started) < duration:
        due = int(elapsed * rate) + 1
        while offered < due and idle:
            user = idle.pop(random.randrange(len(idle)))
            task = asyncio.create_task(one(user))
            pending.add(task)
            task.add_done_callback(pending.discard)
            offered += 1
        await asyncio.sleep(0.002)
    if pending:
        await asyncio.wait(pending)
    return latencies, timeouts


def pace(times: list[float]) -> float | None:
    if len(times) < 2:
        return None
    return (len(times) - 1) / (times[-1] - times[0])


async def run(args) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="bench-broadcast-"))
    if args.postgres:
        database_url = POSTGRES_URL
        await reset_postgres(database_url)
    else:
        database_url = sqlite_url(workdir / "bot.db")
    recipients = range(FIRST_RECIPIENT, FIRST_RECIPIENT + args.recipients)
    interactive = list(range(FIRST_INTERACTIVE, FIRST_INTERACTIVE + args.interactive_users))
    from bot.db.migrate import upgrade_database

    await asyncio.to_thread(upgrade_database, database_url)
    await seed_users(database_url, recipients)
    tg = BroadcastTelegram(TOKEN, recipients)
    await tg.start()
    bot = None
    try:
        tg.add_group(STAFF_CHAT_ID, "Bench staff desk")
        tg.add_user(ADMIN_ID, language_code="en")
        for user in (*recipients, *interactive):
            tg.add_user(user, language_code="ru")
        env = bot_environment(tg.url, TOKEN, DATABASE_URL=database_url,
                              STAFF_CHAT_ID=str(STAFF_CHAT_ID), ADMIN_IDS=str(ADMIN_ID),
                              ANNOUNCE_MESSAGES_PER_SECOND=str(args.rate), LOG_LEVEL="INFO")
        bot = ManagedProcess("bot", [sys.executable, "-m", "bot", "run"], env, workdir).start()
        await wait_for_first_poll(bot, tg, 60)
        print(f"bot started; {len(recipients)} recipients, {len(interactive)} interactive users, "
              f"target {args.rate:g} announcements/s, {args.interactive_rate:g} /help per second")
        # Every interactive user once, so both phases see returning users.
        await interactive_load(tg, interactive, args.interactive_rate * 2,
                               len(interactive) / (args.interactive_rate * 2))
        quiet, quiet_timeouts = await interactive_load(tg, interactive, args.interactive_rate,
                                                       args.duration)
        print(f"without a broadcast: {latency_summary(quiet)}")

        announced_at = time.perf_counter()
        announcement = await announce(database_url)
        while not tg.announcements:
            bot.check_alive()
            if time.perf_counter() - announced_at > 30:
                raise RuntimeError("the broadcast did not start within 30 s")
            await asyncio.sleep(0.01)
        first_at = tg.announcements[0][0]
        busy_from = time.perf_counter()
        busy, busy_timeouts = await interactive_load(tg, interactive, args.interactive_rate,
                                                     args.duration)
        busy_until = time.perf_counter()
        print(f"while it goes out: {latency_summary(busy)}")
        deadline = time.perf_counter() + len(recipients) / args.rate * 2 + 30
        while len({chat for _, chat in tg.announcements}) < len(recipients):
            bot.check_alive()
            if time.perf_counter() > deadline:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1)
        times = [at for at, _ in tg.announcements]
        during = [at for at in times if busy_from <= at <= busy_until]
        alone = [at for at in times if at > busy_until]
        busy_seconds = busy_until - busy_from
        per_user = Counter(chat for _, chat in tg.announcements)
        window = [second for second in range(int(first_at) + 1, int(times[-1]))]
        busiest = max((tg.per_second[second] for second in window), default=0)
        over_limit = sum(1 for second in window if tg.per_second[second] > 30)
        results = {
            "date": date.today().isoformat(), "database": "postgresql" if args.postgres else "sqlite",
            "recipients": len(recipients), "announcement": announcement,
            "target_per_second": args.rate,
            "achieved_per_second": round(pace(times) or 0, 2),
            "achieved_per_second_alone": round(pace(alone) or 0, 2),
            "achieved_per_second_beside_interactive": round(len(during) / busy_seconds, 2),
            "all_messages_per_second_beside_interactive": round((len(during) + len(busy)) / busy_seconds, 2),
            "seconds_to_everyone": round(times[-1] - first_at, 2),
            "start_after_confirmation_s": round(first_at - announced_at, 2),
            "delivered": len(per_user), "delivered_twice": sum(1 for n in per_user.values() if n > 1),
            "busiest_second_all_messages": busiest, "seconds_over_30_messages": over_limit,
            "interactive_per_second": args.interactive_rate,
            "interactive_without": latency_summary(quiet) | {"timeouts": quiet_timeouts},
            "interactive_with": latency_summary(busy) | {"timeouts": busy_timeouts},
            "bot_log": bot.log_counts(),
        }
        return results
    finally:
        if bot is not None:
            await bot.stop()
        await tg.aclose()
        shutil.rmtree(workdir, ignore_errors=True)


def print_table(r: dict) -> None:
    without, with_ = r["interactive_without"], r["interactive_with"]
    ratio = (with_["p99_ms"] / without["p99_ms"]) if without["p99_ms"] and with_["p99_ms"] else None
    lines = [
        f"{'figure':<52} {'value':>12}",
        f"{'announcements per second: target':<52} {r['target_per_second']:>12g}",
        f"{'announcements per second: achieved, whole broadcast':<52} {r['achieved_per_second']:>12}",
        f"{'  … while nobody else is answered':<52} {r['achieved_per_second_alone']:>12}",
        f"{'  … beside the interactive replies':<52} {r['achieved_per_second_beside_interactive']:>12}",
        f"{'all messages per second beside the interactive ones':<52} "
        f"{r['all_messages_per_second_beside_interactive']:>12}",
        f"{'seconds to all ' + str(r['recipients']) + ' recipients':<52} {r['seconds_to_everyone']:>12}",
        f"{'delivered / delivered twice':<52} {str(r['delivered']) + ' / ' + str(r['delivered_twice']):>12}",
        f"{'busiest second, all messages (Telegram: ~30)':<52} {r['busiest_second_all_messages']:>12}",
        f"{'interactive p50 / p95 / p99 ms, no broadcast':<52} "
        f"{without['p50_ms']:.1f} / {without['p95_ms']:.1f} / {without['p99_ms']:.1f}",
        f"{'interactive p50 / p95 / p99 ms, during broadcast':<52} "
        f"{with_['p50_ms']:.1f} / {with_['p95_ms']:.1f} / {with_['p99_ms']:.1f}",
        f"{'interactive p99 with / without':<52} {ratio:>12.2f}" if ratio else "",
        f"{'interactive timeouts without / with':<52} {str(without['timeouts']) + ' / ' + str(with_['timeouts']):>12}",
    ]
    print("\n".join(line for line in lines if line))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.broadcast", description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=1500)
    parser.add_argument("--rate", type=float, default=25.0,
                        help="ANNOUNCE_MESSAGES_PER_SECOND of the bot (default 25)")
    parser.add_argument("--interactive-users", type=int, default=60)
    parser.add_argument("--interactive-rate", type=float, default=10.0,
                        help="/help updates per second from the interactive users")
    parser.add_argument("--duration", type=float, default=30.0,
                        help="seconds of interactive load without, then with, the broadcast")
    parser.add_argument("--postgres", action="store_true",
                        help="PostgreSQL at BENCH_POSTGRES_URL (its schema is dropped and recreated)")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.recipients < args.rate * args.duration * 1.2:
        parser.error("--recipients must last the measured --duration at --rate (with 20% to spare)")
    results = asyncio.run(run(args))
    print()
    print_table(results)
    output = args.output or RESULTS_DIR / f"broadcast-{results['date']}-{results['database']}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
