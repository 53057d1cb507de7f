"""/privacy, /mydata and /delete."""
from __future__ import annotations

from bot.views import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ParseMode

from bot.context import BotContext
from bot.handlers.replies import log_interaction, show
from bot.views import callbacks
from bot.views.screens import Screen


async def privacy(update: Update, ctx: BotContext) -> None:
    await log_interaction(ctx, "command", query="/privacy")
    t = ctx.t
    title = t("Your data")
    text = "\n\n".join([f"<b>{escape(title)}</b>"] + [escape(line) for line in (
        t("What we store: the language you chose, when you used the bot, which topics you opened "
          "and what you searched for (under a code, not your name or Telegram account), and — only "
          "if you agree — the questions you send to staff, with your phone number if you share it."),
        t("If you use My deadlines: your country, your dates of entry and earlier stays, kept "
          "only while a deadline is ahead; reminders only if you ask for them."),
        t("Announcements: now and then the Migration Agency sends news to the people it concerns "
          "(chosen by language, country, recent use of the bot or an open request). "
          "/announcements off stops them."),
        t("We also store the country you chose and, for 48 hours, the numbers of the messages in "
          "this chat, so that /hide can delete them."),
        t("Why: to answer you, and to learn which information migrants need."),
        t("Who sees it: only staff of the Migration Agency. We never ask for passport scans or "
          "health details."),
        t("How long: {days} days, then it is deleted automatically.",
          days=ctx.services.settings.retention_days),
        t("/mydata sends you everything stored about you. /delete erases it."),
    )])
    await show(update, ctx, Screen(text, InlineKeyboardMarkup(
        [[InlineKeyboardButton(t("Main menu"), callback_data=callbacks.MAIN_MENU)]])))


async def my_data(update: Update, ctx: BotContext) -> None:
    if ctx.profile is None:
        return
    document = await ctx.services.privacy.export_user(ctx.profile.id)
    await ctx.bot.send_document(update.effective_chat.id,
                                InputFile(document, filename="my-data.json"),
                                caption=ctx.t("Everything stored about you."))


async def delete_command(update: Update, ctx: BotContext) -> None:
    t = ctx.t
    keyboard = InlineKeyboardMarkup([
        [InlineKeyboardButton(t("🗑 Yes, delete everything"), callback_data=callbacks.ERASE_CONFIRMED)],
        [InlineKeyboardButton(t("No, keep it"), callback_data=callbacks.MAIN_MENU)]])
    await show(update, ctx, Screen(escape(t(
        "This deletes your requests, their messages and your history with the bot. Staff will "
        "only see that a request was deleted by you. This cannot be undone. Delete?")), keyboard))


async def erase_confirmed(update: Update, ctx: BotContext) -> None:
    if ctx.profile is None:
        return
    await ctx.services.privacy.erase_user(ctx.profile.id)
    ctx.unit.forget_user()
    ctx.profile = None
    await update.effective_message.reply_text(ctx.t("Done: your data has been deleted. Send /start to begin again."),
                                              parse_mode=ParseMode.HTML)
