"""Where a plain private message goes: a flow step, a staff answer, a reply on a case, or search."""
from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.handlers import ask, staff
from bot.handlers.replies import log_interaction, show
from bot.services.requests import QUESTION_LIMIT
from bot.views import search as search_views


async def on_private_message(update: Update, ctx: BotContext) -> None:
    if ctx.profile is None:
        return
    flow = await ctx.services.flows.get(ctx.profile.id)
    if flow is not None:
        await ask.on_flow_message(update, ctx, flow)
        return
    number = staff.replied_case_number(update, ctx.bot.id)
    if number is not None and await ctx.services.staff.is_staff(ctx.profile.id):
        await staff.relay_staff_answer(update, ctx, number)
        return
    message = update.effective_message
    if message.text or message.caption:
        awaiting = await ctx.services.requests.awaiting_request_id(ctx.profile.id)
        if awaiting is not None and await ask.add_follow_up(update, ctx, awaiting):
            return
    await free_text(update, ctx)


SEARCH_QUERY_LIMIT = 300


async def free_text(update: Update, ctx: BotContext) -> None:
    from bot.handlers.navigation import not_understood

    text = update.effective_message.text
    if not text:
        await not_understood(update, ctx)
        return
    query = text[:SEARCH_QUERY_LIMIT]
    found = ctx.services.search.search(query, ctx.locale, ctx.services.content.current)
    await log_interaction(ctx, "search", query=query, result_count=len(found))
    # Offered as the question if they press "Ask a person" next.
    ctx.unit.change_user(ctx.profile.id, last_unanswered=text[:QUESTION_LIMIT])
    await show(update, ctx, search_views.results(ctx.t, found) if found
               else search_views.nothing_found(ctx.t))
