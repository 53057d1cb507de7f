"""Standalone fake Telegram: python -m tests.fakebot --port 0 --token T

The first line printed is the server URL (use it as TELEGRAM_API_URL); it then
serves until SIGINT or SIGTERM. A control API is enabled for driving it from
another process: POST {url}/fake/{action} with JSON keyword arguments, e.g.
/fake/add_user {"user_id": 1, "first_name": "Ali"}, /fake/send_text
{"user_id": 1, "text": "/start"}, /fake/sent {"chat_id": 1}, /fake/calls {}.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from .server import DEFAULT_TOKEN, FakeTelegram


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.fakebot", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--username", default="fake_test_bot", help="the bot's @username")
    parser.add_argument("--no-privacy", action="store_true",
                        help="deliver every group message (privacy mode off)")
    parser.add_argument("--user", type=int, action="append", default=[], metavar="ID",
                        help="pre-create a user (repeatable)")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    tg = FakeTelegram(args.token, host=args.host, port=args.port, bot_username=args.username,
                      privacy_mode=not args.no_privacy, control_api=True)
    for user_id in args.user:
        tg.add_user(user_id)
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop_requested.set)
    async with tg:
        print(tg.url, flush=True)
        await stop_requested.wait()


def main(argv: list[str] | None = None) -> int:
    asyncio.run(serve(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
