"""The ask-a-person form on Telegram: updates become the form's events (bot.services.ask_form,
where its steps, order, validation and Back live), and its answers become screens."""
from __future__ import annotations

import logging

from telegram import ReplyKeyboardRemove, Update
from telegram.constants import ParseMode

from bot.context import BotContext
from bot.handlers.replies import log_interaction, show
from bot.handlers.staff_relay import post_card
from bot.services import ask_form
from bot.services.ask_form import ASK_FLOW, AskForm, Result
from bot.services.flows import Flow
from bot.services.requests import COUNTRIES, QUESTION_LIMIT
from bot.views import requests as views

log = logging.getLogger(__name__)

FOLLOW_UP_FLOW = "followup"


def _form(ctx: BotContext) -> AskForm:
    content = ctx.services.content.current
    safety = ctx.services.safety
    return AskForm(topic_exists=lambda key: content.topic(key) is not None,
                   is_urgent=lambda text: safety is not None and safety.detect(text) is not None)


def _step_screen(ctx: BotContext, form: Flow):
    content = ctx.services.content.current
    data = form.data
    preferred = ctx.profile.country if ctx.profile and ctx.profile.country in COUNTRIES else None
    return {
        "topic": lambda: views.choose_topic(content, ctx.t, ctx.locale, data),
        "country": lambda: views.choose_country(ctx.t, data, preferred),
        "asker": lambda: views.choose_asker(ctx.t, data),
        "text": lambda: views.write_question(ctx.t, data),
        "phone": lambda: views.share_phone(ctx.t),
        "consent": lambda: views.consent(ctx.t, ctx.services.settings.retention_days, content,
                                         ctx.locale, data),
    }[form.step]()


async def _show_step(update: Update, ctx: BotContext, form: Flow, came_from: str | None) -> None:
    # Saved before it is shown: whichever process gets the next press finds this step.
    await ctx.services.flows.save(ctx.profile.id, form)
    screen = _step_screen(ctx, form)
    chat_id = update.effective_chat.id
    if form.step == "phone":
        # A reply keyboard cannot ride on an edited message: it needs a new one.
        await ctx.bot.send_message(chat_id, screen.text, parse_mode=ParseMode.HTML,
                                   reply_markup=screen.keyboard)
        return
    if came_from == "phone" and update.callback_query is None:
        # Leaving the phone step: its keyboard goes, then the next step comes as a new message.
        await update.effective_message.reply_text(
            ctx.t("Thank you.") if form.step == "consent" else ctx.t("One step back."),
            reply_markup=ReplyKeyboardRemove())
    await show(update, ctx, screen)


async def _apply(update: Update, ctx: BotContext, result: Result) -> bool:
    """Carry out what the form answered; False for a button that is not for this form now."""
    from bot.handlers.navigation import show_main_menu

    outcome = result.outcome
    if outcome == ask_form.STALE:
        return False
    if outcome == ask_form.SHOW:
        if result.details.get("kept"):
            await update.effective_message.reply_text(
                ctx.t("Your question is kept. Now please answer with the buttons."))
        await _show_step(update, ctx, result.form, result.came_from)
    elif outcome == ask_form.INVALID:
        await _refused_answer(update, ctx, result)
    elif outcome in (ask_form.LEFT, ask_form.REFUSED):
        await ctx.services.flows.clear(ctx.profile.id)
        if outcome == ask_form.REFUSED:
            await log_interaction(ctx, "ask_refused")
            await show_main_menu(update, ctx, ctx.t("Nothing was stored. Your question was not sent."))
        else:
            await log_interaction(ctx, "ask_left")
            await show_main_menu(update, ctx, ctx.t("Cancelled. Nothing was stored."))
    elif outcome == ask_form.AGREED:
        await _file(update, ctx, result.form)
    return True


async def _refused_answer(update: Update, ctx: BotContext, result: Result) -> None:
    message = update.effective_message
    if result.reason == ask_form.TOO_LONG:
        await message.reply_text(views.question_too_long(ctx.t, result.details["length"]),
                                 parse_mode=ParseMode.HTML)
        return
    if result.reason == ask_form.NOT_OWN_PHONE:
        await message.reply_text(ctx.t("Please share your own number with the button, or press Skip."))
        return
    if result.reason == ask_form.NOT_TEXT:
        await message.reply_text(ctx.t("Please write your message as text."))
        return
    await message.reply_text(ctx.t("Please answer with the buttons, or send /cancel to stop."))
    await _show_step(update, ctx, result.form, None)


async def start_ask(update: Update, ctx: BotContext, topic_key: str | None = None,
                    text: str | None = None, urgent: bool = False) -> None:
    result = _form(ctx).start(topic_key, text, urgent)
    await log_interaction(ctx, "ask_urgent" if urgent else "ask",
                          topic_key=result.form.data.get("topic"))
    await _apply(update, ctx, result)


async def on_choice(update: Update, ctx: BotContext, field: str, value: str) -> bool:
    """A button of the form; False when the form has ended or the button is not for this step."""
    flow = await ctx.services.flows.get(ctx.profile.id)
    if flow is None or flow.name != ASK_FLOW:
        return False
    form = _form(ctx)
    if field == "back":
        result = form.back(flow, value)
    elif field == "keep":
        result = form.keep(flow, value)
    elif field == "cancel":
        result = form.cancel(flow, value)
    else:
        result = form.choose(flow, field, value)
    return await _apply(update, ctx, result)


async def on_flow_message(update: Update, ctx: BotContext, flow: Flow) -> None:
    """Text or a contact while a flow waits for one."""
    if flow.name == FOLLOW_UP_FLOW:
        await _follow_up_text(update, ctx, flow)
        return
    message = update.effective_message
    form = _form(ctx)
    if flow.step == "phone":
        contact = message.contact
        if contact is not None:
            result = form.phone(flow, contact.phone_number,
                                own=contact.user_id in (None, ctx.profile.id))
        elif message.text == ctx.t("Skip"):
            result = form.phone(flow, None)
        elif message.text == ctx.t("‹ Back"):
            result = form.back(flow, "phone")
        else:
            result = Result(ask_form.INVALID, flow, ask_form.USE_BUTTONS)
    else:
        result = form.write(flow, message.text)
    await _apply(update, ctx, result)


async def _file(update: Update, ctx: BotContext, flow: Flow) -> None:
    draft = _form(ctx).draft(flow, ctx.locale)
    request = await ctx.services.requests.file(ctx.profile.id, draft)
    await log_interaction(ctx, "ask_filed", topic_key=draft.topic_key)
    await show(update, ctx, views.filed(ctx.t, request.number))
    await post_card(ctx, request, draft.text)


async def confirm_again(update: Update, ctx: BotContext) -> bool:
    """A repeated "I agree" (pressed twice, or redelivered after a crash) shows the case that
    was already filed instead of filing another."""
    recent = await ctx.services.requests.recent_for_user(ctx.profile.id)
    if recent is None:
        return False
    await show(update, ctx, views.filed(ctx.t, recent.number))
    return True


async def start_follow_up(update: Update, ctx: BotContext, request_id: int) -> None:
    case = await ctx.services.requests.user_case(ctx.profile.id, request_id)
    if case is None:
        from bot.handlers.navigation import show_main_menu

        await show_main_menu(update, ctx, ctx.t("That button is out of date. Here is the main menu."))
        return
    await ctx.services.flows.save(ctx.profile.id, Flow(FOLLOW_UP_FLOW, "text",
                                                      {"request": request_id}))
    await show(update, ctx, views.write_follow_up(ctx.t, case.request.number))


async def _follow_up_text(update: Update, ctx: BotContext, flow: Flow) -> None:
    await ctx.services.flows.clear(ctx.profile.id)
    await add_follow_up(update, ctx, flow.data["request"])


async def add_follow_up(update: Update, ctx: BotContext, request_id: int) -> bool:
    """Add the message to the case; False when the case is no longer the user's to write to."""
    from bot.handlers.staff_relay import post_follow_up

    message = update.effective_message
    text = message.text or message.caption or ""
    if not text:
        await message.reply_text(ctx.t("Please write your message as text."))
        return True
    if len(text) > QUESTION_LIMIT:
        await message.reply_text(views.question_too_long(ctx.t, len(text)), parse_mode=ParseMode.HTML)
        return True
    request = await ctx.services.requests.user_message(request_id, ctx.profile.id, text)
    if request is None:
        return False
    await log_interaction(ctx, "follow_up")
    await message.reply_text(views.follow_up_added(ctx.t, request.number), parse_mode=ParseMode.HTML)
    await post_follow_up(ctx, request, text)
    return True
