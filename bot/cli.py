"""`python -m bot …`: run the bot and the operators' commands."""
from __future__ import annotations

import argparse
import sys
from datetime import date
from bot.settings import SettingsError, load_settings

EXIT_USAGE = 2


def _run(_args: argparse.Namespace) -> int:
    from bot.app import run
    from bot.db.migrate import upgrade_database
    from bot.logs import configure_logging
    from bot.services.content import ContentUnavailable
    from bot.services.safety import SafetyUnavailable

    settings = load_settings()
    token = settings.require_token()
    settings.require_webhook_secret()
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    configure_logging(settings.log_level, [token, secret])
    upgrade_database(settings.database_url)
    try:
        run(settings)
    except (ContentUnavailable, SafetyUnavailable) as exc:
        print(f"content has errors, run 'python -m bot content check':\n{exc}", file=sys.stderr)
        return 1
    return 0


def _console(_args: argparse.Namespace) -> int:
    import asyncio

    from bot.console.app import serve_console_alone
    from bot.db.migrate import upgrade_database
    from bot.logs import configure_logging

    settings = load_settings()
    secrets = [settings.telegram_bot_token.get_secret_value()] if settings.telegram_bot_token else []
    configure_logging(settings.log_level, secrets)
    upgrade_database(settings.database_url)
    asyncio.run(serve_console_alone(settings))
    return 0


def _content_check(_args: argparse.Namespace) -> int:
    from bot.content.check import check_content

    settings = load_settings()
    return check_content(settings.content_dir, settings.locales_dir, settings.default_locale)


def _content_transliterate(args: argparse.Namespace) -> int:
    from bot.content.drafts import draft_transliterations

    settings = load_settings()
    written = draft_transliterations(settings.content_dir, args.source, args.target)
    for path in written:
        print(f"drafted {path} (marked for review)")
    print(f"{len(written)} file(s) drafted")
    return 0


def _db_upgrade(_args: argparse.Namespace) -> int:
    from bot.db.migrate import upgrade_database

    upgrade_database(load_settings().database_url)
    print("database is at the latest version")
    return 0


def _with_sessions(work):
    """Run `work(sessions)` on a migrated database, for the one-shot operator commands."""
    import asyncio

    from bot.db.engine import make_engine, make_sessionmaker
    from bot.db.migrate import upgrade_database

    settings = load_settings()
    upgrade_database(settings.database_url)

    async def runner():
        engine = make_engine(settings.database_url)
        try:
            return await work(make_sessionmaker(engine))
        finally:
            await engine.dispose()

    return asyncio.run(runner())


def _staff(args: argparse.Namespace) -> int:
    from bot.services.staff import StaffService

    async def work(sessions):
        staff = StaffService(sessions)
        if args.action == "add":
            await staff.add(None, args.user_id, args.role)
            return f"{args.user_id} is now {args.role}"
        if args.action == "remove":
            removed = await staff.remove(None, args.user_id)
            return f"{args.user_id} removed" if removed else f"{args.user_id} was not staff"
        return "\n".join(f"{uid}\t{role}" for uid, role in await staff.members()) or "no staff"

    if args.action in ("add", "remove") and args.user_id is None:
        print("a Telegram user id is needed", file=sys.stderr)
        return EXIT_USAGE
    print(_with_sessions(work))
    return 0


def _export(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from bot.services import export

    since = datetime.combine(args.since, datetime.min.time(), tzinfo=timezone.utc)
    done = _with_sessions(lambda sessions: export.produce(sessions, args.what, since, args.format))
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as handle:
            handle.write(done.text)
        print(f"{done.rows} row(s) written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(done.text)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start the bot").set_defaults(handler=_run)
    commands.add_parser("console", help="serve the staff console alone").set_defaults(handler=_console)

    content = commands.add_parser("content", help="check or draft content").add_subparsers(
        dest="action", required=True)
    content.add_parser("check", help="validate all content").set_defaults(handler=_content_check)
    drafts = content.add_parser("transliterate",
                                help="draft missing files of one Uzbek script from the other")
    drafts.add_argument("source", choices=["uz", "uz_Cyrl"])
    drafts.add_argument("target", choices=["uz", "uz_Cyrl"])
    drafts.set_defaults(handler=_content_transliterate)

    staff = commands.add_parser("staff", help="manage staff members")
    staff.add_argument("action", choices=["add", "remove", "list"])
    staff.add_argument("user_id", type=int, nargs="?")
    staff.add_argument("--role", choices=["staff", "admin"], default="staff")
    staff.set_defaults(handler=_staff)

    export = commands.add_parser("export", help="export requests or interactions")
    export.add_argument("what", choices=["requests", "interactions"])
    export.add_argument("--since", type=date.fromisoformat, default=date(2000, 1, 1),
                        help="YYYY-MM-DD, inclusive")
    export.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    export.add_argument("--output", help="file to write; standard output when absent")
    export.set_defaults(handler=_export)

    db = commands.add_parser("db", help="database").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="migrate to the latest version").set_defaults(handler=_db_upgrade)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


__all__ = ["main"]
