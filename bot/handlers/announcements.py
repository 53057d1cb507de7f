"""What users choose about announcements: /announcements on|off, the "Stop announcements"
button each one carries, and its topic button."""
from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.handlers.replies import log_interaction, show
from bot.views import announcements as views
from bot.views import screens
from bot.views.callbacks import Callback


async def command(update: Update, ctx: BotContext) -> None:
    """/announcements shows the choice; /announcements on|off makes it."""
    if ctx.profile is None:
        return
    await log_interaction(ctx, "command", query="/announcements")
    choice = (ctx.args[0].lower() if ctx.args else "")
    if choice in ("on", "off"):
        await _choose(update, ctx, off=choice == "off", in_place=False)
        return
    off = await ctx.services.announcements.turned_off(ctx.profile.id)
    await show(update, ctx, views.user_choice(ctx.t, off))


async def _choose(update: Update, ctx: BotContext, off: bool, in_place: bool) -> None:
    # Written with the update when it is done, like the user's other settings.
    ctx.unit.change_user(ctx.profile.id, announcements_off=off)
    await log_interaction(ctx, "announcements_off" if off else "announcements_on")
    screen = views.user_choice(ctx.t, off)
    if in_place:
        await show(update, ctx, screen)
    else:  # never over the announcement the button was on
        await ctx.bot.send_message(update.effective_chat.id, **screen.message_parameters)


async def on_button(update: Update, ctx: BotContext, pressed: Callback) -> None:
    if pressed.value == "stop":
        await _choose(update, ctx, off=True, in_place=False)
    elif pressed.value in ("on", "off"):
        await _choose(update, ctx, off=pressed.value == "off", in_place=True)
    elif pressed.value == "topic":
        await _topic_below(update, ctx, pressed.key)


async def _topic_below(update: Update, ctx: BotContext, key: str) -> None:
    """The topic an announcement points to, as a new message under it."""
    content = ctx.services.content.current
    if content.topic(key) is None:
        from bot.handlers.navigation import main_menu_screen

        screen = screens.with_notice(ctx.t("That topic has moved or no longer exists. Here is the "
                                           "main menu."), main_menu_screen(ctx))
    else:
        screen = ctx.services.screens.get(
            content, ("topic", ctx.locale, key, 0),
            lambda: screens.topic_screen(content, ctx.t, ctx.locale, key))
        await log_interaction(ctx, "view", topic_key=key)
    await ctx.bot.send_message(update.effective_chat.id, **screen.message_parameters)
