"""After a case is resolved the user is asked, once, whether the answer helped: 👍 / 👎, then
an optional comment (a one-step flow, kept in the database like the ask form's draft)."""
from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError

from bot.context import BotContext
from bot.handlers.replies import log_interaction, show
from bot.services.flows import Flow
from bot.services.requests import COMMENT_LIMIT
from bot.views import satisfaction as views
from bot.views.callbacks import Callback

log = logging.getLogger(__name__)

FLOW = "satisfaction"


async def send_claimed_question(ctx: BotContext, outbox_id: int, request_id: int) -> None:
    """The question the outbox gave this process; skipped for a user who deleted their data
    or blocked the bot, and never asked twice."""
    requests = ctx.services.requests
    request = await requests.satisfaction_to_ask(outbox_id, request_id)
    if request is None:
        return
    screen = views.question(ctx.services.catalogs.get(request.locale), request.number, request.id)
    try:
        await ctx.bot.send_message(request.user_id, **screen.message_parameters)
    except Forbidden:
        await requests.satisfaction_sent(outbox_id, request_id, delivered=False)
        return
    except TelegramError as exc:
        log.warning("satisfaction question on %s not sent, will retry: %s", request.number, exc)
        await requests.satisfaction_failed(outbox_id, request_id, str(exc))
        return
    await requests.satisfaction_sent(outbox_id, request_id, delivered=True)


async def _stale(update: Update, ctx: BotContext) -> None:
    from bot.handlers.navigation import show_main_menu

    await show_main_menu(update, ctx, ctx.t("That button is out of date. Here is the main menu."))


async def on_button(update: Update, ctx: BotContext, pressed: Callback) -> None:
    """👍 / 👎 (stored once, then the comment is offered), or Skip (no comment)."""
    user_id = ctx.profile.id
    if pressed.value == "skip":
        if await ctx.services.requests.user_case(user_id, pressed.id) is None:
            await _stale(update, ctx)
            return
        flow = await ctx.services.flows.get(user_id)
        if flow is not None and flow.name == FLOW and flow.data.get("request") == pressed.id:
            await ctx.services.flows.clear(user_id)
        await show(update, ctx, views.thanks(ctx.t))
        return
    rated = await ctx.services.requests.rate(user_id, pressed.id, pressed.value)
    if rated.outcome == "stale":
        await _stale(update, ctx)
        return
    if rated.outcome == "already":
        await show(update, ctx, views.already_answered(ctx.t))
        return
    await log_interaction(ctx, "satisfaction", query=pressed.value)
    flow = await ctx.services.flows.get(user_id)
    if flow is not None and flow.name != FLOW:
        # A form the user is filling is not overwritten by the comment.
        await show(update, ctx, views.thanks(ctx.t))
        return
    await ctx.services.flows.save(user_id, Flow(FLOW, "comment", {"request": pressed.id}))
    await show(update, ctx, views.ask_comment(ctx.t, pressed.id))


async def on_flow_message(update: Update, ctx: BotContext, flow: Flow) -> None:
    """The comment: one text message of up to COMMENT_LIMIT characters."""
    message = update.effective_message
    text = (message.text or "").strip()
    if not text:
        await message.reply_text(views.comment_not_text(ctx.t), parse_mode=ParseMode.HTML)
        return
    if len(text) > COMMENT_LIMIT:
        await message.reply_text(views.comment_too_long(ctx.t, len(text)), parse_mode=ParseMode.HTML)
        return
    rated = await ctx.services.requests.satisfaction_comment(ctx.profile.id,
                                                             flow.data.get("request", 0), text)
    await ctx.services.flows.clear(ctx.profile.id)
    if rated.outcome == "saved":
        await log_interaction(ctx, "satisfaction_comment")
        await message.reply_text(views.comment_saved(ctx.t), parse_mode=ParseMode.HTML)
    elif rated.outcome == "already":
        await show(update, ctx, views.already_answered(ctx.t))
    else:  # the case is gone meanwhile
        await show(update, ctx, views.thanks(ctx.t))
