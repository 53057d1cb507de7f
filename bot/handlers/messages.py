"""Where a plain private message goes: a flow step, a staff answer, a reply on a case, or search."""
from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.handlers import ask, deadlines, safety, satisfaction, staff
from bot.handlers import announce
from bot.handlers.replies import log_interaction, show
from bot.services.deadlines import FLOW as DEADLINES_FLOW
from bot.services.inbox import NOT_READ
from bot.services.requests import COUNTRIES, QUESTION_LIMIT
from bot.views import search as search_views


async def on_private_message(update: Update, ctx: BotContext) -> None:
    if ctx.profile is None:
        return
    # Read with the update when it was claimed (see Inbox), unless this is not its user.
    mine = ctx.unit.user_key == ctx.profile.id
    flow = await ctx.services.flows.get(ctx.profile.id,
                                        ctx.unit.stored_flow if mine else NOT_READ)
    if flow is not None and flow.name == DEADLINES_FLOW:
        await deadlines.on_flow_message(update, ctx, flow)
        return
    if flow is not None and flow.name == announce.ANNOUNCE_FLOW:
        await announce.on_flow_message(update, ctx, flow)
        return
    if flow is not None and flow.name == satisfaction.FLOW:
        await satisfaction.on_flow_message(update, ctx, flow)
        return
    if flow is not None:
        await ask.on_flow_message(update, ctx, flow)
        return
    number = staff.replied_case_number(update, ctx.bot.id)
    if number is not None and await ctx.services.staff.is_staff(ctx.profile.id):
        await staff.relay_staff_answer(update, ctx, number)
        return
    message = update.effective_message
    if message.text or message.caption:
        awaiting = (ctx.unit.awaiting_request if mine and ctx.unit.awaiting_request is not NOT_READ
                    else await ctx.services.requests.awaiting_request_id(ctx.profile.id))
        if awaiting is not None and await ask.add_follow_up(update, ctx, awaiting):
            return
    await free_text(update, ctx)


# A question of several sentences is searched whole (the index takes its first terms).
SEARCH_QUERY_LIMIT = 1000


async def free_text(update: Update, ctx: BotContext) -> None:
    from bot.handlers.navigation import not_understood

    text = update.effective_message.text
    if not text:
        await not_understood(update, ctx)
        return
    query = text[:SEARCH_QUERY_LIMIT]
    country = ctx.profile.country
    found = ctx.services.search.search(query, ctx.locale, ctx.services.content.current,
                                       country if country in COUNTRIES else None)
    # Offered as the question if they press "Ask a person" next.
    ctx.unit.change_user(ctx.profile.id, last_unanswered=text[:QUESTION_LIMIT])
    # A cry for help is not a search: a person first, then the help.
    distress = ctx.services.safety.detect(text) if ctx.services.safety is not None else None
    if distress is not None:
        await safety.answer_distress(update, ctx, distress, found)
        return
    await log_interaction(ctx, "search", query=query, result_count=len(found))
    await show(update, ctx, search_views.results(ctx.t, found) if found
               else search_views.nothing_found(ctx.t))
