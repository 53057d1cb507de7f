"""`python -m bench.console`: how fast the staff console's pages answer with a year of cases.

It seeds a fresh database (SQLite by default, as `make run` has it; --postgres URL for
PostgreSQL) with --cases requests spread over the last 365 days, logs a staff member in and
asks each page --repeat times in the same process, through the ASGI app (no network). The
baseline is /healthz, one query, measured in the same run. It prints milliseconds and asserts
nothing: read the table.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.config import REPO_ROOT  # noqa: E402

STAFF = 4242
WORDS = ("паспорт", "patent", "ish haqi", "зарплата", "виза", "sugʻurta", "консульство", "registration")


def _requests(count: int, now):
    from bot import LOCALES
    from bot.services.requests import COUNTRIES, STATUSES, case_number

    rng = random.Random(7)
    for request_id in range(1, count + 1):
        created = now - timedelta(days=365 * (count - request_id) / count, minutes=rng.randint(0, 600))
        status = rng.choice(STATUSES)
        answered = created + timedelta(hours=rng.randint(1, 72)) if status != "new" else None
        yield {"id": request_id, "number": case_number(request_id, created), "user_id": 10_000 + request_id,
               "topic_key": None, "country": rng.choice(COUNTRIES), "asker": "self",
               "locale": rng.choice(LOCALES), "status": status, "urgent": rng.random() < 0.02,
               "created_at": created, "updated_at": answered or created,
               "first_reply_at": answered,
               "resolved_at": answered if status in ("resolved", "closed") else None,
               "waiting_since": created if status in ("new", "in_progress") else None,
               "user_blocked": False, "deleted_by_user": False}


async def _seed(services, count: int) -> int:
    from sqlalchemy import insert

    from bot.db.models import HelpRequest, RequestMessage, utcnow

    now = utcnow()
    rows = list(_requests(count, now))
    messages = [{"request_id": row["id"], "author": "user", "author_id": row["user_id"],
                 "text": f"Savol {row['id']}: {WORDS[row['id'] % len(WORDS)]} haqida yordam kerak",
                 "created_at": row["created_at"]} for row in rows]
    async with services.engine.begin() as connection:
        for start in range(0, count, 2000):
            await connection.execute(insert(HelpRequest.__table__), rows[start:start + 2000])
            await connection.execute(insert(RequestMessage.__table__), messages[start:start + 2000])
    await services.staff.add(None, STAFF, "admin")
    return rows[-1]["id"]


async def _timed(http, path: str, repeat: int) -> tuple[list[float], int]:
    times = []
    status = 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = await http.get(path)
        times.append((time.perf_counter() - started) * 1000)
        status = response.status_code
    return times, status


async def run(url: str, cases: int, repeat: int) -> None:
    import httpx

    from bot.console.app import create_console_app
    from bot.services.wiring import connect_services, disconnect_services, load_services
    from bot.settings import load_settings

    settings = load_settings(database_url=url, content_dir=REPO_ROOT / "content",
                             locales_dir=REPO_ROOT / "locales", _env_file=None)
    services = load_services(settings)
    await connect_services(services)
    try:
        last = await _seed(services, cases)
        token = await services.console_auth.issue_link(STAFF, "Bench")
        transport = httpx.ASGITransport(app=create_console_app(services), client=("127.0.0.1", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://console") as http:
            await http.post("/login/link", data={"token": token})
            version = await services.casework.version()
            pages = [("/healthz", "baseline: one query"), ("/", "inbox, first page"),
                     ("/?q=паспорт", "inbox, text search"),
                     ("/?holder=none&waiting=24", "inbox, unassigned waiting > 24 h"),
                     (f"/inbox/rows?v={version}", "inbox poll, nothing new (204)"),
                     (f"/cases/{last}", "a case"), ("/dashboard?days=30", "dashboard, 30 days"),
                     ("/dashboard?days=90", "dashboard, 90 days"),
                     ("/audit", "audit log (admin)")]
            print(f"{cases} cases over 365 days on {url.split(':')[0]}; {repeat} requests per page")
            print(f"{'page':<36} {'status':>6} {'p50 ms':>8} {'p95 ms':>8}")
            for path, name in pages:
                await _timed(http, path, 2)  # warm: the first render compiles the templates
                times, status = await _timed(http, path, repeat)
                p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
                print(f"{name:<36} {status:>6} {statistics.median(times):>8.1f} {p95:>8.1f}")
    finally:
        await disconnect_services(services)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=20_000, help="requests to seed (%(default)s)")
    parser.add_argument("--repeat", type=int, default=30, help="requests per page (%(default)s)")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL database to seed instead")
    args = parser.parse_args(argv)
    from bot.db.migrate import upgrade_database

    url = args.postgres or f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='console-bench-')}/bot.db"
    upgrade_database(url)
    asyncio.run(run(url, args.cases, args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
