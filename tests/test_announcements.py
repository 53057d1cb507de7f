"""Announcements: who gets one (segments), the admin's wizard through the real Application,
pause / resume / stop, a second admin's approval, and the users' choice to get none."""
from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (Announcement, AnnouncementRecipient, AuditEntry, FlowState,
                           HelpRequest, OutboxMessage, StaffMember, User, utcnow)
from bot.services.announcements import (AnnouncementService, Draft, Outcome, Recipient,
                                        Result, Segment, text_for, transliterate_html)
from bot.views import callbacks
from tests.conftest import make_settings, start_harness, stop_harness
from tests.support.updates import callback_update, text_update

ADMIN, ADMIN2, STAFF, STAFF_CHAT = 9100, 9101, 9102, -100777
SETTLE_SECONDS = 30


async def seed(engine, users: list[dict], requests: list[dict] = (), admins=()) -> None:
    """Users (and their requests, and admins) straight into the database, as earlier visits
    left them."""
    now = utcnow()
    async with AsyncSession(engine) as session, session.begin():
        for admin in admins:
            session.add(StaffMember(user_id=admin, role="admin"))
        for row in users:
            values = {"pseudonym": f"p{row['id']}", "locale": None, "language_code": None,
                      "is_active": True, "first_seen": now, "last_seen": now,
                      "announcements_off": False, **row}
            session.add(User(**values))
        await session.flush()
        for row in requests:
            values = {"topic_key": None, "asker": "self", "locale": "ru", "status": "new",
                      "created_at": now, "updated_at": now, **row}
            session.add(HelpRequest(**values))


async def rows(engine, model, *where):
    async with AsyncSession(engine) as session:
        return list((await session.execute(select(model).where(*where))).scalars())


def population(now):
    """Twelve users covering every condition of a segment."""
    old = now - timedelta(days=60)
    users = [
        dict(id=1, locale="uz", country="KZ"),
        dict(id=2, locale="uz_Cyrl", country="KZ"),
        dict(id=3, locale="ru", country="KZ", last_seen=old),
        dict(id=4, locale="en", country="RU"),
        dict(id=5, locale=None, language_code="ru-RU"),   # reads ru; country from a request: KZ
        dict(id=6, locale=None, language_code="kk"),       # guessed ru; no country
        dict(id=7, locale=None, language_code="de"),       # the default, uz
        dict(id=8, locale="ru", country="KZ", is_active=False),         # blocked the bot
        dict(id=9, locale="ru", country="KZ", announcements_off=True),  # turned them off
        dict(id=10, locale="en", country=None),            # country from the latest request: TR
        dict(id=11, locale="uz", country="KZ"),            # has an open request
        dict(id=12, locale="ru", country="RU", last_seen=old),
    ]
    requests = [
        dict(user_id=5, country="KZ", status="resolved"),
        dict(user_id=10, country="RU", status="closed", created_at=old),
        dict(user_id=10, country="TR", status="closed"),
        dict(user_id=11, country="KZ", status="in_progress"),
        dict(user_id=4, country="RU", status="new", deleted_by_user=True),
    ]
    return users, requests


async def test_segments_select_by_language_country_activity_and_open_case(db_url):
    from bot.db.engine import make_engine, make_sessionmaker

    engine = make_engine(db_url)
    try:
        users, requests = population(utcnow())
        await seed(engine, users, requests, admins=(ADMIN,))
        service = AnnouncementService(make_sessionmaker(engine), "w1", 1000, "uz")
        everyone = await service.audience(Segment())
        assert everyone == {"uz": 3, "uz_Cyrl": 1, "ru": 4, "en": 2}  # not 8 (blocked), 9 (off)
        assert sum((await service.audience(Segment(countries=("KZ",)))).values()) == 5  # 1 2 3 5 11
        assert await service.audience(Segment(locales=("ru",), countries=("KZ",))) == \
            {"uz": 0, "uz_Cyrl": 0, "ru": 2, "en": 0}  # 3, 5
        assert sum((await service.audience(Segment(countries=("TR", "RU")))).values()) == 3  # 4 10 12
        assert sum((await service.audience(Segment(active_days=30))).values()) == 8  # not 3, 12
        assert (await service.audience(Segment(open_case=True)))["uz"] == 1  # 11 only
        assert sum((await service.audience(Segment(locales=("en", "uz"), active_days=7,
                                                   countries=("RU",)))).values()) == 1  # 4

        draft = Draft({"ru": "<b>Новое</b>", "uz": "Yangi"}, None,
                      Segment(countries=("KZ",), active_days=30))
        result, progress = await service.confirm(ADMIN, draft)
        assert result == Result.OK and progress.recipients == 4
        chosen = {(r.user_id, r.locale, r.status) for r in await rows(engine, AnnouncementRecipient)}
        assert chosen == {(1, "uz", "pending"), (2, "uz_Cyrl", "pending"), (5, "ru", "pending"),
                          (11, "uz", "pending")}
        (outbox,) = await rows(engine, OutboxMessage)
        assert (outbox.kind, outbox.ref, outbox.done_at) == ("announcement", progress.id, None)
        nobody = await service.confirm(ADMIN, Draft({"en": "x"}, None, Segment(countries=("PL",))))
        assert nobody == (Result.NOBODY, None)
        denied = await service.confirm(5, Draft({"en": "x"}, None, Segment()))  # not an admin
        assert denied == (Result.DENIED, None)
        assert len(await rows(engine, Announcement)) == 1  # the empty one left nothing behind
    finally:
        await engine.dispose()


def test_texts_fall_back_along_the_chain_and_uzbek_is_transliterated():
    html = '<b>Diqqat!</b> Yangi qoidalar: <a href="https://migration.uz/a">migration.uz</a> &amp; 2026-yil'
    cyrillic = transliterate_html(html)
    assert cyrillic.startswith("<b>Диққат!</b> Янги қоидалар: ")
    assert '<a href="https://migration.uz/a">migration.uz</a> &amp; 2026-йил' in cyrillic
    texts = {"uz": html, "en": "News"}
    assert text_for(texts, "uz") == (html, "uz")
    assert text_for(texts, "uz_Cyrl") == (cyrillic, "uz")
    assert text_for(texts, "ru") == ("News", "en")
    assert text_for({"uz_Cyrl": "Янги"}, "uz") == ("Yangi", "uz_Cyrl")
    assert text_for({}, "ru") is None


# The wizard, through the real Application.

@pytest.fixture
async def desk(db_url):
    harness = await start_harness(make_settings(
        db_url, staff_chat_id=STAFF_CHAT, admin_ids=(ADMIN, ADMIN2), staff_locale="en",
        announce_messages_per_second=500, announce_approval_threshold=1000))
    await harness.services.staff.add(ADMIN, STAFF, "staff")
    yield harness
    await stop_harness(harness)


async def say(h, user_id, text, **kwargs):
    await h.feed(text_update(h.bot, user_id, text, **kwargs))


async def press(h, user_id, data, language_code="en"):
    await h.feed(callback_update(h.bot, user_id, data, language_code=language_code))


def sent_to(h, chat_id):
    return [c for c in h.request.of("sendMessage") if int(c.params["chat_id"]) == chat_id]


def last_to(h, chat_id):
    return [c for c in h.request.calls if c.method in ("sendMessage", "editMessageText")
            and int(c.params["chat_id"]) == chat_id][-1]


def buttons(call):
    markup = call.params.get("reply_markup") or {}
    return {b["text"]: b.get("callback_data") for row in markup.get("inline_keyboard", [])
            for b in row}


async def settled(h, announcement_id, statuses=("done", "cancelled")):
    """Wait until the announcement is finished and reported."""
    for _ in range(SETTLE_SECONDS * 20):
        async with AsyncSession(h.services.engine) as session:
            row = await session.get(Announcement, announcement_id)
        if row is not None and row.status in statuses and row.reported_at is not None:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"announcement {announcement_id} not finished: {row.status if row else None}")


KZ_USERS = [dict(id=201, locale="uz", country="KZ"), dict(id=202, locale="uz_Cyrl", country="KZ"),
            dict(id=203, locale="ru", country="KZ"), dict(id=204, locale="en", country="KZ"),
            dict(id=205, locale="ru", country="RU"), dict(id=206, locale="ru", country="KZ",
                                                           announcements_off=True)]


async def compose_for_kazakhstan(h, topic_word="patent"):
    """The admin writes the uz text, takes the offered Cyrillic one, writes ru and en, attaches
    a topic found by a word and picks Kazakhstan."""
    await say(h, ADMIN, "/announce", language_code="en")
    await say(h, ADMIN, "Qozogʻistondagilar uchun yangi qoida", language_code="en")
    offer = h.request.last_screen()
    assert "Қозоғистондагилар учун янги қоида" in offer.params["text"]
    await press(h, ADMIN, callbacks.announce("tr"))
    await say(h, ADMIN, "Новое правило для тех, кто в Казахстане", language_code="en")
    await say(h, ADMIN, "A new rule for those in Kazakhstan", language_code="en")
    draft = h.request.last_screen()
    assert "❌" not in draft.params["text"] and "Recipients now:" in draft.params["text"]
    await press(h, ADMIN, callbacks.announce("topic"))
    await say(h, ADMIN, topic_word, language_code="en")
    found = buttons(h.request.last_screen())
    topic_data = next(data for data in found.values() if data.startswith("an|tk|") and data != "an|tk|-")
    await press(h, ADMIN, topic_data)
    await press(h, ADMIN, callbacks.announce("seg"))
    await press(h, ADMIN, callbacks.announce("cty", "KZ"))
    segment_screen = h.request.last_screen()
    assert "Kazakhstan" in segment_screen.params["text"] and "Recipients now: 4" in segment_screen.params["text"]
    await press(h, ADMIN, callbacks.announce("menu"))
    return topic_data.split("|")[2]


async def test_admin_composes_previews_and_sends_to_kazakhstan_with_an_exact_report(desk):
    h = desk
    await seed(h.services.engine, KZ_USERS)
    topic = await compose_for_kazakhstan(h)
    h.request.clear()
    await press(h, ADMIN, callbacks.announce("prev"))
    preview = sent_to(h, ADMIN)
    assert len(preview) == 9  # a label and the message for each of the four, then the summary
    labels = [c.params["text"] for c in preview[0:8:2]]
    assert labels[0].startswith("👁 Oʻzbekcha") and labels[2].startswith("👁 Русский · recipients: 1")
    ru_preview = preview[5]
    assert ru_preview.params["text"] == "Новое правило для тех, кто в Казахстане"
    assert list(buttons(ru_preview).values()) == [callbacks.announced_topic(topic),
                                                  callbacks.STOP_ANNOUNCEMENTS]
    assert "Total recipients: 4." in preview[8].params["text"]
    h.request.clear()
    await press(h, ADMIN, buttons(preview[8])["✅ Send (recipients: 4)"])
    (announcement,) = await rows(h.services.engine, Announcement)
    finished = await settled(h, announcement.id)
    assert finished.status == "done" and finished.started_at is not None
    for user, expected in ((201, "Qozogʻistondagilar uchun yangi qoida"),
                           (202, "Қозоғистондагилар учун янги қоида"),
                           (203, "Новое правило для тех, кто в Казахстане"),
                           (204, "A new rule for those in Kazakhstan")):
        (message,) = sent_to(h, user)
        assert message.params["text"] == expected
        assert callbacks.STOP_ANNOUNCEMENTS in buttons(message).values()
    assert sent_to(h, 205) == [] and sent_to(h, 206) == []  # not in Kazakhstan; turned off
    statuses = {r.user_id: r.status for r in await rows(h.services.engine, AnnouncementRecipient)}
    assert statuses == {201: "sent", 202: "sent", 203: "sent", 204: "sent"}
    (report,) = sent_to(h, STAFF_CHAT)
    assert "Delivery report" in report.params["text"]
    assert "✅ Sent: 4 · ⏳ Pending: 0 · 🚫 Blocked: 0 · ❌ Failed: 0 · ⏭ Not sent: 0" in report.params["text"]
    assert any("Delivery report" in c.params["text"] for c in sent_to(h, ADMIN))
    actions = [a.action for a in await rows(h.services.engine, AuditEntry) if a.actor_id == ADMIN]
    for step in ("announce_start", "announce_text", "announce_topic", "announce_segment",
                 "announce_preview", "announce_confirm"):
        assert step in actions, step
    assert await rows(h.services.engine, FlowState) == []


async def test_everything_but_an_admin_is_refused_and_audited(desk):
    h = desk
    for outsider in (STAFF, 555):
        await say(h, outsider, "/announce", language_code="en")
        await press(h, outsider, callbacks.announce("go"))
        await press(h, outsider, callbacks.announcement("approve", 1))
    assert await rows(h.services.engine, FlowState) == []
    texts = [c.params.get("text", "") for c in h.request.of("sendMessage") + h.request.of("editMessageText")]
    assert not any("announcement" in text.lower() for text in texts)
    denied = [(a.actor_id, a.target) for a in await rows(h.services.engine, AuditEntry)
              if a.action == "denied"]
    for outsider in (STAFF, 555):
        assert (outsider, "/announce") in denied
        assert (outsider, "button:announce:go") in denied
        assert (outsider, "button:announcement:approve") in denied


async def test_a_large_segment_waits_for_a_second_admin(desk):
    h = desk
    h.services.announcements.approval_threshold = 2
    await seed(h.services.engine, KZ_USERS)
    await say(h, ADMIN2, "/start", language_code="en")  # the second admin has a chat
    await compose_for_kazakhstan(h)
    await press(h, ADMIN, callbacks.announce("prev"))
    summary = h.request.last_screen()
    assert "second admin's approval" in summary.params["text"]
    h.request.clear()
    await press(h, ADMIN, callbacks.announce("go"))
    (announcement,) = await rows(h.services.engine, Announcement)
    assert announcement.status == "awaiting_approval"
    assert await rows(h.services.engine, OutboxMessage) == []
    request = sent_to(h, ADMIN2)[-1]
    assert "needs a second admin's approval" in request.params["text"]
    assert len(sent_to(h, ADMIN2)) == 9  # the preview first
    await press(h, ADMIN, callbacks.announcement("approve", announcement.id))  # not their own
    assert "Only another admin can approve it." in h.request.last_screen().params["text"]
    await asyncio.sleep(0.2)
    assert all(sent_to(h, user) == [] for user in (201, 202, 203, 204))
    await press(h, ADMIN2, callbacks.announcement("approve", announcement.id))
    finished = await settled(h, announcement.id)
    assert finished.approved_by == ADMIN2
    assert all(len(sent_to(h, user)) == 1 for user in (201, 202, 203, 204))
    assert any("approved by" in c.params["text"] for c in sent_to(h, ADMIN))


async def test_pause_resume_and_stop(db_url):
    harness = await start_harness(make_settings(db_url, staff_chat_id=STAFF_CHAT,
                                                admin_ids=(ADMIN,), staff_locale="en",
                                                announce_messages_per_second=20))
    h = harness
    try:
        await seed(h.services.engine, [dict(id=1000 + i, locale="ru") for i in range(150)])
        result, progress = await h.services.announcements.confirm(
            ADMIN, Draft({"ru": "Новости"}, None, Segment()))
        from bot.handlers.broadcast import start_sending
        from bot.context import BotContext

        start_sending(BotContext(h.app), progress.id)
        await asyncio.sleep(0.6)
        await press(h, ADMIN, callbacks.announcement("pause", progress.id))
        paused = last_to(h, ADMIN).params["text"]
        assert "Paused" in paused
        await asyncio.sleep(3)  # the slice in hand ends; nothing more goes out
        sent_while_paused = len(h.request.of("sendMessage"))
        await asyncio.sleep(1.5)
        assert len(h.request.of("sendMessage")) == sent_while_paused
        (outbox,) = await rows(h.services.engine, OutboxMessage)
        assert outbox.done_at is not None
        await press(h, ADMIN, callbacks.announcement("resume", progress.id))
        await asyncio.sleep(0.8)
        assert len(h.request.of("sendMessage")) > sent_while_paused
        await press(h, ADMIN, callbacks.announcement("cancel", progress.id))
        finished = await settled(h, progress.id)
        assert finished.status == "cancelled"
        recipients = await rows(h.services.engine, AnnouncementRecipient)
        sent = {r.user_id for r in recipients if r.status == "sent"}
        cancelled = {r.user_id for r in recipients if r.status == "cancelled"}
        assert sent and cancelled and len(sent) + len(cancelled) == 150
        got = {int(c.params["chat_id"]) for c in h.request.of("sendMessage")
               if 1000 <= int(c.params["chat_id"]) < 2000}
        assert got == sent  # exactly those recorded as sent got it, once each
        assert len([c for c in h.request.of("sendMessage") if 1000 <= int(c.params["chat_id"]) < 2000]) == len(sent)
        report = [c for c in sent_to(h, STAFF_CHAT) if "Delivery report" in c.params["text"]]
        assert len(report) == 1 and "Stopped" in report[0].params["text"]
        actions = [a.action for a in await rows(h.services.engine, AuditEntry)]
        assert {"announce_pause", "announce_resume", "announce_cancel"} <= set(actions)
    finally:
        await stop_harness(harness)


# The users' choice.

async def test_users_turn_announcements_off_and_on_and_privacy_says_what_they_are(desk):
    h = desk
    user = 301
    await say(h, user, "/start", language_code="ru")
    await press(h, user, callbacks.language("ru"), language_code="ru")
    await say(h, user, "/privacy", language_code="ru")
    assert "/announcements off" in h.request.last_screen().params["text"]
    await press(h, user, callbacks.STOP_ANNOUNCEMENTS, language_code="ru")
    assert h.request.last_screen().method == "sendMessage"  # never over the announcement
    (stored,) = await rows(h.services.engine, User, User.id == user)
    assert stored.announcements_off is True
    assert (await h.services.announcements.audience(Segment()))["ru"] == 0
    await say(h, user, "/announcements", language_code="ru")
    assert "/announcements on" in h.request.last_screen().params["text"]
    await say(h, user, "/announcements on", language_code="ru")
    (stored,) = await rows(h.services.engine, User, User.id == user)
    assert stored.announcements_off is False
    assert (await h.services.announcements.audience(Segment()))["ru"] == 1
    await say(h, user, "/announcements off", language_code="ru")
    await say(h, user, "/mydata", language_code="ru")
    document = json.loads(h.request.of("sendDocument")[-1].params["files"]["document"])
    assert document["settings"]["announcements_off"] is True


async def test_who_turned_them_off_or_deleted_their_data_after_being_chosen_gets_none(desk):
    h = desk
    await seed(h.services.engine, [dict(id=401, locale="en"), dict(id=402, locale="en"),
                                   dict(id=403, locale="en")])
    result, progress = await h.services.announcements.confirm(
        ADMIN, Draft({"en": "News"}, "kz_stay", Segment()))
    await press(h, 401, callbacks.STOP_ANNOUNCEMENTS)
    await say(h, 402, "/delete")
    await press(h, 402, callbacks.ERASE_CONFIRMED)
    h.request.clear()
    from bot.handlers.broadcast import start_sending
    from bot.context import BotContext

    start_sending(BotContext(h.app), progress.id)
    await settled(h, progress.id)
    assert sent_to(h, 401) == [] and sent_to(h, 402) == []
    (message,) = sent_to(h, 403)
    topic_button = buttons(message)
    assert callbacks.announced_topic("kz_stay") in topic_button.values()
    statuses = {r.user_id: r.status for r in await rows(h.services.engine, AnnouncementRecipient)}
    assert statuses == {401: "skipped", 403: "sent"}  # 402's row went with their data
    final = await h.services.announcements.progress(progress.id)
    assert (final.recipients, final.sent, final.not_sent) == (3, 1, 2)
    # The topic button opens the topic below the announcement, which stays.
    h.request.clear()
    await press(h, 403, callbacks.announced_topic("kz_stay"))
    assert h.request.last_screen().method == "sendMessage"


async def test_outcomes_are_recorded_and_blocked_users_leave_later_segments(db_url):
    from bot.db.engine import make_engine, make_sessionmaker

    engine = make_engine(db_url)
    try:
        await seed(engine, [dict(id=i, locale="en") for i in (1, 2, 3)], admins=(ADMIN,))
        service = AnnouncementService(make_sessionmaker(engine), "w1", 1000, "uz")
        _, progress = await service.confirm(ADMIN, Draft({"en": "x"}, None, Segment()))
        await service.record(progress.id, Recipient(1, "en", 0), Outcome("blocked", "Forbidden"))
        for attempt in range(3):
            await service.record(progress.id, Recipient(2, "en", attempt), Outcome("retry", "502"))
        await service.record(progress.id, Recipient(3, "en", 0), Outcome("sent"))
        statuses = {r.user_id: (r.status, r.attempts) for r in await rows(engine, AnnouncementRecipient)}
        assert statuses == {1: ("blocked", 1), 2: ("failed", 3), 3: ("sent", 1)}
        (blocked,) = await rows(engine, User, User.id == 1)
        assert blocked.is_active is False
        assert sum((await service.audience(Segment())).values()) == 2
        async with AsyncSession(engine) as session, session.begin():
            await session.execute(update(User).where(User.id == 1).values(is_active=True))
        assert sum((await service.audience(Segment())).values()) == 3  # wrote again: back
    finally:
        await engine.dispose()
