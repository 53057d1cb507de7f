"""Every inline button arrives here and goes to its feature by the parsed callback kind."""
from __future__ import annotations

import asyncio
import logging

from telegram import CallbackQuery, Update
from telegram.error import BadRequest

from bot.context import BotContext
from bot.handlers import (ask, cases, casework, deadlines, navigation, privacy, safety,
                          satisfaction, staff)
from bot.handlers import announce, announcements
from bot.handlers.replies import log_interaction, show
from bot.views import callbacks, screens

log = logging.getLogger(__name__)


async def _stale(update: Update, ctx: BotContext, pressed=None) -> None:
    await log_interaction(ctx, "stale", query=(update.callback_query.data or "")[:64])
    await navigation.show_main_menu(update, ctx, ctx.t("That button is out of date. Here is the main menu."))


async def _main(update, ctx, pressed):
    await log_interaction(ctx, "view", topic_key=None)
    await navigation.show_main_menu(update, ctx)


async def _picker(update, ctx, pressed):
    await show(update, ctx, screens.language_picker(navigation.translators_guess_first(ctx)))


async def _topic(update, ctx, pressed):
    await navigation.show_topic(update, ctx, pressed.key, pressed.page,
                                all_countries=pressed.value == "all")


async def _country(update, ctx, pressed):
    if pressed.value is None:
        await navigation.show_country_picker(update, ctx)
    else:
        await navigation.choose_country(update, ctx, pressed.value)


async def _hide(update, ctx, pressed):
    await safety.quick_exit(update, ctx)


async def _language(update, ctx, pressed):
    await navigation.choose_language(update, ctx, pressed.locale, pressed.key)


async def _ask(update, ctx, pressed):
    if pressed.value == "urgent":
        await safety.talk_to_a_person(update, ctx)
        return
    text = await ctx.services.users.take_unanswered(ctx.profile.id) if pressed.value == "query" else None
    await ask.start_ask(update, ctx, pressed.key, text)


async def _flow(update, ctx, pressed):
    if await ask.on_choice(update, ctx, pressed.key, pressed.value):
        return
    if pressed.key == "consent" and pressed.value == "yes" and await ask.confirm_again(update, ctx):
        return
    await _stale(update, ctx)


async def _mine(update, ctx, pressed):
    await cases.show_my_requests(update, ctx)


async def _case(update, ctx, pressed):
    await cases.show_my_case(update, ctx, pressed.id, pressed.page)


async def _write(update, ctx, pressed):
    await ask.start_follow_up(update, ctx, pressed.id)


async def _staff(update, ctx, pressed):
    await staff.on_staff_button(update, ctx, pressed.value, pressed.id)


async def _queue(update, ctx, pressed):
    if await staff.staff_role(update, ctx, "button:queue"):
        await staff.show_queue(update, ctx, pressed.page)


async def _staff_case(update, ctx, pressed):
    if await staff.staff_role(update, ctx, "button:case"):
        await staff.show_staff_case(update, ctx, pressed.id, pressed.page)


async def _erase(update, ctx, pressed):
    await privacy.erase_confirmed(update, ctx)


async def _deadlines(update, ctx, pressed):
    await deadlines.on_button(update, ctx, pressed)


async def _announce(update, ctx, pressed):
    await announce.on_button(update, ctx, pressed)


async def _announcement(update, ctx, pressed):
    await announce.on_control(update, ctx, pressed)


async def _announcements(update, ctx, pressed):
    await announcements.on_button(update, ctx, pressed)


async def _canned(update, ctx, pressed):
    await casework.on_canned_button(update, ctx, pressed)


async def _satisfaction(update, ctx, pressed):
    await satisfaction.on_button(update, ctx, pressed)


async def _noop(update, ctx, pressed):
    return None


ROUTES = {
    "main": _main, "picker": _picker, "topic": _topic, "language": _language, "noop": _noop,
    "ask": _ask, "flow": _flow, "mine": _mine, "case": _case, "write": _write,
    "staff": _staff, "queue": _queue, "staffcase": _staff_case, "erase": _erase,
    "deadlines": _deadlines, "country": _country, "hide": _hide,
    "announce": _announce, "announcement": _announcement, "announcements": _announcements,
    "canned": _canned, "satisfaction": _satisfaction,
}


async def _stop_spinner(query: CallbackQuery) -> None:
    try:
        await query.answer()
    except BadRequest as exc:  # pressed before a restart: too old to answer, still handled
        log.info("callback query not answered: %s", exc.message)


async def on_button(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    pressed = callbacks.parse(query.data)
    if ctx.profile is None:
        await _stop_spinner(query)
        return
    route = ROUTES.get(pressed.kind if pressed else "", _stale)
    # The spinner stops while the screen changes: a press costs one round trip, not two.
    # The new screen goes out first: it is what the user is waiting to see.
    await asyncio.gather(route(update, ctx, pressed), _stop_spinner(query))
