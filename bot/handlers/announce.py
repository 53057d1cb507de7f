"""/announce: admins compose an announcement in a private chat, preview it as each locale's
readers will see it, confirm it, and steer its sending. The stored role is checked on every
step and every step is written to the audit log. The draft is a flow_states row."""
from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot import LOCALES
from bot.context import BotContext
from bot.handlers.broadcast import (message_parameters, staff_names_and_translator,
                                    start_sending, user_screen)
from bot.handlers.replies import show
from bot.services.announcements import (ACTIVE_DAYS, AWAITING_APPROVAL, SENDING, Draft, Result,
                                        Segment, transliterate_html)
from bot.services.flows import Flow
from bot.services.requests import COUNTRIES
from bot.views import announcements as views
from bot.views import escape
from bot.views.screens import Screen
from bot.views.callbacks import Callback

log = logging.getLogger(__name__)

ANNOUNCE_FLOW = "announce"
RECENT = 10


async def _admin(update: Update, ctx: BotContext, action: str) -> bool:
    """Only an admin (the stored role) may; anyone else's attempt is audited."""
    user = update.effective_user
    if user is not None and await ctx.services.staff.role_of(user.id) == "admin":
        return True
    await ctx.services.staff.audit(user.id if user else None, "denied", action)
    return False


async def _deny(update: Update, ctx: BotContext) -> None:
    """The same answer as for an unknown command: nothing is revealed."""
    if update.effective_chat and update.effective_chat.type == "private":
        from bot.handlers.navigation import unknown_command

        await unknown_command(update, ctx)


def _t(ctx: BotContext):
    return staff_names_and_translator(ctx)[1]


def _names(ctx: BotContext) -> dict[str, str]:
    return staff_names_and_translator(ctx)[0]


async def command(update: Update, ctx: BotContext) -> None:
    """/announce · /announce list · /announce <number>"""
    if not await _admin(update, ctx, "/announce"):
        return await _deny(update, ctx)
    t, args = _t(ctx), ctx.args or []
    admin = update.effective_user.id
    if not args:
        if update.effective_chat.type != "private":
            await update.effective_message.reply_text(
                t("Compose announcements in a private chat with the bot."))
            return
        flow = Flow(ANNOUNCE_FLOW, "text", {"texts": {}, "topic": None,
                                            "segment": Segment().to_dict(), "editing": "uz"})
        await ctx.services.flows.save(admin, flow)
        await ctx.services.announcements.audit(admin, "announce_start")
        await show(update, ctx, views.write_text(t, _names(ctx), "uz"))
    elif args[0] == "list":
        await ctx.services.announcements.audit(admin, "announce_list")
        await show(update, ctx, views.recent(t, await ctx.services.announcements.recent(RECENT)))
    elif args[0].lstrip("#").isdigit():
        await show_progress(update, ctx, int(args[0].lstrip("#")))
    else:
        await update.effective_message.reply_text(
            t("Use: /announce, /announce list, /announce <number>"))


async def show_progress(update: Update, ctx: BotContext, announcement_id: int) -> None:
    progress = await ctx.services.announcements.progress(announcement_id)
    await ctx.services.announcements.audit(update.effective_user.id, "announce_view",
                                           str(announcement_id))
    t = _t(ctx)
    if progress is None:
        await update.effective_message.reply_text(t("No announcement with that number."))
        return
    await show(update, ctx, views.progress(t, _names(ctx), progress))


# The draft.

def _segment(flow: Flow) -> Segment:
    return Segment.from_dict(flow.data["segment"])


async def _show_draft(update: Update, ctx: BotContext, flow: Flow) -> None:
    flow.step = "menu"
    await ctx.services.flows.save(update.effective_user.id, flow)
    content = ctx.services.content.current
    key = flow.data.get("topic")
    title = (content.text(ctx.services.settings.staff_locale or ctx.services.settings.default_locale,
                          key).title if key and content.topic(key) else None)
    segment = _segment(flow)
    counts = await ctx.services.announcements.audience(segment)
    await show(update, ctx, views.draft(_t(ctx), _names(ctx), flow.data["texts"], title, segment,
                                        counts))


async def _ask_text(update: Update, ctx: BotContext, flow: Flow, locale: str) -> None:
    """The text for `locale` next; for Cyrillic Uzbek, the Latin text transliterated first."""
    flow.data["editing"] = locale
    uz = flow.data["texts"].get("uz")
    if locale == "uz_Cyrl" and uz:
        flow.step = "offer"
        screen = views.offer_transliteration(_t(ctx), _names(ctx), transliterate_html(uz))
    else:
        flow.step = "text"
        screen = views.write_text(_t(ctx), _names(ctx), locale)
    await ctx.services.flows.save(update.effective_user.id, flow)
    try:
        await show(update, ctx, screen)
    except TelegramError:  # the transliterated text did not fit with its explanation
        await show(update, ctx, views.write_text(_t(ctx), _names(ctx), locale))


async def _next_after(update: Update, ctx: BotContext, flow: Flow, locale: str) -> None:
    """The next locale without a text (in the usual order), or the draft when none is left."""
    texts = flow.data["texts"]
    later = [other for other in LOCALES[LOCALES.index(locale) + 1:] if not texts.get(other)]
    if later:
        await _ask_text(update, ctx, flow, later[0])
    else:
        await _show_draft(update, ctx, flow)


async def _current_draft(update: Update, ctx: BotContext) -> Flow | None:
    flow = await ctx.services.flows.get(update.effective_user.id)
    return flow if flow is not None and flow.name == ANNOUNCE_FLOW else None


async def on_flow_message(update: Update, ctx: BotContext, flow: Flow) -> None:
    """A message while the admin composes: a text for a locale, or a word to find a topic."""
    admin = update.effective_user.id
    if not await _admin(update, ctx, "announce:message"):
        await ctx.services.flows.clear(admin)  # no longer an admin: the draft goes
        return await _deny(update, ctx)
    t, message = _t(ctx), update.effective_message
    if flow.step in ("text", "offer"):
        if not message.text:
            await message.reply_text(t("Please write your message as text."))
            return
        locale = flow.data["editing"]
        flow.data["texts"][locale] = message.text_html
        await ctx.services.announcements.audit(admin, "announce_text", locale,
                                               {"length": len(message.text)})
        await _next_after(update, ctx, flow, locale)
    elif flow.step == "topic" and message.text:
        found = ctx.services.search.search(message.text[:100], ctx.services.settings.staff_locale
                                           or ctx.services.settings.default_locale,
                                           ctx.services.content.current)
        await show(update, ctx, views.choose_topic(t, found))
    else:
        await message.reply_text(t("Please answer with the buttons, or send /cancel to stop."))
        await _show_draft(update, ctx, flow)


async def on_button(update: Update, ctx: BotContext, pressed: Callback) -> None:
    """an|<action>[|<value>]: a button of the draft."""
    action, value = pressed.value, pressed.key
    if not await _admin(update, ctx, f"button:announce:{action}"):
        return
    flow = await _current_draft(update, ctx)
    if flow is None:
        from bot.handlers.navigation import show_main_menu

        await show_main_menu(update, ctx, ctx.t("That button is out of date. Here is the main menu."))
        return
    handler = _DRAFT_BUTTONS.get(action)
    if handler is not None:
        await handler(update, ctx, flow, value)


async def _edit(update, ctx, flow, locale):
    if locale in LOCALES:
        await _ask_text(update, ctx, flow, locale)


async def _use_transliteration(update, ctx, flow, _value):
    uz = flow.data["texts"].get("uz")
    if flow.step != "offer" or not uz:
        return await _show_draft(update, ctx, flow)
    flow.data["texts"]["uz_Cyrl"] = transliterate_html(uz)
    await ctx.services.announcements.audit(update.effective_user.id, "announce_text", "uz_Cyrl",
                                           "transliterated")
    await _next_after(update, ctx, flow, "uz_Cyrl")


async def _skip(update, ctx, flow, _value):
    await _next_after(update, ctx, flow, flow.data.get("editing", "uz"))


async def _menu(update, ctx, flow, _value):
    await _show_draft(update, ctx, flow)


async def _topic(update, ctx, flow, _value):
    flow.step = "topic"
    await ctx.services.flows.save(update.effective_user.id, flow)
    await show(update, ctx, views.choose_topic(_t(ctx), None))


async def _topic_chosen(update, ctx, flow, key):
    if key == "-" or ctx.services.content.current.topic(key or "") is None:
        key = None
    flow.data["topic"] = key
    await ctx.services.announcements.audit(update.effective_user.id, "announce_topic", key)
    await _show_draft(update, ctx, flow)


async def _show_segment(update, ctx, flow, _value=None):
    flow.step = "segment"
    await ctx.services.flows.save(update.effective_user.id, flow)
    segment = _segment(flow)
    counts = await ctx.services.announcements.audience(segment)
    await show(update, ctx, views.segment(_t(ctx), _names(ctx), segment, counts))


def _toggled(values: list, value: str, allowed) -> list:
    if value not in allowed:
        return values
    chosen = set(values) ^ {value}
    return [v for v in allowed if v in chosen]


async def _change_segment(update, ctx, flow, field: str, value) -> None:
    segment = flow.data["segment"]
    if field == "lang":
        segment["locales"] = _toggled(segment["locales"], value, LOCALES)
    elif field == "cty":
        segment["countries"] = _toggled(segment["countries"], value, COUNTRIES)
    elif field == "days" and value in ("0", *map(str, ACTIVE_DAYS)):
        segment["active_days"] = int(value) or None
    elif field == "open":
        segment["open_case"] = not segment["open_case"]
    await ctx.services.announcements.audit(update.effective_user.id, "announce_segment", None,
                                           segment)
    await _show_segment(update, ctx, flow)


async def _preview(update, ctx, flow, _value):
    """Each locale's message exactly as its readers will get it, with how many they are; then
    the total and the confirmation."""
    t, names = _t(ctx), _names(ctx)
    texts, topic = flow.data["texts"], flow.data.get("topic")
    if not any(texts.values()):
        await _ask_text(update, ctx, flow, "uz")
        return
    segment = _segment(flow)
    counts = await ctx.services.announcements.audience(segment)
    chat = update.effective_chat.id
    for locale in segment.locales or LOCALES:
        screen, source = user_screen(ctx, texts, topic, locale)
        await ctx.bot.send_message(chat, views.preview_label(t, names, locale, counts[locale], source),
                                   parse_mode=ParseMode.HTML)
        await ctx.bot.send_message(chat, **message_parameters(screen))
    total = sum(counts.values())
    flow.step = "preview"
    await ctx.services.flows.save(update.effective_user.id, flow)
    await ctx.services.announcements.audit(update.effective_user.id, "announce_preview", None,
                                           counts)
    summary = views.preview_summary(t, total, ctx.services.announcements.approval_threshold)
    await ctx.bot.send_message(chat, summary.text, parse_mode=ParseMode.HTML,
                               reply_markup=summary.keyboard)


async def _confirm(update, ctx, flow, _value):
    t = _t(ctx)
    if flow.step != "preview":  # changed since the preview: look again first
        return await _preview(update, ctx, flow, None)
    admin = update.effective_user.id
    draft = Draft(flow.data["texts"], flow.data.get("topic"), _segment(flow))
    result, progress = await ctx.services.announcements.confirm(admin, draft)
    if result == Result.DENIED:  # no longer an admin
        return
    if result == Result.NOBODY:
        await show(update, ctx, views.preview_summary(t, 0, 0))
        return
    if progress.status == SENDING:
        start_sending(ctx, progress.id)
    await show(update, ctx, views.progress(t, _names(ctx), progress))
    if progress.status == AWAITING_APPROVAL:
        await _ask_for_approval(ctx, progress)


async def _discard(update, ctx, flow, _value):
    await ctx.services.flows.clear(update.effective_user.id)
    await ctx.services.announcements.audit(update.effective_user.id, "announce_discard")
    t = _t(ctx)
    await show(update, ctx, Screen(escape(t("Discarded. Nothing was sent."))))


_DRAFT_BUTTONS = {
    "edit": _edit, "tr": _use_transliteration, "skip": _skip, "menu": _menu, "topic": _topic,
    "tk": _topic_chosen, "seg": _show_segment, "prev": _preview, "go": _confirm,
    "quit": _discard,
    **{field: (lambda f: lambda u, c, flow, v: _change_segment(u, c, flow, f, v))(field)
       for field in ("lang", "cty", "days", "open")},
}


# Steering one that was confirmed.

async def _ask_for_approval(ctx: BotContext, progress) -> None:
    """Every other admin gets the preview and the buttons to approve or reject it."""
    t, names = _t(ctx), _names(ctx)
    for admin in await ctx.services.announcements.admins():
        if admin == progress.created_by:
            continue
        try:
            for locale in progress.segment.locales or LOCALES:
                screen, source = user_screen(ctx, progress.texts, progress.topic_key, locale)
                count = sum(progress.by_locale.get(locale, {}).values())
                await ctx.bot.send_message(admin, views.preview_label(t, names, locale, count, source),
                                           parse_mode=ParseMode.HTML)
                await ctx.bot.send_message(admin, **message_parameters(screen))
            request = views.approval_request(t, names, progress)
            await ctx.bot.send_message(admin, request.text, parse_mode=ParseMode.HTML,
                                       reply_markup=request.keyboard)
        except TelegramError as exc:  # never wrote to the bot, or blocked it
            log.info("admin %s not told about announcement %s: %s", admin, progress.id, exc)


async def on_control(update: Update, ctx: BotContext, pressed: Callback) -> None:
    """ac|<action>|<id>: refresh, pause, resume, stop, approve or reject."""
    action, announcement_id = pressed.value, pressed.id
    if not await _admin(update, ctx, f"button:announcement:{action}"):
        return
    if action == "view":
        return await show_progress(update, ctx, announcement_id)
    service, admin, t = ctx.services.announcements, update.effective_user.id, _t(ctx)
    change = {"pause": service.pause, "resume": service.resume, "cancel": service.cancel,
              "approve": service.approve, "reject": service.reject}[action]
    result, progress = await change(admin, announcement_id)
    if result == Result.OWN:
        await update.effective_message.reply_text(t("Only another admin can approve it."))
        return
    if progress is None:  # already changed by someone else: show where it stands
        return await show_progress(update, ctx, announcement_id)
    if action in ("approve", "resume"):
        start_sending(ctx, announcement_id)
    await show(update, ctx, views.progress(t, _names(ctx), progress))
    if action in ("approve", "reject") and progress.created_by != admin:
        notice = (t("Announcement #{number} was approved by {admin}: sending.", number=announcement_id,
                    admin=admin) if action == "approve"
                  else t("Announcement #{number} was rejected by {admin}.", number=announcement_id,
                         admin=admin))
        try:
            await ctx.bot.send_message(progress.created_by, notice)
        except TelegramError as exc:
            log.info("admin %s not told: %s", progress.created_by, exc)
