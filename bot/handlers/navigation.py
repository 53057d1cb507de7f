"""Menus, topics, pages, language and the fallbacks for anything not understood."""
from __future__ import annotations

from dataclasses import replace

from telegram import ReplyKeyboardRemove, Update

from bot import LOCALES
from bot.context import BotContext
from bot.services.ask_form import ASK_FLOW
from bot.handlers.replies import log_interaction, show
from bot.views import callbacks, screens
from bot.views.countries import COUNTRY_NAMES


def translators_guess_first(ctx: BotContext) -> list:
    order = [ctx.locale] + [locale for locale in LOCALES if locale != ctx.locale]
    return [ctx.services.catalogs.get(locale) for locale in order]


def user_country(ctx: BotContext) -> str | None:
    """The country the user is in or going to, as stored ("ALL": every country; None: not told)."""
    return ctx.profile.country if ctx.profile is not None else None


def main_menu_screen(ctx: BotContext) -> screens.Screen:
    content = ctx.services.content.current
    country = user_country(ctx)
    return ctx.services.screens.get(content, ("main", ctx.locale, country),
                                    lambda: screens.main_menu(content, ctx.t, ctx.locale, country))


async def show_main_menu(update: Update, ctx: BotContext, notice: str | None = None) -> None:
    screen = main_menu_screen(ctx)
    if notice:
        screen = screens.with_notice(notice, screen)
    await show(update, ctx, screen)


async def show_topic(update: Update, ctx: BotContext, key: str, page: int = 0,
                     all_countries: bool = False) -> None:
    content = ctx.services.content.current
    topic = content.topic(key)
    if topic is None:
        await log_interaction(ctx, "stale", topic_key=key[:64])
        await show_main_menu(update, ctx, ctx.t("That topic has moved or no longer exists. Here is the main menu."))
        return
    # The country changes only which children a section lists.
    country = user_country(ctx) if topic.children and not all_countries else None
    quick_exit = ctx.services.safety is not None and ctx.services.safety.has_quick_exit(key)
    screen = ctx.services.screens.get(
        content, ("topic", ctx.locale, key, page, country, all_countries),
        lambda: screens.topic_screen(content, ctx.t, ctx.locale, key, page, country,
                                     all_countries, quick_exit))
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
    flow = await ctx.services.flows.get(ctx.profile.id) if ctx.profile is not None else None
    if flow is not None:
        await ctx.services.flows.clear(ctx.profile.id)
        if flow.name == ASK_FLOW:  # other flows keep what was saved (deadlines, drafts)
            # The phone step may have left a reply keyboard open.
            await update.effective_message.reply_text(ctx.t("Cancelled. Nothing was stored."),
                                                      reply_markup=ReplyKeyboardRemove())
    await show_main_menu(update, ctx, ctx.t("Cancelled."))


async def choose_language(update: Update, ctx: BotContext, locale: str, then_key: str | None) -> None:
    first_time = ctx.profile is not None and ctx.profile.locale is None
    if ctx.profile is not None:
        await ctx.services.users.set_locale(ctx.profile.id, locale)
    ctx.locale = locale
    await log_interaction(ctx, "language", topic_key=then_key)
    if then_key and ctx.services.content.current.topic(then_key):
        await show_topic(update, ctx, then_key)
    elif first_time and user_country(ctx) is None:
        # Asked once, lightly: which country, so that its topics come first (skippable).
        await show(update, ctx, screens.country_picker(ctx.t, None, first_time=True))
    else:
        await show_main_menu(update, ctx)


async def show_country_picker(update: Update, ctx: BotContext) -> None:
    await show(update, ctx, screens.country_picker(ctx.t, user_country(ctx)))


async def choose_country(update: Update, ctx: BotContext, code: str) -> None:
    """Where the user is or is going (or every country): kept on their row, written with the
    update; its topics come first from this screen on."""
    if ctx.profile is None or (code not in COUNTRY_NAMES and code != callbacks.ALL_COUNTRIES):
        await show_main_menu(update, ctx)
        return
    ctx.unit.change_user(ctx.profile.id, country=code)
    ctx.profile = replace(ctx.profile, country=code)
    await log_interaction(ctx, "country", query=code)
    if code == callbacks.ALL_COUNTRIES:
        notice = ctx.t("The topics of every country are shown.")
    else:
        notice = ctx.t("The topics for {country} come first.", country=ctx.t(COUNTRY_NAMES[code]))
    await show_main_menu(update, ctx, notice)


async def unknown_command(update: Update, ctx: BotContext) -> None:
    await log_interaction(ctx, "unknown", query=(update.effective_message.text or "")[:64])
    await show_main_menu(update, ctx, ctx.t("I don't know that command. Here is the main menu."))


async def not_understood(update: Update, ctx: BotContext) -> None:
    await log_interaction(ctx, "unknown")
    await show_main_menu(update, ctx, ctx.t("Sorry, I didn't understand that. Please choose a topic from the menu."))
