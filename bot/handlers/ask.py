"""The ask-a-person flow: topic → country → who → question → phone → consent → case number."""
from __future__ import annotations

import logging

from telegram import ReplyKeyboardRemove, Update
from telegram.constants import ParseMode

from bot.context import BotContext
from bot.handlers.replies import log_interaction, show
from bot.handlers.staff_relay import post_card
from bot.services.flows import Flow
from bot.services.requests import ASKERS, COUNTRIES, QUESTION_LIMIT, Draft
from bot.views import requests as views

log = logging.getLogger(__name__)

ASK_FLOW = "ask"
FOLLOW_UP_FLOW = "followup"


def _step_screen(ctx: BotContext, step: str):
    content = ctx.services.content.current
    return {
        "topic": lambda: views.choose_topic(content, ctx.t, ctx.locale),
        "country": lambda: views.choose_country(ctx.t),
        "asker": lambda: views.choose_asker(ctx.t),
        "text": lambda: views.write_question(ctx.t),
        "phone": lambda: views.share_phone(ctx.t),
        "consent": lambda: views.consent(ctx.t, ctx.services.settings.retention_days),
    }[step]()


async def _go_to(update: Update, ctx: BotContext, flow: Flow, step: str) -> None:
    flow.step = step
    # Saved before it is shown: whichever process gets the next press finds this step.
    await ctx.services.flows.save(ctx.profile.id, flow)
    screen = _step_screen(ctx, step)
    if step == "phone":
        # A reply keyboard cannot ride on an edited message: it needs a new one.
        await ctx.bot.send_message(update.effective_chat.id, screen.text,
                                   parse_mode=ParseMode.HTML, reply_markup=screen.keyboard)
    else:
        await show(update, ctx, screen)


async def start_ask(update: Update, ctx: BotContext, topic_key: str | None = None,
                    text: str | None = None) -> None:
    content = ctx.services.content.current
    data = {"topic": topic_key if topic_key and content.topic(topic_key) else None}
    if text:
        data["text"] = text[:QUESTION_LIMIT]
    await log_interaction(ctx, "ask", topic_key=data["topic"])
    await _go_to(update, ctx, Flow(ASK_FLOW, "", data), "country" if data["topic"] else "topic")


async def on_choice(update: Update, ctx: BotContext, field: str, value: str) -> bool:
    """A button of the flow; False when the flow has ended or the button is not for this step."""
    flow = await ctx.services.flows.get(ctx.profile.id)
    if flow is None or flow.name != ASK_FLOW or flow.step != field:
        return False
    if field == "topic":
        flow.data["topic"] = value if ctx.services.content.current.topic(value) else None
        await _go_to(update, ctx, flow, "country")
    elif field == "country" and value in COUNTRIES:
        flow.data["country"] = value
        await _go_to(update, ctx, flow, "asker")
    elif field == "asker" and value in ASKERS:
        flow.data["asker"] = value
        await _go_to(update, ctx, flow, "phone" if flow.data.get("text") else "text")
    elif field == "consent":
        await _finish(update, ctx, flow, agreed=value == "yes")
    else:
        return False
    return True


async def on_flow_message(update: Update, ctx: BotContext, flow: Flow) -> None:
    """Text or a contact while a flow waits for one."""
    message = update.effective_message
    if flow.name == FOLLOW_UP_FLOW:
        await _follow_up_text(update, ctx, flow)
    elif flow.step == "text" and message.text:
        if len(message.text) > QUESTION_LIMIT:
            await message.reply_text(views.question_too_long(ctx.t, len(message.text)),
                                     parse_mode=ParseMode.HTML)
            return
        flow.data["text"] = message.text
        await _go_to(update, ctx, flow, "phone")
    elif flow.step == "phone" and (message.contact or message.text == ctx.t("Skip")):
        contact = message.contact
        if contact and contact.user_id not in (None, ctx.profile.id):
            await message.reply_text(ctx.t("Please share your own number with the button, or press Skip."))
            return
        flow.data["phone"] = contact.phone_number if contact else None
        await message.reply_text(ctx.t("Thank you."), reply_markup=ReplyKeyboardRemove())
        await _go_to(update, ctx, flow, "consent")
    else:
        await message.reply_text(ctx.t("Please answer with the buttons, or send /cancel to stop."))
        await _go_to(update, ctx, flow, flow.step)


async def _finish(update: Update, ctx: BotContext, flow: Flow, agreed: bool) -> None:
    from bot.handlers.navigation import show_main_menu

    if not agreed:
        await ctx.services.flows.clear(ctx.profile.id)
        await log_interaction(ctx, "ask_refused")
        await show_main_menu(update, ctx, ctx.t("Nothing was stored. Your question was not sent."))
        return
    draft = Draft(topic_key=flow.data.get("topic"), country=flow.data["country"],
                  asker=flow.data["asker"], text=flow.data["text"], locale=ctx.locale,
                  phone=flow.data.get("phone"))
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
