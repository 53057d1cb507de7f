"""The user's own requests: the list and one case's thread."""
from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.handlers.replies import log_interaction, show
from bot.views import requests as views


async def show_my_requests(update: Update, ctx: BotContext) -> None:
    await log_interaction(ctx, "my_requests")
    requests = await ctx.services.requests.for_user(ctx.profile.id)
    await show(update, ctx, views.my_requests(ctx.t, requests))


async def my_requests_command(update: Update, ctx: BotContext) -> None:
    if ctx.profile is not None:
        await show_my_requests(update, ctx)


async def show_my_case(update: Update, ctx: BotContext, request_id: int, page: int) -> None:
    case = await ctx.services.requests.user_case(ctx.profile.id, request_id)
    if case is None:
        from bot.handlers.navigation import show_main_menu

        await show_main_menu(update, ctx, ctx.t("That button is out of date. Here is the main menu."))
        return
    await show(update, ctx, views.user_case(ctx.t, case.request, case.thread, page))
