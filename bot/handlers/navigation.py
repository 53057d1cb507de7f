"""Menus, topics, pages, language and the fallbacks for anything not understood."""
from __future__ import annotations

from telegram import ReplyKeyboardRemove, Update

from bot import LOCALES
from bot.context import BotContext
from bot.handlers.replies import log_interaction, show
from bot.views import screens


def translators_guess_first(ctx: BotContext) -> list:
    order = [ctx.locale] + [locale for locale in LOCALES if locale != ctx.locale]
    return [ctx.services.catalogs.get(locale) for locale in order]


def main_menu_screen(ctx: BotContext) -> screens.Screen:
    content = ctx.services.content.current
    return ctx.services.screens.get(content, ("main", ctx.locale),
                                    lambda: screens.main_menu(content, ctx.t, ctx.locale))


async def show_main_menu(update: Update, ctx: BotContext, notice: str | None = None) -> None:
    screen = main_menu_screen(ctx)
    if notice:
        screen = screens.with_notice(notice, screen)
    await show(update, ctx, screen)


async def show_topic(update: Update, ctx: BotContext, key: str, page: int = 0) -> None:
    content = ctx.services.content.current
    if content.topic(key) is None:
        await log_interaction(ctx, "stale", topic_key=key[:64])
        await show_main_menu(update, ctx, ctx.t("That topic has moved or no longer exists. Here is the main menu."))
        return
    screen = ctx.services.screens.get(
        content, ("topic", ctx.locale, key, page),
        lambda: screens.topic_screen(content, ctx.t, ctx.locale, key, page))
    await show(update, ctx, screen)
    await log_interaction(ctx, "page" if page else "view", topic_key=key)


async def start(update: Update, ctx: BotContext) -> None:
    payload = ctx.args[0][:64] if ctx.args else None
    await log_interaction(ctx, "command", topic_key=payload, query="/start")
    content = ctx.services.content.current
    wanted = payload if payload and content.topic(payload) else None
    if ctx.profile is not None and ctx.profile.locale is None:
        await show(update, ctx, screens.language_picker(translators_guess_first(ctx), wanted))
    elif wanted:
        await show_topic(update, ctx, wanted)
    elif payload:
        await show_main_menu(update, ctx, ctx.t("That topic has moved or no longer exists. Here is the main menu."))
    else:
        await show_main_menu(update, ctx)


async def menu(update: Update, ctx: BotContext) -> None:
    await log_interaction(ctx, "command", query="/menu")
    await show_main_menu(update, ctx)


async def help_command(update: Update, ctx: BotContext) -> None:
    await log_interaction(ctx, "command", query="/help")
    await show(update, ctx, screens.help_screen(ctx.t))


async def language(update: Update, ctx: BotContext) -> None:
    await log_interaction(ctx, "command", query="/language")
    await show(update, ctx, screens.language_picker(translators_guess_first(ctx)))


async def cancel(update: Update, ctx: BotContext) -> None:
    await log_interaction(ctx, "command", query="/cancel")
    if ctx.profile is not None and await ctx.services.flows.get(ctx.profile.id):
        await ctx.services.flows.clear(ctx.profile.id)
        # The phone step may have left a reply keyboard open.
        await update.effective_message.reply_text(ctx.t("Cancelled. Nothing was stored."),
                                                  reply_markup=ReplyKeyboardRemove())
    await show_main_menu(update, ctx, ctx.t("Cancelled."))


async def choose_language(update: Update, ctx: BotContext, locale: str, then_key: str | None) -> None:
    if ctx.profile is not None:
        await ctx.services.users.set_locale(ctx.profile.id, locale)
    ctx.locale = locale
    await log_interaction(ctx, "language", topic_key=then_key)
    if then_key and ctx.services.content.current.topic(then_key):
        await show_topic(update, ctx, then_key)
    else:
        await show_main_menu(update, ctx)


async def unknown_command(update: Update, ctx: BotContext) -> None:
    await log_interaction(ctx, "unknown", query=(update.effective_message.text or "")[:64])
    await show_main_menu(update, ctx, ctx.t("I don't know that command. Here is the main menu."))


async def not_understood(update: Update, ctx: BotContext) -> None:
    await log_interaction(ctx, "unknown")
    await show_main_menu(update, ctx, ctx.t("Sorry, I didn't understand that. Please choose a topic from the menu."))
