"""My deadlines: /deadlines, its buttons, typed dates, and sending the reminders the outbox
hands this process. The steps are in bot/services/deadlines.py, the screens in
bot/views/deadlines.py."""
from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot.context import BotContext
from bot.handlers.replies import log_interaction, show
from bot.services.deadlines import REMINDER, Step
from bot.services.flows import Flow
from bot.views import deadlines as views

log = logging.getLogger(__name__)


async def _show(update: Update, ctx: BotContext, step: Step) -> None:
    await show(update, ctx, views.render(step, ctx.t))


async def command(update: Update, ctx: BotContext) -> None:
    if ctx.profile is None:
        return
    await log_interaction(ctx, "command", query="/deadlines")
    await _show(update, ctx, await ctx.services.deadlines.open(ctx.profile.id))


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


async def on_button(update: Update, ctx: BotContext, pressed) -> None:
    """A button of My deadlines (callback data d|…); what each one does is the service's."""
    service, user_id = ctx.services.deadlines, ctx.profile.id
    action, value = pressed.key, pressed.value
    # The interaction log keeps the action, never a date (dates are personal data).
    await log_interaction(ctx, "deadlines", topic_key=action)
    if action == "c":
        step = await service.choose_country(user_id, value or "")
    elif action == "p":
        step = await service.pick_date(user_id, value or "", pressed.id)
    elif action == "v":
        step = await service.show_month(user_id, value or "", pressed.id)
    elif action == "skip":
        step = await service.skip(user_id)
    elif action == "ch":
        step = await service.change(user_id, value or "")
    elif action == "stays":
        step = await service.stays(user_id)
    elif action == "add":
        step = await service.add_stay(user_id)
    elif action == "rm" and _number(value) is not None:
        step = await service.remove_stay(user_id, _number(value))
    elif action == "rem":
        step = await service.ask_reminders(user_id)
    elif action in ("yes", "no"):
        step = await service.consent(user_id, agreed=action == "yes")
    elif action == "stop":
        step = await service.stop_all(user_id)
    elif action == "done":
        step = await service.done(user_id, value or "")
    elif action == "forget":
        step = await service.forget(user_id)
    elif action == "menu":
        from bot.handlers.navigation import show_main_menu

        await service.leave(user_id)
        await show_main_menu(update, ctx)
        return
    else:  # "open", "res", or anything this version does not know
        step = await service.open(user_id)
    await _show(update, ctx, step)


async def on_flow_message(update: Update, ctx: BotContext, flow: Flow) -> None:
    """A message while the conversation is at one of its steps: a typed date, or the step
    again with what was wrong; anything not meant for it is searched as usual."""
    from bot.handlers.messages import free_text

    step = await ctx.services.deadlines.type_answer(ctx.profile.id, update.effective_message.text)
    if step is None:
        await free_text(update, ctx)
        return
    await log_interaction(ctx, "deadlines", topic_key="typed")
    await _show(update, ctx, step)


async def send_claimed_reminder(ctx: BotContext, reminder_id: int) -> None:
    """A reminder the outbox gave this process: sent once, in the user's language, paced as
    a bulk send; dropped if the user blocked the bot, tried again later on other errors."""
    service = ctx.services.deadlines
    due = await service.reminder_to_send(reminder_id)
    if due is None:
        return
    screen = views.reminder(due, ctx.services.catalogs.get(due.locale))
    pacing = {"rate_limit_args": {"bulk": True}} if ctx.bot.rate_limiter is not None else {}
    try:
        await ctx.bot.send_message(due.user_id, **screen.message_parameters, **pacing)
    except Forbidden as exc:
        log.info("reminder %s dropped: the user blocked the bot", reminder_id)
        await service.reminder_dropped(reminder_id, f"blocked: {exc.message}")
        await ctx.services.users.mark_inactive(due.user_id)
        return
    except TelegramError as exc:
        log.warning("reminder %s not sent, will retry: %s", reminder_id, exc)
        await ctx.services.outbox.failed(REMINDER, reminder_id, str(exc))
        return
    await service.reminder_sent(reminder_id)
