"""Case work from Telegram and the staff group: /console, /note, /canned, the card kept up to
date, console answers and reminders in the group, a forum topic per case, and the user's
"did it help?" after a case is resolved."""
from __future__ import annotations

import asyncio
import itertools
import re
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import BotContext
from bot.db.models import (AuditEntry, CaseNote, ConsoleLoginLink, FlowState, HelpRequest,
                           OutboxMessage, RequestMessage, utcnow)
from bot.db.models import utcnow
from bot.db.repositories import OutboxRepository
from bot.handlers.staff_relay import STAFF_FORUM, remind_staff
from bot.runner import send_due_outbox
from bot.services.casework import NOTE_LIMIT
from bot.services.requests import CARD_UPDATE, COMMENT_LIMIT, SATISFACTION, Waiting
from bot.views import callbacks
from bot.views import casework as casework_views
from tests.conftest import make_settings, start_harness, stop_harness
from tests.support.recording import BOT_USER, RecordingRequest
from tests.support.updates import callback_update, message, raw_update, user
from tests.test_requests_flow import (ADMIN, OTHER, STAFF_CHAT, USER, buttons, card_call,  # noqa: F401
                                      desk, file_request, press, rows, say, staff_reply_update)

GROUP = {"id": STAFF_CHAT, "type": "supergroup", "title": "Staff"}
_query_ids = itertools.count(1)


def staff_t(h):
    return h.services.catalogs.get("uz")  # STAFF_LOCALE unset: the default locale


def user_t(h, locale="ru"):
    return h.services.catalogs.get(locale)


def bot_message(message_id, text, chat=GROUP, **extra):
    return {"message_id": message_id, "date": int(time.time()), "chat": chat, "from": BOT_USER,
            "text": text, **extra}


def in_group(h, text, from_id=ADMIN, reply_to=None):
    extra = {"reply_to_message": reply_to} if reply_to else {}
    return raw_update(h.bot, message=message(from_id, text, chat=GROUP, **extra))


def group_press(h, data, pressed, from_id=ADMIN):
    return raw_update(h.bot, callback_query={
        "id": f"group-{next(_query_ids)}", "from": user(from_id, "en"), "chat_instance": "staff",
        "data": data, "message": pressed})


async def the_request(h) -> HelpRequest:
    (request,) = await rows(h, HelpRequest)
    return request


async def card_message(h):
    """The case's card as Telegram quotes it in a reply (its first line names the case)."""
    request = await the_request(h)
    return bot_message(request.staff_message_id, f"🆕 {request.number} · New\ncard")


def to_chat(h, chat_id, method="sendMessage"):
    return [c for c in h.request.of(method) if c.params["chat_id"] == chat_id]


async def outbox(h, kind):
    return [m for m in await rows(h, OutboxMessage) if m.kind == kind]


async def run_outbox(h):
    await send_due_outbox(BotContext(h.app))


async def set_columns(h, **values):
    async with AsyncSession(h.services.engine) as session, session.begin():
        await session.execute(update(HelpRequest).values(**values))


# ---------------------------------------------------------------- /console


async def test_console_gives_staff_a_one_time_link_in_private_without_preview(desk):
    await say(desk, "/console", user_id=ADMIN, language_code="en")
    call = desk.request.last_screen()
    assert call.params["chat_id"] == ADMIN
    assert call.params["link_preview_options"] == {"is_disabled": True}
    url = re.search(r'href="([^"]+)"', call.params["text"]).group(1)
    settings = desk.services.settings
    assert url.startswith(f"{settings.console_url}/login/link?token=")
    assert staff_t(desk)("It works once and for {minutes} minutes. Do not forward it: it logs "
                         "in as you.", minutes=5) in call.params["text"]
    token = parse_qs(urlsplit(url.replace("&amp;", "&")).query)["token"][0]
    (link,) = await rows(desk, ConsoleLoginLink)
    assert link.staff_id == ADMIN and link.used_at is None
    assert await desk.services.console_auth.redeem_link(token, "client")  # a session
    members = dict((m.user_id, m.name) for m in await desk.services.staff.listed())
    assert members[ADMIN] == "Aziz"  # the Telegram first name, for colleagues to see


async def test_console_in_the_group_posts_no_link_and_others_get_unknown_command(desk):
    await desk.feed(in_group(desk, "/console"))
    text = desk.request.sent_texts()[-1]
    assert "/console" in text and "token" not in text and "http" not in text
    assert await rows(desk, ConsoleLoginLink) == []
    await say(desk, "/console", user_id=OTHER, language_code="en")
    assert "I don't know that command" in desk.request.sent_texts()[-1]
    assert await rows(desk, ConsoleLoginLink) == []


# ---------------------------------------------------------------- /note and /case


async def test_note_in_reply_to_the_card_is_stored_never_sent_and_shown_in_case(desk):
    await file_request(desk)
    request = await the_request(desk)
    desk.request.clear()
    await desk.feed(in_group(desk, "/note Called the employer.\nHe <promised> to return it.",
                             reply_to=await card_message(desk)))
    (note,) = await rows(desk, CaseNote)
    assert note.text == "Called the employer.\nHe <promised> to return it."
    assert (note.request_id, note.author_id) == (request.id, ADMIN)
    assert to_chat(desk, USER) == []  # the user never sees it
    assert staff_t(desk)("Note saved. The user does not see it.") in desk.request.sent_texts()[-1]
    assert "case_note" in [a.action for a in await rows(desk, AuditEntry)]
    await say(desk, f"/note {request.number.lower()} Second note", user_id=ADMIN)
    assert [n.text for n in await rows(desk, CaseNote)][-1] == "Second note"
    await say(desk, f"/case {request.number}", user_id=ADMIN)
    shown = desk.request.sent_texts()[-1]
    assert "He &lt;promised&gt; to return it." in shown and "Second note" in shown
    assert staff_t(desk)("📝 Internal note") in shown


async def test_note_needs_a_case_and_text_within_the_limit_and_a_staff_member(desk):
    await file_request(desk)
    request = await the_request(desk)
    t = staff_t(desk)
    await say(desk, "/note no case named", user_id=ADMIN)
    assert desk.request.sent_texts()[-1] == casework_views.note_usage(t)
    await desk.feed(in_group(desk, "/note", reply_to=await card_message(desk)))
    assert desk.request.sent_texts()[-1] == casework_views.note_usage(t)
    await say(desk, f"/note {request.number} " + "x" * (NOTE_LIMIT + 1), user_id=ADMIN)
    assert str(NOTE_LIMIT) in desk.request.sent_texts()[-1]
    await say(desk, "/note M-2026-999999 nothing", user_id=ADMIN)
    assert "/case M-2026-000123" in desk.request.sent_texts()[-1]
    await say(desk, f"/note {request.number} sneaky", user_id=OTHER, language_code="en")
    assert "I don't know that command" in desk.request.sent_texts()[-1]
    assert await rows(desk, CaseNote) == []


# ---------------------------------------------------------------- the card kept up to date


async def test_console_changes_queue_one_card_update_that_edits_the_card(desk):
    await file_request(desk)
    request = await the_request(desk)
    await desk.services.console_auth.issue_link(ADMIN, "Dilshod")
    await desk.services.casework.assign(request.id, ADMIN, ADMIN)
    await desk.services.requests.set_status(request.id, ADMIN, "in_progress")
    await desk.services.casework.add_note(request.id, ADMIN, "internal")
    (waiting,) = await outbox(desk, CARD_UPDATE)  # one per case, however many changes
    assert waiting.ref == request.id and waiting.done_at is None
    desk.request.clear()
    await run_outbox(desk)
    (edit,) = desk.request.of("editMessageText")
    assert (edit.params["chat_id"], edit.params["message_id"]) == (STAFF_CHAT,
                                                                    request.staff_message_id)
    t = staff_t(desk)
    assert t("Taken by: {staff_id}", staff_id="Dilshod") in edit.params["text"]
    assert t("In progress") in edit.params["text"]
    assert t("Internal notes: {count}", count=1) in edit.params["text"]
    assert [d for _, d in buttons(edit)] == [f"s|take|{request.id}", f"s|resolve|{request.id}",
                                            f"s|close|{request.id}"]
    assert all(m.done_at for m in await outbox(desk, CARD_UPDATE))
    await run_outbox(desk)
    assert len(desk.request.of("editMessageText")) == 1  # nothing left to do


async def test_card_update_not_modified_is_done_and_a_network_error_is_retried(desk):
    await file_request(desk)
    request = await the_request(desk)
    await desk.services.requests.set_status(request.id, ADMIN, "in_progress")
    desk.request.fail_next("editMessageText", 400, "Bad Request: message is not modified: "
                           "specified new message content and reply markup are exactly the same")
    await run_outbox(desk)
    assert all(m.done_at for m in await outbox(desk, CARD_UPDATE))
    await desk.services.requests.set_status(request.id, ADMIN, "answered")
    desk.request.fail_next("editMessageText", 502, "Bad Gateway")
    await run_outbox(desk)
    retried = [m for m in await outbox(desk, CARD_UPDATE) if m.done_at is None]
    assert len(retried) == 1 and retried[0].due_at > utcnow() and retried[0].last_error


async def test_done_card_updates_are_purged_after_a_day_and_waiting_ones_kept(desk):
    await file_request(desk)
    request = await the_request(desk)
    await desk.services.requests.set_status(request.id, ADMIN, "in_progress")
    await run_outbox(desk)
    await desk.services.requests.set_status(request.id, ADMIN, "answered")  # waiting
    async with AsyncSession(desk.services.engine) as session, session.begin():
        await session.execute(update(OutboxMessage).where(OutboxMessage.done_at.is_not(None))
                              .values(done_at=utcnow() - timedelta(days=2)))
    from bot.app import _purge_outbox

    kinds_before = sorted(m.kind for m in await rows(desk, OutboxMessage))
    await _purge_outbox(BotContext(desk.app))
    left = await rows(desk, OutboxMessage)
    assert [(m.kind, m.done_at) for m in left if m.kind == CARD_UPDATE] == [(CARD_UPDATE, None)]
    assert sorted(m.kind for m in left) == [k for k in kinds_before if k != CARD_UPDATE] + [
        CARD_UPDATE]


async def test_button_on_the_card_edits_it_in_place_and_queues_nothing(desk):
    await file_request(desk)
    request = await the_request(desk)
    await desk.services.console_auth.issue_link(ADMIN, "Dilshod")
    desk.request.clear()
    await desk.feed(group_press(desk, callbacks.staff_action("take", request.id),
                                await card_message(desk)))
    (edit,) = desk.request.of("editMessageText")
    assert edit.params["message_id"] == request.staff_message_id
    assert staff_t(desk)("Taken by: {staff_id}", staff_id="Dilshod") in edit.params["text"]
    assert await outbox(desk, CARD_UPDATE) == []


async def test_reply_and_follow_up_keep_the_card_showing_the_status(desk):
    await file_request(desk)
    t = staff_t(desk)
    await desk.feed(staff_reply_update(desk, card_call(desk), "Which city?"))
    await run_outbox(desk)
    assert t("Answered") in desk.request.of("editMessageText")[-1].params["text"]
    await say(desk, "Moscow")
    await run_outbox(desk)
    assert t("In progress") in desk.request.of("editMessageText")[-1].params["text"]


async def test_deleting_their_data_takes_the_question_off_the_card(desk):
    await file_request(desk, text="Secret details")
    await desk.feed(callback_update(desk.bot, USER, callbacks.ERASE_CONFIRMED))
    desk.request.clear()
    await run_outbox(desk)
    (edit,) = desk.request.of("editMessageText")
    assert "Secret details" not in edit.params["text"]
    assert staff_t(desk)("Deleted by the user.") in edit.params["text"]
    assert "reply_markup" not in edit.params or not buttons(edit)


# ---------------------------------------------------------------- canned replies


async def add_canned(h, locale, title, text):
    return await h.services.canned.save(ADMIN, locale, title, text)


async def test_canned_lists_the_users_language_and_sends_one_as_is(desk):
    await file_request(desk)  # a Russian-speaking user
    request = await the_request(desk)
    ru = await add_canned(desk, "ru", "Паспорт", "Работодатель не вправе <держать> паспорт.")
    await add_canned(desk, "uz", "Pasport", "Ish beruvchi pasportni ushlab turolmaydi.")
    desk.request.clear()
    card = await card_message(desk)
    await desk.feed(in_group(desk, "/canned", reply_to=card))
    listing = desk.request.of("sendMessage")[-1]
    assert buttons(listing) == [("Паспорт", callbacks.canned(ru.id, request.id))]
    await desk.feed(group_press(desk, callbacks.canned(ru.id, request.id),
                                bot_message(900, listing.params["text"])))
    preview = desk.request.of("sendMessage")[-1]
    assert preview.params["reply_parameters"]["message_id"] == request.staff_message_id
    assert "<pre>Работодатель не вправе &lt;держать&gt; паспорт.</pre>" in preview.params["text"]
    assert preview.params["text"].split("\n")[0].count(request.number) == 1  # a reply target too
    version = casework_views.reply_version(ru)
    assert buttons(preview) == [(staff_t(desk)("📤 Send as is"),
                                 callbacks.canned_send(ru.id, request.id, version))]
    assert to_chat(desk, USER) == []
    pressed = bot_message(901, preview.params["text"])
    await desk.feed(group_press(desk, callbacks.canned_send(ru.id, request.id, version), pressed))
    (to_user,) = to_chat(desk, USER)
    assert "Работодатель не вправе &lt;держать&gt; паспорт." in to_user.params["text"]
    assert request.number in to_user.params["text"]
    done = desk.request.of("editMessageText")[-1]
    assert done.params["message_id"] == 901 and not buttons(done)
    assert staff_t(desk)("✅ Sent to the user ({number}).", number=request.number) in \
        done.params["text"]
    staff_messages = [m for m in await rows(desk, RequestMessage) if m.author == "staff"]
    assert [(m.text, m.delivery, m.via) for m in staff_messages] == [
        (ru.text, "delivered", "telegram")]
    assert (await the_request(desk)).status == "answered"
    await desk.feed(group_press(desk, callbacks.canned_send(ru.id, request.id, version), pressed))
    assert len(to_chat(desk, USER)) == 1  # a second press sends nothing more
    assert staff_t(desk)("This answer was just sent to the user.") in desk.request.sent_texts()[-1]


async def test_forged_or_stale_canned_buttons_change_nothing(desk):
    await file_request(desk)
    request = await the_request(desk)
    ru = await add_canned(desk, "ru", "Паспорт", "Текст")
    uz = await add_canned(desk, "uz", "Pasport", "Matn")
    pressed = bot_message(900, "list")
    t = staff_t(desk)
    desk.request.clear()
    await desk.feed(group_press(desk, callbacks.canned(uz.id, request.id), pressed))  # not ru
    assert t("This ready answer was changed or deleted. Send /canned again.") in \
        desk.request.sent_texts()[-1]
    await desk.feed(group_press(desk, callbacks.canned_send(ru.id, request.id, 1), pressed))
    assert t("This ready answer was changed or deleted. Send /canned again.") in \
        desk.request.sent_texts()[-1]
    await desk.feed(group_press(desk, callbacks.canned(ru.id, 999999), pressed))
    await desk.feed(group_press(desk, callbacks.canned_send(
        ru.id, request.id, casework_views.reply_version(ru)), pressed, from_id=OTHER))
    assert to_chat(desk, USER) == []
    assert [m.author for m in await rows(desk, RequestMessage)] == ["user"]
    assert "denied" in [a.action for a in await rows(desk, AuditEntry)]
    assert callbacks.parse("cn|1") is None and callbacks.parse("cs|1|2|x") is None


async def test_canned_without_replies_in_that_language_says_so(desk):
    await file_request(desk)
    request = await the_request(desk)
    await say(desk, f"/canned {request.number}", user_id=ADMIN)
    language = user_t(desk)("Language name")
    assert staff_t(desk)("There are no ready answers in {language} yet. Staff add them in the "
                         "console.", language=language) in desk.request.sent_texts()[-1]
    await say(desk, "/canned", user_id=ADMIN)
    assert desk.request.sent_texts()[-1] == casework_views.canned_usage(staff_t(desk))


# ---------------------------------------------------------------- console answers in the group


async def test_a_console_answer_is_shown_in_the_staff_group_once_sent(desk):
    await file_request(desk)
    request = await the_request(desk)
    await desk.services.console_auth.issue_link(ADMIN, "Dilshod <Admin>")
    await desk.services.requests.staff_reply(request.id, ADMIN, "Go to <the> consulate.",
                                             send_now=False)
    desk.request.clear()
    await run_outbox(desk)
    (to_user,) = to_chat(desk, USER)
    assert "Go to &lt;the&gt; consulate." in to_user.params["text"]
    (in_group_call,) = to_chat(desk, STAFF_CHAT)
    text = in_group_call.params["text"]
    assert staff_t(desk)("💬 {number}: answered in the console by {name}",
                         number=request.number, name="Dilshod &lt;Admin&gt;") in text
    assert "Go to &lt;the&gt; consulate." in text
    assert in_group_call.params["reply_parameters"]["message_id"] == request.staff_message_id
    await run_outbox(desk)
    assert len(to_chat(desk, STAFF_CHAT)) == 1


async def test_a_retried_telegram_reply_is_not_reported_as_a_console_answer(desk):
    await file_request(desk)
    desk.request.fail_next("sendMessage", 502, "Bad Gateway")
    await desk.feed(staff_reply_update(desk, card_call(desk), "Hello"))
    async with AsyncSession(desk.services.engine) as session, session.begin():
        await session.execute(update(OutboxMessage).values(due_at=utcnow()))
    desk.request.clear()
    await run_outbox(desk)
    assert len(to_chat(desk, USER)) == 1
    assert [c for c in to_chat(desk, STAFF_CHAT) if "console" in c.params["text"]] == []


# ---------------------------------------------------------------- reminders


async def test_reminder_names_waiting_cases_oldest_first_once_per_period(desk):
    for user_id in (USER, OTHER):
        await file_request(desk, user_id=user_id)
    first, second = sorted(await rows(desk, HelpRequest), key=lambda r: r.id)
    now = utcnow()
    async with AsyncSession(desk.services.engine) as session, session.begin():
        await session.execute(update(HelpRequest).where(HelpRequest.id == first.id)
                              .values(waiting_since=now - timedelta(hours=30)))
        await session.execute(update(HelpRequest).where(HelpRequest.id == second.id)
                              .values(waiting_since=now - timedelta(hours=50), urgent=True))
    await desk.services.console_auth.issue_link(ADMIN, "Dilshod")
    await desk.services.casework.assign(first.id, ADMIN, ADMIN)
    desk.request.clear()
    await remind_staff(BotContext(desk.app))
    (reminder,) = desk.request.of("sendMessage")
    text = reminder.params["text"]
    assert reminder.params["chat_id"] == STAFF_CHAT
    assert text.index(second.number) < text.index(first.number)  # the longest wait first
    assert "🆘" in text and "Dilshod" in text and "50" in text and "30" in text
    assert f'href="https://t.me/c/500/{first.staff_message_id}"' in text
    assert all(r.reminded_at for r in await rows(desk, HelpRequest))
    await remind_staff(BotContext(desk.app))
    assert len(desk.request.of("sendMessage")) == 1  # reminded within the period: not again
    # A reply to the reminder answers nobody: it names many cases.
    await desk.feed(staff_reply_update(desk, reminder, "which one?"))
    assert to_chat(desk, USER) == [] and to_chat(desk, OTHER) == []


async def test_no_reminder_when_turned_off_or_without_a_staff_group(db_url):
    for overrides in ({"staff_chat_id": STAFF_CHAT, "staff_reminder_hours": 0},
                      {"staff_chat_id": None}):
        harness = await start_harness(make_settings(db_url, admin_ids=(ADMIN,), **overrides))
        try:
            await file_request(harness)
            await set_columns(harness, waiting_since=utcnow() - timedelta(days=3))
            harness.request.clear()
            await remind_staff(BotContext(harness.app))
            assert harness.request.of("sendMessage") == []
            assert all(r.reminded_at is None for r in await rows(harness, HelpRequest))
        finally:
            await stop_harness(harness)


async def test_answered_cases_are_not_reminded(desk):
    await file_request(desk)
    await set_columns(desk, waiting_since=utcnow() - timedelta(days=3))
    await desk.feed(staff_reply_update(desk, card_call(desk), "Answer"))
    desk.request.clear()
    await remind_staff(BotContext(desk.app))
    assert desk.request.of("sendMessage") == []


def test_reminder_view_keeps_within_telegram_limit_and_counts_the_rest():
    from bot.i18n import Catalogs
    from tests.conftest import ROOT

    t = Catalogs(ROOT / "locales").get("en")
    now = utcnow()
    waiting = [Waiting(HelpRequest(id=i, number=f"M-2026-{i:06d}", urgent=False,
                                   waiting_since=now - timedelta(hours=i), staff_message_id=i,
                                   forum_topic_id=None), "N" * 64) for i in range(1, 51)]
    text, listed = casework_views.staff_reminder(t, waiting, 80, 24, now, -1001234)
    from bot.content.markup import telegram_length

    assert telegram_length(text) <= 4096 and 0 < len(listed) < 50
    assert f"{80 - len(listed)} more" in text
    assert listed == list(range(1, len(listed) + 1))


# ---------------------------------------------------------------- forum topics


@pytest.fixture
async def forum(db_url):
    request = RecordingRequest(forums={STAFF_CHAT})
    harness = await start_harness(make_settings(db_url, staff_chat_id=STAFF_CHAT,
                                                admin_ids=(ADMIN,)), request)
    yield harness
    await stop_harness(harness)


async def test_each_case_gets_its_own_topic_in_a_forum(forum):
    await file_request(forum)
    request = await the_request(forum)
    (created,) = forum.request.of("createForumTopic")
    assert created.params["chat_id"] == STAFF_CHAT
    assert created.params["name"].startswith(f"{request.number} · ")
    assert len(created.params["name"]) <= 128
    assert request.forum_topic_id is not None
    card = card_call(forum)
    assert card.params["message_thread_id"] == request.forum_topic_id
    assert len(forum.request.of("getChat")) == 1
    await press(forum, callbacks.write_to_case(request.id))
    forum.request.clear()
    await say(forum, "One more thing")  # a follow-up goes to the case's topic
    (follow_up,) = to_chat(forum, STAFF_CHAT)
    assert follow_up.params["message_thread_id"] == request.forum_topic_id
    await forum.services.requests.staff_reply(request.id, ADMIN, "From the console",
                                              send_now=False)
    forum.request.clear()
    await run_outbox(forum)
    (console_note,) = to_chat(forum, STAFF_CHAT)
    assert console_note.params["message_thread_id"] == request.forum_topic_id
    await file_request(forum, user_id=OTHER)
    assert len(forum.request.of("createForumTopic")) == 1  # one more topic for the new case
    assert forum.request.of("getChat") == []  # asked once per process
    assert forum.app.bot_data[STAFF_FORUM] is True


async def test_staff_commands_in_a_case_topic_are_answered_in_that_topic(forum):
    await file_request(forum)
    request = await the_request(forum)
    forum.request.clear()
    topic_chat = {**GROUP, "is_forum": True}
    for text in (f"/case {request.number}", f"/note {request.number} in the topic"):
        await forum.feed(raw_update(forum.bot, message=message(
            ADMIN, text, chat=topic_chat, message_thread_id=request.forum_topic_id,
            is_topic_message=True)))
    answers = to_chat(forum, STAFF_CHAT)
    assert len(answers) == 2
    assert all(a.params["message_thread_id"] == request.forum_topic_id for a in answers)


async def test_a_follow_up_goes_to_general_when_staff_deleted_the_topic(forum):
    from bot.handlers.staff_relay import post_follow_up

    await file_request(forum)
    request = await the_request(forum)
    forum.request.clear()
    forum.request.fail_next("sendMessage", 400, "Bad Request: message thread not found")
    await post_follow_up(BotContext(forum.app), request, "Are you there?")
    tried, posted = to_chat(forum, STAFF_CHAT)
    assert tried.params["message_thread_id"] == request.forum_topic_id
    assert "message_thread_id" not in posted.params and "Are you there?" in posted.params["text"]


async def test_without_the_right_to_make_topics_the_card_goes_to_general(forum):
    forum.request.fail_next("createForumTopic", 400, "Bad Request: not enough rights to create a topic")
    await file_request(forum)
    request = await the_request(forum)
    assert request.forum_topic_id is None and request.staff_message_id is not None
    assert "message_thread_id" not in card_call(forum).params


async def test_a_plain_group_gets_no_topics(desk):
    await file_request(desk)
    assert desk.request.of("createForumTopic") == []
    assert "message_thread_id" not in card_call(desk).params
    assert (await the_request(desk)).forum_topic_id is None


# ---------------------------------------------------------------- satisfaction


async def answered_and_resolved(h):
    await file_request(h)
    await h.feed(staff_reply_update(h, card_call(h), "Here is what to do."))
    request = await the_request(h)
    await h.feed(group_press(h, callbacks.staff_action("resolve", request.id),
                             await card_message(h)))
    return await the_request(h)


async def test_two_processes_holding_a_question_each_for_one_case_ask_it_once(desk):
    request = await answered_and_resolved(desk)
    (first,) = await outbox(desk, SATISFACTION)
    async with AsyncSession(desk.services.engine) as session:
        second = OutboxRepository(session).add(SATISFACTION, request.id, utcnow())
        await session.flush()
        second_id = second.id
        await session.commit()
    asked = await asyncio.gather(desk.services.requests.satisfaction_to_ask(first.id, request.id),
                                 desk.services.requests.satisfaction_to_ask(second_id, request.id))
    assert sum(found is not None for found in asked) == 1


async def test_resolved_case_asks_the_user_once_and_stores_verdict_and_comment(desk):
    request = await answered_and_resolved(desk)
    assert request.status == "resolved"
    (queued,) = await outbox(desk, SATISFACTION)
    assert queued.ref == request.id
    desk.request.clear()
    await run_outbox(desk)
    (asked,) = to_chat(desk, USER)
    ru = user_t(desk)
    assert ru("Did our answer help you?") in asked.params["text"]
    assert request.number in asked.params["text"]
    assert [d for _, d in buttons(asked)] == [callbacks.satisfaction("up", request.id),
                                             callbacks.satisfaction("down", request.id)]
    assert (await the_request(desk)).satisfaction_asked_at is not None
    # Reopened and resolved again: never asked twice.
    await press(desk, callbacks.write_to_case(request.id))
    await say(desk, "Another question")
    assert (await the_request(desk)).status == "in_progress"
    await desk.services.requests.set_status(request.id, ADMIN, "resolved")
    desk.request.clear()
    await run_outbox(desk)
    assert to_chat(desk, USER, "sendMessage") == []

    await press(desk, callbacks.satisfaction("down", request.id))
    assert (await the_request(desk)).satisfaction == "down"
    assert ru("Skip") in [text for text, _ in buttons(desk.request.last_screen())]
    assert (await rows(desk, FlowState))[0].flow == "satisfaction"
    await say(desk, "x" * (COMMENT_LIMIT + 1))
    assert str(COMMENT_LIMIT) in desk.request.sent_texts()[-1]
    assert (await the_request(desk)).satisfaction_comment is None
    await say(desk, "Too slow <b>")
    stored = await the_request(desk)
    assert stored.satisfaction_comment == "Too slow <b>"
    assert await rows(desk, FlowState) == []
    assert ru("Thank you! Your comment was passed on to the staff.") in desk.request.sent_texts()[-1]
    actions = [a.action for a in await rows(desk, AuditEntry)]
    assert "case_satisfaction" in actions and "case_satisfaction_comment" in actions
    desk.request.clear()
    await run_outbox(desk)
    card = desk.request.of("editMessageText")[-1].params["text"]
    t = staff_t(desk)
    assert "👎" in card and t("The user says the answer did not help.") in card
    assert "Too slow &lt;b&gt;" in card
    await say(desk, f"/case {request.number}", user_id=ADMIN)
    assert "Too slow &lt;b&gt;" in desk.request.sent_texts()[-1]
    # Pressed again: a clear answer, nothing changes.
    await press(desk, callbacks.satisfaction("up", request.id))
    assert ru("You have already answered this question. Thank you!") in \
        desk.request.last_screen().params["text"]
    assert (await the_request(desk)).satisfaction == "down"


async def test_skip_leaves_no_comment_and_a_forged_button_changes_nothing(desk):
    request = await answered_and_resolved(desk)
    await run_outbox(desk)
    await say(desk, "/start", user_id=OTHER)
    await press(desk, callbacks.satisfaction("up", request.id), user_id=OTHER)
    assert (await the_request(desk)).satisfaction is None
    assert user_t(desk)("That button is out of date. Here is the main menu.") in \
        desk.request.last_screen().params["text"]
    await press(desk, callbacks.satisfaction("up", request.id))
    await press(desk, callbacks.satisfaction("skip", request.id))
    assert await rows(desk, FlowState) == []
    await say(desk, "hello")  # no longer taken as a comment
    stored = await the_request(desk)
    assert (stored.satisfaction, stored.satisfaction_comment) == ("up", None)


async def test_not_asked_without_an_answer_or_when_blocked_or_deleted(desk):
    await file_request(desk)
    request = await the_request(desk)
    await desk.services.requests.set_status(request.id, ADMIN, "resolved")  # never answered
    assert await outbox(desk, SATISFACTION) == []
    await press(desk, callbacks.satisfaction("up", request.id))  # not asked: stale
    assert (await the_request(desk)).satisfaction is None

    await file_request(desk, user_id=OTHER)
    other = [r for r in await rows(desk, HelpRequest) if r.user_id == OTHER][0]
    await desk.services.requests.staff_reply(other.id, ADMIN, "Answer")  # send_now: claimed here
    await desk.services.requests.set_status(other.id, ADMIN, "resolved")  # from the console
    assert len(await outbox(desk, SATISFACTION)) == 1
    desk.request.clear()
    desk.request.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    await run_outbox(desk)
    stored = [r for r in await rows(desk, HelpRequest) if r.id == other.id][0]
    assert stored.user_blocked and stored.satisfaction_asked_at is None
    assert all(m.done_at for m in await outbox(desk, SATISFACTION))  # not tried again


async def test_a_question_telegram_did_not_take_is_asked_later(desk):
    request = await answered_and_resolved(desk)
    desk.request.clear()
    desk.request.fail_next("sendMessage", 502, "Bad Gateway")
    await run_outbox(desk)
    assert (await the_request(desk)).satisfaction_asked_at is None
    (waiting,) = [m for m in await outbox(desk, SATISFACTION) if m.done_at is None]
    assert waiting.due_at > utcnow()
    async with AsyncSession(desk.services.engine) as session, session.begin():
        await session.execute(update(OutboxMessage).values(due_at=utcnow()))
    await run_outbox(desk)
    assert len(to_chat(desk, USER)) == 2  # the failed try and the question
    assert (await the_request(desk)).satisfaction_asked_at is not None
    await press(desk, callbacks.satisfaction("up", request.id))
    assert (await the_request(desk)).satisfaction == "up"


async def test_a_user_who_deleted_their_data_is_not_asked(desk):
    request = await answered_and_resolved(desk)
    await desk.feed(callback_update(desk.bot, USER, callbacks.ERASE_CONFIRMED))
    desk.request.clear()
    await run_outbox(desk)
    assert to_chat(desk, USER) == []
    assert all(m.done_at for m in await outbox(desk, SATISFACTION))
    assert (await the_request(desk)).satisfaction_asked_at is None
    assert request.number


# ---------------------------------------------------------------- end to end, in a forum


E2E_TOKEN = "434343:E2E-forum-token"
FORUM_CHAT = -1004004


@pytest.fixture
def forum_telegram():
    from tests.fakebot import FakeTelegram

    tg = FakeTelegram(token=E2E_TOKEN).start_in_thread()
    tg.add_user(USER, first_name="Dilnoza", language_code="ru")
    tg.add_user(ADMIN, first_name="Staff", language_code="uz")
    tg.add_group(FORUM_CHAT, "Migration Agency desk", forum=True)
    tg.add_member(FORUM_CHAT, ADMIN)
    yield tg
    tg.stop()


@pytest.mark.e2e
def test_a_case_in_a_forum_topic_from_card_to_the_users_verdict(forum_telegram, db_url, tmp_path):
    from tests.support.botprocess import BotProcess, bot_environment
    from tests.test_e2e import buttons as e2e_buttons
    from tests.test_e2e import rows as e2e_rows

    tg = forum_telegram
    env = bot_environment(tg.url, E2E_TOKEN, db_url, STAFF_CHAT_ID=str(FORUM_CHAT),
                          ADMIN_IDS=str(ADMIN))
    process = BotProcess(env, tmp_path / "bot.log")
    try:
        tg.wait_for_sync(lambda: tg.calls_to("getUpdates"), timeout=60)
        request = _file_over_http(tg, db_url)
        (topic_id, name), = tg.topics(FORUM_CHAT).items()
        assert name.startswith(request.number)
        card = next(m for m in tg.sent(FORUM_CHAT) if request.number in m.get("text", "")
                    and "reply_markup" in m)
        assert card["message_thread_id"] == topic_id
        tg.send_text(ADMIN, "Пришлите копию договора.", chat_id=FORUM_CHAT,
                     reply_to=card["message_id"], thread_id=topic_id)
        tg.wait_for_sync(lambda: "Пришлите копию договора." in (tg.last_text(USER) or ""),
                         timeout=15)
        tg.send_text(USER, "Договора нет")
        tg.wait_for_sync(lambda: "Договора нет" in (tg.last_text(FORUM_CHAT) or ""), timeout=15)
        assert tg.last_message(FORUM_CHAT)["message_thread_id"] == topic_id
        resolve = next(data for label, data in e2e_buttons(card).items() if "✅" in label)
        tg.press(ADMIN, card["message_id"], resolve, chat_id=FORUM_CHAT)
        up = callbacks.satisfaction("up", request.id)
        tg.wait_for_sync(lambda: up in e2e_buttons(tg.last_message(USER)).values(), timeout=30)
        tg.press(USER, tg.last_message(USER)["message_id"], up)
        tg.wait_for_sync(lambda: e2e_rows(db_url, HelpRequest)[0].satisfaction == "up", timeout=15)
        tg.wait_for_sync(lambda: "👍" in next(m for m in tg.sent(FORUM_CHAT)
                                              if m["message_id"] == card["message_id"])["text"],
                         timeout=30)
    finally:
        process.stop()
    assert E2E_TOKEN not in process.log()


def _file_over_http(tg, db_url) -> HelpRequest:
    from tests.test_e2e import RU, press as e2e_press, wait_text
    from tests.test_e2e import buttons as e2e_buttons
    from tests.test_e2e import rows as e2e_rows

    tg.send_text(USER, "/start")
    wait_text(tg, USER, "Выберите язык")
    e2e_press(tg, USER, "Русский")
    wait_text(tg, USER, RU("Which country are you in, or going to?"))
    e2e_press(tg, USER, RU("Skip ›"))
    wait_text(tg, USER, "Главное меню")
    e2e_press(tg, USER, RU("❓ Ask a question"))
    tg.wait_for_sync(lambda: RU("Other question") in e2e_buttons(tg.last_message(USER)), timeout=15)
    e2e_press(tg, USER, RU("Other question"))
    tg.wait_for_sync(lambda: RU("Russia") in e2e_buttons(tg.last_message(USER)), timeout=15)
    e2e_press(tg, USER, RU("Russia"))
    tg.wait_for_sync(lambda: len(e2e_buttons(tg.last_message(USER))) == 5, timeout=15)
    e2e_press(tg, USER, list(e2e_buttons(tg.last_message(USER)))[0])
    tg.wait_for_sync(lambda: "2000" in (tg.last_text(USER) or ""), timeout=15)
    tg.send_text(USER, "Работодатель не платит зарплату")
    tg.wait_for_sync(lambda: tg.reply_keyboard(USER), timeout=15)
    tg.send_text(USER, RU("Skip"))
    tg.wait_for_sync(lambda: "/delete" in (tg.last_text(USER) or ""), timeout=15)
    e2e_press(tg, USER, RU("✅ I agree, send"))
    tg.wait_for_sync(lambda: any("reply_markup" in m for m in tg.sent(FORUM_CHAT)), timeout=15)
    (request,) = e2e_rows(db_url, HelpRequest)
    return request


# ---------------------------------------------------------------- views: limits and escaping


def _translator(locale="en"):
    from bot.i18n import Catalogs
    from tests.conftest import ROOT

    return Catalogs(ROOT / "locales").get(locale)


def test_staff_card_with_everything_long_fits_telegrams_limit():
    from bot.content.markup import telegram_length
    from bot.services.content import ContentStore
    from bot.views import requests as request_views
    from tests.conftest import ROOT

    content = ContentStore(ROOT / "content")
    content.load()
    now = utcnow()
    request = HelpRequest(id=1, number="M-2026-000001", status="in_progress", urgent=True,
                          topic_key=None, country="RU", asker="self", locale="ru",
                          phone="+7" * 16, created_at=now, assignee_id=5, user_blocked=True,
                          satisfaction="down", satisfaction_comment="<" * COMMENT_LIMIT,
                          deleted_by_user=False)
    for locale in ("uz", "uz_Cyrl", "ru", "en"):
        screen = request_views.staff_card(content.current, _translator(locale), request,
                                          "<&>" * 700, "Русский", holder="N" * 64, notes=99)
        assert telegram_length(screen.text) <= 4096
        assert "&lt;" * 10 in screen.text and "<<" not in screen.text


def test_callback_data_of_the_new_buttons_fits_64_bytes_and_parses_back():
    biggest = 10 ** 12 - 1
    for data in (callbacks.canned(biggest, biggest), callbacks.canned_send(biggest, biggest, biggest),
                 callbacks.satisfaction("down", biggest)):
        assert len(data.encode()) <= 64 and callbacks.parse(data) is not None
    pressed = callbacks.parse(callbacks.canned_send(3, 4, 1733000000))
    assert (pressed.kind, pressed.value, pressed.ref, pressed.id, pressed.version) == (
        "canned", "send", 3, 4, 1733000000)
    for forged in ("cn|a|1", "cs|1|2", "sf|maybe|1", "sf|up|", "cn|1|2|3", "sf|up|1|2"):
        assert callbacks.parse(forged) is None


def test_forum_topic_names_fit_128_and_links_need_a_supergroup():
    from bot.services.content import ContentStore
    from tests.conftest import ROOT

    content = ContentStore(ROOT / "content")
    content.load()
    for key in content.current.topics:
        request = HelpRequest(id=1, number="M-2026-000001", topic_key=key)
        name = casework_views.forum_topic_name(content.current, _translator("uz_Cyrl"), request)
        assert name.startswith("M-2026-000001 · ") and len(name.encode("utf-16-le")) // 2 <= 128
    long = HelpRequest(id=1, number="M-2026-000001", topic_key=None)
    t = _translator()
    assert casework_views.card_link(-1001234, 7) == "https://t.me/c/1234/7"
    assert casework_views.card_link(-1001234, 7, 3) == "https://t.me/c/1234/7?thread=3"
    assert casework_views.card_link(-4321, 7) is None  # a basic group has no message links
    assert casework_views.forum_topic_name(content.current, t, long).endswith(t("Other question"))


def test_console_link_and_console_answer_are_escaped():
    t = _translator()
    screen = casework_views.console_link(t, 'https://x.test/login/link?token=a"b&c', 5)
    assert 'href="https://x.test/login/link?token=a&quot;b&amp;c"' in screen.text
    text = casework_views.console_answer(t, "M-2026-000001", "<Ali>", "<b>" * 2000, "blocked")
    assert "&lt;Ali&gt;" in text and text.count("<b>") == 1  # only the heading is bold
    assert text.split("\n")[0].startswith("<b>💬 M-2026-000001")  # names its case first
    assert t("⚠️ Not delivered: the user has blocked the bot ({number}).",
             number="M-2026-000001") in text
