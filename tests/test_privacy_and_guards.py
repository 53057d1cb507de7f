"""Privacy commands, retention, the flood guard and staff-only access."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import HelpRequest, InboxUpdate, Interaction, RequestMessage, User, utcnow
from bot.handlers import STAFF_COMMANDS
from bot.views import callbacks
from tests.support.updates import callback_update, text_update
from tests.test_requests_flow import ADMIN, STAFF_CHAT, USER, desk, file_request, rows  # noqa: F401

OUTSIDER = 666


async def test_privacy_explains_what_why_how_long_and_who(desk):
    await desk.feed(text_update(desk.bot, USER, "/privacy", language_code="en"))
    text = desk.request.last_screen().params["text"]
    for fragment in ("What we store", "Why", "Who sees it", "365 days", "/mydata", "/delete"):
        assert fragment in text


async def test_mydata_sends_everything_stored_as_a_file(desk):
    await file_request(desk, text="My question")
    await desk.feed(text_update(desk.bot, USER, "/mydata"))
    (call,) = desk.request.of("sendDocument")
    (document,) = call.params["files"].values()
    assert call.params["chat_id"] == USER
    data = json.loads(document)
    assert data["requests"][0]["thread"][0]["text"] == "My question"


async def test_mydata_document_content(desk):
    await file_request(desk, text="My question")
    document = json.loads(await desk.services.privacy.export_user(USER))
    assert document["settings"]["locale"] == "ru"
    (request,) = document["requests"]
    assert request["thread"][0]["text"] == "My question" and request["country"] == "RU"
    assert any(i["kind"] == "ask_filed" for i in document["interactions"])


async def test_delete_erases_user_data_and_staff_see_deleted_case(desk):
    await file_request(desk, text="Secret details")
    await desk.feed(text_update(desk.bot, USER, "/delete"))
    assert callbacks.ERASE_CONFIRMED in str(desk.request.last_screen().params["reply_markup"])
    await desk.feed(callback_update(desk.bot, USER, callbacks.ERASE_CONFIRMED))
    assert await rows(desk, RequestMessage) == []
    assert await rows(desk, User) == []
    assert await rows(desk, Interaction) == []
    (request,) = await rows(desk, HelpRequest)
    assert request.deleted_by_user and request.user_id == 0 and request.phone is None
    await desk.feed(text_update(desk.bot, ADMIN, f"/case {request.number}", language_code="en"))
    assert "Deleted by the user" in desk.request.sent_texts()[-1] or \
        "foydalanuvchi" in desk.request.sent_texts()[-1].lower()


async def test_retention_deletes_old_interactions_and_closed_requests(desk):
    await file_request(desk)
    (request,) = await rows(desk, HelpRequest)
    old = utcnow() - timedelta(days=400)
    async with AsyncSession(desk.services.engine) as session, session.begin():
        await session.execute(update(Interaction).values(created_at=old))
        await session.execute(update(HelpRequest).values(status="closed", resolved_at=old))
    deleted = await desk.services.privacy.apply_retention(365)
    assert deleted[0] > 0 and deleted[1] == 1
    assert await rows(desk, HelpRequest) == [] and await rows(desk, Interaction) == []


async def test_interactions_never_store_the_telegram_id(desk):
    await file_request(desk)
    for interaction in await rows(desk, Interaction):
        assert str(USER) not in interaction.user_key


async def test_flooding_user_loses_only_the_excess_and_is_told_how_long_to_wait(desk):
    for _ in range(25):
        await desk.feed(text_update(desk.bot, USER, "/menu", language_code="en"))
    warnings = [t for t in desk.request.sent_texts() if "very fast" in t]
    assert len(warnings) == 1 and "seconds" in warnings[0]
    assert any(ch.isdigit() for ch in warnings[0])
    assert len(desk.request.sent_texts()) == 21  # 20 menus and one warning
    await desk.feed(text_update(desk.bot, USER + 1, "/menu", language_code="en"))
    assert desk.request.last_screen().params["chat_id"] == USER + 1


async def test_a_user_who_slows_down_is_served_again(desk):
    for _ in range(22):
        await desk.feed(text_update(desk.bot, USER, "/menu", language_code="en"))
    # The window slides past their burst (as if ten seconds went by).
    async with AsyncSession(desk.services.engine) as session, session.begin():
        await session.execute(update(InboxUpdate).values(
            received_at=utcnow() - timedelta(seconds=11)))
    desk.request.clear()
    await desk.feed(text_update(desk.bot, USER, "/menu", language_code="en"))
    assert desk.request.last_screen().params["chat_id"] == USER
    assert not [t for t in desk.request.sent_texts() if "very fast" in t]


@pytest.mark.parametrize("command", sorted(STAFF_COMMANDS))
async def test_every_staff_command_refused_to_outsider_and_removed_staff(desk, command):
    await file_request(desk)
    (request,) = await rows(desk, HelpRequest)
    argument = {"case": request.number, "find": "паспорт", "staff": f"add {OUTSIDER}"}.get(command, "")
    await desk.feed(text_update(desk.bot, ADMIN, f"/staff add {OUTSIDER + 1}"))
    await desk.feed(text_update(desk.bot, ADMIN, f"/staff remove {OUTSIDER + 1}"))
    for user_id in (OUTSIDER, OUTSIDER + 1):
        desk.request.clear()
        await desk.feed(text_update(desk.bot, user_id, f"/{command} {argument}".strip(),
                                    language_code="en"))
        texts = desk.request.sent_texts()
        assert texts and all(request.number not in t for t in texts)
        assert "I don't know that command" in texts[-1]
    assert await desk.services.staff.role_of(OUTSIDER) is None


@pytest.mark.parametrize("data", ["s|take|{id}", "s|resolve|{id}", "s|close|{id}", "q|0",
                                  "c|{id}", "c|{id}|1"])
async def test_every_staff_button_refused_to_outsider(desk, data):
    await file_request(desk)
    (request,) = await rows(desk, HelpRequest)
    desk.request.clear()
    await desk.feed(callback_update(desk.bot, OUTSIDER, data.format(id=request.id)))
    assert all(request.number not in t for t in desk.request.sent_texts())
    (unchanged,) = await rows(desk, HelpRequest)
    assert unchanged.status == "new"


async def test_staff_commands_are_silent_in_a_group_that_is_not_the_staff_group(desk):
    await file_request(desk)
    (request,) = await rows(desk, HelpRequest)
    other_group = {"id": -100777, "type": "supergroup", "title": "Some other group"}
    desk.request.clear()
    for command in ("/queue", f"/case {request.number}", "/find паспорт", "/stats"):
        await desk.feed(text_update(desk.bot, ADMIN, command, chat=other_group))
    assert desk.request.sent_texts() == []  # no case data posted where staff did not ask
    await desk.feed(text_update(desk.bot, ADMIN, "/queue", chat={"id": STAFF_CHAT,
                                                                 "type": "supergroup",
                                                                 "title": "desk"}))
    assert request.number in desk.request.sent_texts()[-1]
