"""The baseline: the smallest python-telegram-bot 22 bot that answers everything.

Default ApplicationBuilder settings (no rate limiter, sequential updates, default pools), long
polling, one sendMessage per message or callback query. The benchmark runs it against the same
fake Telegram as the real bot, so "bot / baseline" says what the bot's own work costs on top
of the framework. Run by `python -m bench`; by hand:

    TELEGRAM_BOT_TOKEN=... TELEGRAM_API_URL=http://127.0.0.1:PORT python bench/baseline_echo.py
"""
from __future__ import annotations

import os

from telegram import Update
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.callback_query is not None:
        text = update.callback_query.data or "?"
    else:
        text = update.effective_message.text or "?"
    await context.bot.send_message(update.effective_chat.id, text)


def main() -> None:
    api_url = os.environ.get("TELEGRAM_API_URL", "https://api.telegram.org").rstrip("/")
    application = (ApplicationBuilder().token(os.environ["TELEGRAM_BOT_TOKEN"])
                   .base_url(f"{api_url}/bot").build())
    application.add_handler(MessageHandler(filters.ALL, echo))
    application.add_handler(CallbackQueryHandler(echo))
    application.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
