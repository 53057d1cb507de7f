"""Ask a person: the whole flow between a user, the bot and the staff group."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AuditEntry, FlowState, HelpRequest, OutboxMessage, RequestMessage, utcnow
from bot.views import callbacks
from tests.conftest import make_settings, start_harness, stop_harness
from tests.support.recording import BOT_USER
from tests.support.updates import callback_update, message, raw_update, text_update

USER, OTHER, ADMIN, STAFF_CHAT = 601, 602, 900, -100500


@pytest.fixture
async def desk(db_url):
    harness = await start_harness(make_settings(db_url, staff_chat_id=STAFF_CHAT,
                                                admin_ids=(ADMIN,)))
    yield harness
    await stop_harness(harness)


async def rows(harness, model):
    async with AsyncSession(harness.services.engine) as session:
        return list((await session.execute(select(model))).scalars())


def buttons(call):
    markup = call.params.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data")) for row in markup.get("inline_keyboard", [])
            for b in row]


async def press(h, data, user_id=USER, language_code="ru"):
    await h.feed(callback_update(h.bot, user_id, data, language_code=language_code))


async def say(h, text, user_id=USER, **kwargs):
    await h.feed(text_update(h.bot, user_id, text, **kwargs))


async def to_question_step(h, user_id=USER, locale="en", topic="-", country="RU", asker="self"):
    """Start, pick a language and answer the flow's buttons up to the question text."""
    await say(h, "/start", user_id=user_id)
    await press(h, callbacks.language(locale), user_id)
    await press(h, callbacks.ASK, user_id)
    await press(h, callbacks.flow("topic", topic), user_id)
    await press(h, callbacks.flow("country", country), user_id)
    await press(h, callbacks.flow("asker", asker), user_id)


async def file_request(h, text="Работодатель забрал мой паспорт <b>", locale="ru",
                       user_id=USER, agree=True):
    await say(h, "/start", user_id=user_id)
    await press(h, callbacks.language(locale), user_id)
    await press(h, callbacks.ask("rights_documents"), user_id)
    await press(h, callbacks.flow("country", "RU"), user_id)
    await press(h, callbacks.flow("asker", "family_abroad"), user_id)
    await say(h, text, user_id=user_id)
    await say(h, h.services.catalogs.get(locale)("Skip"), user_id=user_id)
    await press(h, callbacks.flow("consent", "yes" if agree else "no"), user_id)


def card_call(h):
    return [c for c in h.request.of("sendMessage") if c.params["chat_id"] == STAFF_CHAT][0]


def staff_reply_update(h, card, text, from_id=ADMIN):
    card_message = {"message_id": 1, "date": 1, "chat": {"id": STAFF_CHAT, "type": "supergroup",
                                                        "title": "Staff"},
                    "from": BOT_USER, "text": card.params["text"]}
    return raw_update(h.bot, message=message(
        from_id, text, chat={"id": STAFF_CHAT, "type": "supergroup", "title": "Staff"},
        reply_to_message=card_message))


async def test_user_files_request_and_gets_case_number_after_commit(desk):
    await file_request(desk)
    (request,) = await rows(desk, HelpRequest)
    assert request.number.startswith("M-") and request.status == "new"
    assert (request.topic_key, request.country, request.asker, request.locale) == \
        ("rights_documents", "RU", "family_abroad", "ru")
    (first,) = await rows(desk, RequestMessage)
    assert first.text == "Работодатель забрал мой паспорт <b>"
    user_texts = [c.params["text"] for c in desk.request.calls
                  if c.params.get("chat_id") == USER and "text" in c.params]
    assert any(request.number in text for text in user_texts)
    card = card_call(desk)
    assert request.number in card.params["text"]
    assert "паспорт &lt;b&gt;" in card.params["text"]  # user text escaped
    assert [d for _, d in buttons(card)] == [f"s|take|{request.id}", f"s|resolve|{request.id}",
                                            f"s|close|{request.id}"]
    assert request.staff_message_id is not None
    assert await rows(desk, FlowState) == []


async def test_refused_consent_stores_nothing(desk):
    await file_request(desk, agree=False)
    assert await rows(desk, HelpRequest) == []
    assert await rows(desk, RequestMessage) == []
    assert await rows(desk, FlowState) == []
    assert "Ничего не сохранено" in desk.request.last_screen().params["text"]


async def test_question_over_limit_is_refused_with_the_limit_named(desk):
    await to_question_step(desk, topic="visas", country="KZ")
    await say(desk, "x" * 2001)
    texts = desk.request.sent_texts()
    assert "2001" in texts[-1] and "2000" in texts[-1]
    flow = (await rows(desk, FlowState))[0]
    assert flow.step == "text"


async def test_staff_reply_reaches_user_and_user_answer_returns_to_group(desk):
    await file_request(desk)
    card = card_call(desk)
    desk.request.clear()
    await desk.feed(staff_reply_update(desk, card, "Пожалуйста, напишите город."))
    to_user = [c for c in desk.request.of("sendMessage") if c.params["chat_id"] == USER][0]
    (request,) = await rows(desk, HelpRequest)
    assert request.number in to_user.params["text"]
    assert "Ответ Агентства по миграции" in to_user.params["text"]
    assert "Пожалуйста, напишите город." in to_user.params["text"]
    assert request.status == "answered" and request.first_reply_at is not None
    desk.request.clear()
    await say(desk, "Москва")
    to_group = [c for c in desk.request.of("sendMessage") if c.params["chat_id"] == STAFF_CHAT][0]
    assert "Москва" in to_group.params["text"] and request.number in to_group.params["text"]
    assert to_group.params["reply_parameters"]["message_id"] == request.staff_message_id
    (request,) = await rows(desk, HelpRequest)
    assert request.status in ("new", "in_progress")
    thread = [(m.author, m.text) for m in await rows(desk, RequestMessage)]
    assert thread[1:] == [("staff", "Пожалуйста, напишите город."), ("user", "Москва")]


async def test_staff_buttons_take_and_resolve_and_non_staff_change_nothing(desk):
    await file_request(desk)
    (request,) = await rows(desk, HelpRequest)
    await press(desk, callbacks.staff_action("resolve", request.id), user_id=OTHER)
    await desk.feed(staff_reply_update(desk, card_call(desk), "hijack", from_id=OTHER))
    (unchanged,) = await rows(desk, HelpRequest)
    assert unchanged.status == "new" and len(await rows(desk, RequestMessage)) == 1
    denied = [a for a in await rows(desk, AuditEntry) if a.action == "denied"]
    assert {a.actor_id for a in denied} == {OTHER}
    await press(desk, callbacks.staff_action("take", request.id), user_id=ADMIN)
    await press(desk, callbacks.staff_action("resolve", request.id), user_id=ADMIN)
    (done,) = await rows(desk, HelpRequest)
    assert done.status == "resolved" and done.assignee_id == ADMIN and done.resolved_at


async def test_restart_in_the_middle_of_the_flow_loses_nothing(db_url):
    settings = make_settings(db_url, staff_chat_id=STAFF_CHAT)
    first = await start_harness(settings)
    await say(first, "/start")
    await press(first, callbacks.language("uz"))
    await press(first, callbacks.ASK)
    await press(first, callbacks.flow("topic", "insurance"))
    await stop_harness(first)
    second = await start_harness(settings)
    try:
        await press(second, callbacks.flow("country", "KR"))
        await press(second, callbacks.flow("asker", "self"))
        await say(second, "Sugʻurta haqida savol")
        await say(second, second.services.catalogs.get("uz")("Skip"))
        await press(second, callbacks.flow("consent", "yes"))
        (request,) = await rows(second, HelpRequest)
        assert (request.topic_key, request.country, request.locale) == ("insurance", "KR", "uz")
    finally:
        await stop_harness(second)


async def test_card_failure_keeps_case_and_retry_posts_it(desk):
    await to_question_step(desk, country="OTHER")
    await say(desk, "Where do I start?")
    await say(desk, "Skip")
    desk.request.fail_next("sendMessage", 400, "Bad Request: chat not found")
    await press(desk, callbacks.flow("consent", "yes"))
    assert desk.request.of("sendMessage")[-1].params["chat_id"] == STAFF_CHAT
    (request,) = await rows(desk, HelpRequest)
    assert request.number and request.staff_message_id is None
    from bot.context import BotContext
    from bot.runner import send_due_outbox

    desk.request.failures.clear()
    await send_due_outbox(BotContext(desk.app))
    assert (await rows(desk, HelpRequest))[0].staff_message_id is None  # not due yet
    async with AsyncSession(desk.services.engine) as session, session.begin():
        await session.execute(update(OutboxMessage).values(due_at=utcnow()))
    await send_due_outbox(BotContext(desk.app))
    (request,) = await rows(desk, HelpRequest)
    assert request.staff_message_id is not None
    cards = [c for c in desk.request.of("sendMessage") if c.params["chat_id"] == STAFF_CHAT]
    assert len(cards) == 2  # the failed one and the retry
    await send_due_outbox(BotContext(desk.app))
    assert len([c for c in desk.request.of("sendMessage")
                if c.params["chat_id"] == STAFF_CHAT]) == 2  # posted once, never again


async def test_answer_to_user_who_blocked_the_bot_is_marked(desk):
    await file_request(desk)
    desk.request.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    await desk.feed(staff_reply_update(desk, card_call(desk), "Hello"))
    (request,) = await rows(desk, HelpRequest)
    assert request.user_blocked
    assert not (await rows(desk, RequestMessage))[-1].delivered
    assert "⚠️" in desk.request.sent_texts()[-1]


async def test_staff_commands_for_staff_and_unknown_for_others(desk):
    await file_request(desk)
    (request,) = await rows(desk, HelpRequest)
    desk.request.clear()
    for command in ("/queue", f"/case {request.number}", "/find паспорт", "/stats"):
        await say(desk, command, user_id=ADMIN)
        assert request.number in desk.request.sent_texts()[-1] or "/stats" == command
    assert "30" in desk.request.sent_texts()[-1]
    for command in ("/queue", f"/case {request.number}", "/stats", "/staff list"):
        await say(desk, command, user_id=OTHER, language_code="en")
        assert "I don't know that command" in desk.request.sent_texts()[-1]


async def test_admin_adds_and_removes_staff_and_removed_staff_is_denied(desk):
    await file_request(desk)
    (request,) = await rows(desk, HelpRequest)
    await say(desk, f"/staff add {OTHER}", user_id=ADMIN)
    await press(desk, callbacks.staff_action("take", request.id), user_id=OTHER)
    assert (await rows(desk, HelpRequest))[0].status == "in_progress"
    await say(desk, f"/staff remove {OTHER}", user_id=ADMIN)
    await press(desk, callbacks.staff_action("close", request.id), user_id=OTHER)
    assert (await rows(desk, HelpRequest))[0].status == "in_progress"
    actions = [a.action for a in await rows(desk, AuditEntry)]
    assert "staff_add" in actions and "staff_remove" in actions and "denied" in actions


async def test_user_cannot_open_another_users_case_by_forged_button(desk):
    await file_request(desk)
    (request,) = await rows(desk, HelpRequest)
    await say(desk, "/start", user_id=OTHER)
    await press(desk, callbacks.language("en"), OTHER)
    desk.request.clear()
    await press(desk, callbacks.my_case(request.id), OTHER)
    assert request.number not in desk.request.last_screen().params["text"]
    await press(desk, callbacks.my_case(request.id), USER)
    assert request.number in desk.request.last_screen().params["text"]


async def test_my_requests_lists_cases_and_add_message_reopens(desk):
    await file_request(desk)
    (request,) = await rows(desk, HelpRequest)
    await press(desk, callbacks.staff_action("resolve", request.id), user_id=ADMIN)
    await press(desk, callbacks.MY_REQUESTS)
    assert (f"✅ {request.number} · Решено", callbacks.my_case(request.id)) in \
        buttons(desk.request.last_screen())
    await press(desk, callbacks.write_to_case(request.id))
    await say(desk, "Ещё вопрос")
    (reopened,) = await rows(desk, HelpRequest)
    assert reopened.status == "in_progress" and reopened.resolved_at is None


async def test_export_requests_field_by_field(desk, tmp_path):
    from bot.services import export

    await file_request(desk)
    await desk.feed(staff_reply_update(desk, card_call(desk), "Ответ"))
    from datetime import datetime, timezone
    from bot.db.engine import make_sessionmaker

    sessions = make_sessionmaker(desk.services.engine)
    rows_out = await export.request_rows(sessions, datetime(2020, 1, 1, tzinfo=timezone.utc))
    (row,) = rows_out
    (request,) = await rows(desk, HelpRequest)
    assert row["number"] == request.number and row["status"] == "answered"
    assert (row["topic_key"], row["country"], row["asker"], row["locale"]) == \
        ("rights_documents", "RU", "family_abroad", "ru")
    assert row["phone"] is None and row["first_reply_at"] is not None
    assert [(m["author"], m["text"]) for m in row["thread"]] == [
        ("user", "Работодатель забрал мой паспорт <b>"), ("staff", "Ответ")]
    lines = export.render(rows_out, export.REQUEST_FIELDS, "jsonl").splitlines()
    assert json.loads(lines[0])["number"] == request.number
    csv_text = export.render(rows_out, export.REQUEST_FIELDS, "csv")
    assert csv_text.splitlines()[0].startswith("number,status,created_at")


async def test_the_consent_screen_shows_only_once_the_draft_is_saved(desk, monkeypatch):
    await to_question_step(desk, country="OTHER")
    await say(desk, "Where do I start?")
    flows = desk.services.flows
    saving = flows.save

    async def database_away(user_id, flow):
        if flow.step == "consent":
            raise OperationalError("UPDATE flow_states", {}, Exception("database is locked"))
        await saving(user_id, flow)

    monkeypatch.setattr(flows, "save", database_away)
    desk.request.clear()
    await say(desk, "Skip")
    texts = desk.request.sent_texts()
    assert not any("/delete" in t for t in texts)  # the consent screen was not shown
    assert any("try again in a minute" in t for t in texts)
    assert (await flows.get(USER)).step == "phone"  # the last safe step is still there
    monkeypatch.setattr(flows, "save", saving)
    await say(desk, "Skip")
    assert any("/delete" in t for t in desk.request.sent_texts())
