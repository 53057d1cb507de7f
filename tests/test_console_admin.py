"""The console's canned replies (any staff) and its admin pages: audit log, staff, exports."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AuditEntry, CannedReply, ConsoleSession, HelpRequest, Interaction, StaffMember
from tests.conftest import make_settings, start_harness, stop_harness
from tests.support.console import log_in
from tests.test_requests_flow import file_request

STAFF, OTHER_STAFF, ADMIN, NEWCOMER, STAFF_CHAT = 7001, 7002, 7900, 7555, -100500
ENTRY = re.compile(r'data-entry="(\d+)"')


@pytest.fixture
async def desk(db_url):
    """The console in English: the tests read its messages."""
    harness = await start_harness(make_settings(db_url, staff_chat_id=STAFF_CHAT,
                                                admin_ids=(ADMIN,), staff_locale="en"))
    yield harness
    await stop_harness(harness)


async def rows(harness, model, order=None):
    async with AsyncSession(harness.services.engine) as session:
        query = select(model).order_by(order if order is not None else model.id)
        return list((await session.execute(query)).scalars())


async def roles(harness) -> dict[int, str]:
    return {m.user_id: m.role for m in await rows(harness, StaffMember, StaffMember.user_id)}


async def actions(harness) -> list[str]:
    return [entry.action for entry in await rows(harness, AuditEntry)]


async def add_entries(harness, entries: list[dict]) -> list[int]:
    async with AsyncSession(harness.services.engine) as session:
        added = [AuditEntry(**entry) for entry in entries]
        session.add_all(added)
        await session.flush()
        ids = [entry.id for entry in added]
        await session.commit()
        return ids


def shown(page) -> list[int]:
    return [int(found) for found in ENTRY.findall(page.text)]


# Admin pages are for admins only.

async def test_staff_get_403_on_the_admin_pages_and_their_posts_change_nothing(desk):
    await file_request(desk)
    staff = await log_in(desk.services, STAFF)
    for path in ("/audit", "/staff", "/exports"):
        assert (await staff.get(path)).status_code == 403, path
    before_roles, before_actions = await roles(desk), await actions(desk)
    posts = [("/staff", {"user_id": str(NEWCOMER), "role": "admin"}),
             (f"/staff/{ADMIN}/role", {"role": "staff"}), (f"/staff/{STAFF}/role", {"role": "admin"}),
             (f"/staff/{ADMIN}/remove", {}),
             ("/exports", {"what": "requests", "format": "csv", "since": "2000-01-01"})]
    for path, form in posts:
        response = await staff.post(path, form)
        assert response.status_code == 403, path
        assert "attachment" not in response.headers.get("content-disposition", "")
    assert await roles(desk) == before_roles
    assert await actions(desk) == before_actions


async def test_the_admin_pages_open_for_an_admin(desk):
    admin = await log_in(desk.services, ADMIN, name="Aziza", role="admin")
    for path in ("/audit", "/staff", "/exports", "/canned"):
        assert (await admin.get(path)).status_code == 200, path


# Staff management.

async def test_an_admin_adds_changes_and_removes_members(desk):
    admin = await log_in(desk.services, ADMIN, name="Aziza", role="admin")
    await admin.get("/staff")
    response = await admin.post("/staff", {"user_id": str(NEWCOMER), "role": "staff"})
    assert response.status_code == 303
    member = [m for m in await rows(desk, StaffMember, StaffMember.user_id) if m.user_id == NEWCOMER][0]
    assert (member.role, member.added_by) == ("staff", ADMIN)
    assert f'data-member="{NEWCOMER}"' in (await admin.get("/staff?done=added")).text

    assert (await admin.post(f"/staff/{NEWCOMER}/role", {"role": "admin"})).status_code == 303
    assert (await roles(desk))[NEWCOMER] == "admin"

    assert (await admin.post(f"/staff/{NEWCOMER}/remove")).status_code == 303
    assert NEWCOMER not in await roles(desk)
    entries = [(e.actor_id, e.action, e.target, e.details) for e in await rows(desk, AuditEntry)
               if e.action.startswith("staff_")]
    assert entries == [(ADMIN, "staff_add", str(NEWCOMER), "staff"),
                       (ADMIN, "staff_role", str(NEWCOMER), "admin"),
                       (ADMIN, "staff_remove", str(NEWCOMER), None)]


async def test_a_member_removed_or_demoted_in_the_console_is_refused_at_once(desk):
    admin = await log_in(desk.services, ADMIN, name="Aziza", role="admin")
    other_admin = await log_in(desk.services, OTHER_STAFF, name="Bobur", role="admin")
    staff = await log_in(desk.services, STAFF)
    assert (await staff.get("/")).status_code == 200
    assert (await other_admin.get("/audit")).status_code == 200
    await admin.get("/staff")

    assert (await admin.post(f"/staff/{OTHER_STAFF}/role", {"role": "staff"})).status_code == 303
    assert (await other_admin.get("/audit")).status_code == 403

    assert (await admin.post(f"/staff/{STAFF}/remove")).status_code == 303
    response = await staff.get("/")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert [s for s in await rows(desk, ConsoleSession, ConsoleSession.staff_id) if s.staff_id == STAFF] == []


async def test_adding_a_member_again_or_a_wrong_id_is_refused_and_the_input_kept(desk):
    admin = await log_in(desk.services, ADMIN, name="Aziza", role="admin")
    await log_in(desk.services, STAFF)
    await admin.get("/staff")
    before = await roles(desk)
    again = await admin.post("/staff", {"user_id": str(STAFF), "role": "admin"})
    assert again.status_code == 400
    assert "is a staff member already" in again.text
    for typed in ("12ab", "-5", "0", "9" * 30):
        wrong = await admin.post("/staff", {"user_id": typed, "role": "staff"})
        assert wrong.status_code == 400
        assert "A Telegram id is a whole number" in wrong.text
        assert f'value="{typed}"' in wrong.text
    bad_role = await admin.post("/staff", {"user_id": str(NEWCOMER), "role": "owner"})
    assert bad_role.status_code == 400 and "Choose a role from the list." in bad_role.text
    assert await roles(desk) == before


async def test_the_last_admin_cannot_remove_or_demote_themselves(desk):
    admin = await log_in(desk.services, ADMIN, name="Aziza", role="admin")
    await admin.get("/staff")
    demoted = await admin.post(f"/staff/{ADMIN}/role", {"role": "staff"})
    assert demoted.status_code == 400
    assert "You are the last admin" in demoted.text
    removed = await admin.post(f"/staff/{ADMIN}/remove")
    assert removed.status_code == 400
    assert "You cannot remove yourself" in removed.text
    assert (await roles(desk))[ADMIN] == "admin"

    await admin.post("/staff", {"user_id": str(NEWCOMER), "role": "admin"})
    assert (await admin.post(f"/staff/{ADMIN}/remove")).status_code == 400  # never oneself
    stepped_down = await admin.post(f"/staff/{ADMIN}/role", {"role": "staff"})
    assert stepped_down.status_code == 303 and stepped_down.headers["location"] == "/"
    assert await roles(desk) == {ADMIN: "staff", NEWCOMER: "admin"}
    assert (await admin.get("/staff")).status_code == 403


# The audit log.

async def test_audit_filters_return_the_right_rows_newest_first(desk):
    admin = await log_in(desk.services, ADMIN, name="Aziza", role="admin")
    await log_in(desk.services, STAFF, name="Dilnoza")
    day = lambda d: datetime(2026, 3, d, 12, tzinfo=timezone.utc)  # noqa: E731
    ids = await add_entries(desk, [
        {"actor_id": STAFF, "action": "case_reply", "target": "Q-0001", "created_at": day(1)},
        {"actor_id": STAFF, "action": "case_note", "target": "Q-0001", "created_at": day(2)},
        {"actor_id": OTHER_STAFF, "action": "case_reply", "target": "Q-0002", "created_at": day(3)},
        {"actor_id": ADMIN, "action": "staff_add", "target": str(STAFF), "details": "staff",
         "created_at": day(4)},
    ])
    by_staff = await admin.get(f"/audit?actor={STAFF}&from=2026-03-01&to=2026-03-31")
    assert shown(by_staff) == [ids[1], ids[0]]
    assert "Dilnoza (7001)" in by_staff.text
    assert shown(await admin.get("/audit?action=case_reply")) == [ids[2], ids[0]]
    by_target = await admin.get("/audit?target=Q-0001")
    assert shown(by_target) == [ids[1], ids[0]]
    assert "answered" in by_target.text and "added a note" in by_target.text
    assert shown(await admin.get("/audit?from=2026-03-02&to=2026-03-03")) == [ids[2], ids[1]]
    assert shown(await admin.get(f"/audit?actor={ADMIN}&to=2026-03-31")) == [ids[3]]
    assert shown(await admin.get("/audit?action=case_reply&target=Q-0002&actor=7002")) == [ids[2]]
    newest = shown(await admin.get("/audit"))
    assert newest == sorted(newest, reverse=True)


async def test_audit_log_pages_and_wrong_filters(desk):
    admin = await log_in(desk.services, ADMIN, name="Aziza", role="admin")
    ids = await add_entries(desk, [{"actor_id": STAFF, "action": "case_view", "target": f"P-{n}"}
                                   for n in range(60)])
    first = await admin.get(f"/audit?actor={STAFF}")
    second = await admin.get(f"/audit?actor={STAFF}&page=1")
    assert shown(first) == ids[::-1][:50] and shown(second) == ids[::-1][50:]
    assert "1 / 2" in first.text and f"actor={STAFF}&amp;page=1" in first.text
    wrong_date = await admin.get("/audit?from=2026-13-40")
    assert wrong_date.status_code == 400 and "YYYY-MM-DD" in wrong_date.text
    wrong_actor = await admin.get("/audit?actor=someone")
    assert wrong_actor.status_code == 400
    assert (await admin.get("/audit?action=no_such_action&page=999999999999")).status_code == 200
    assert shown(await admin.get(f"/audit?actor={2 ** 70}")) != []  # ignored: out of range


# Exports.

async def test_an_export_download_has_the_rows_the_database_holds(desk):
    await file_request(desk, text="Паспорт, \"кавычки\", запятые")
    await file_request(desk, text="Второй вопрос", user_id=602)
    admin = await log_in(desk.services, ADMIN, name="Aziza", role="admin")
    await admin.get("/exports")
    response = await admin.post("/exports", {"what": "requests", "format": "csv", "since": "2000-01-01"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="requests-since-2000-01-01.csv"'
    exported = list(csv.DictReader(io.StringIO(response.text)))
    requests = await rows(desk, HelpRequest)
    assert [row["number"] for row in exported] == [r.number for r in requests]
    assert json.loads(exported[0]["thread"])[0]["text"] == "Паспорт, \"кавычки\", запятые"

    lines = await admin.post("/exports", {"what": "interactions", "format": "jsonl",
                                          "since": "2000-01-01"})
    assert lines.headers["content-type"] == "application/x-ndjson; charset=utf-8"
    assert lines.headers["content-disposition"].startswith("attachment;")
    records = [json.loads(line) for line in lines.text.splitlines()]
    interactions = await rows(desk, Interaction)
    assert records and [r["user_key"] for r in records] == [i.user_key for i in interactions]

    later = await admin.post("/exports", {"what": "requests", "format": "jsonl", "since": "2999-01-01"})
    assert later.text == ""
    audited = [(e.actor_id, e.target, e.details) for e in await rows(desk, AuditEntry) if e.action == "export"]
    assert audited == [(ADMIN, "requests", "csv since 2000-01-01: 2 rows"),
                       (ADMIN, "interactions", f"jsonl since 2000-01-01: {len(interactions)} rows"),
                       (ADMIN, "requests", "jsonl since 2999-01-01: 0 rows")]


async def test_an_export_with_a_wrong_form_is_refused_and_not_audited(desk):
    admin = await log_in(desk.services, ADMIN, name="Aziza", role="admin")
    await admin.get("/exports")
    for form in ({"what": "users", "format": "csv", "since": "2000-01-01"},
                 {"what": "requests", "format": "xlsx", "since": "2000-01-01"},
                 {"what": "requests", "format": "csv", "since": "yesterday"}):
        response = await admin.post("/exports", form)
        assert response.status_code == 400 and "content-disposition" not in response.headers
    assert "export" not in await actions(desk)
    forged = await admin.post("/exports", {"what": "requests", "format": "csv",
                                           "since": "2000-01-01"}, csrf="wrong")
    assert forged.status_code == 403 and "export" not in await actions(desk)


# Canned replies.

async def test_staff_add_edit_and_remove_canned_replies(desk):
    staff = await log_in(desk.services, STAFF)
    await staff.get("/canned")
    added = await staff.post("/canned", {"locale": "ru", "title": "Паспорт <b>",
                                         "text": "Обратитесь в консульство."})
    assert added.status_code == 303 and added.headers["location"] == "/canned?language=ru&done=saved"
    reply = (await rows(desk, CannedReply))[0]
    assert (reply.locale, reply.title, reply.created_by) == ("ru", "Паспорт <b>", STAFF)
    listed = await staff.get(added.headers["location"])
    assert "Паспорт &lt;b&gt;" in listed.text and "The canned reply was saved." in listed.text
    assert "Паспорт" not in (await staff.get("/canned?language=en")).text

    assert (await staff.get(f"/canned/{reply.id}")).status_code == 200
    edited = await staff.post(f"/canned/{reply.id}", {"locale": "uz", "title": "Pasport",
                                                      "text": "Konsullikka murojaat qiling."})
    assert edited.status_code == 303
    changed = (await rows(desk, CannedReply))[0]
    assert (changed.locale, changed.title, changed.text) == ("uz", "Pasport", "Konsullikka murojaat qiling.")
    page = await staff.get("/canned")
    assert 'data-confirm="Remove the canned reply “Pasport”?"' in page.text

    assert (await staff.post(f"/canned/{reply.id}/remove")).status_code == 303
    assert await rows(desk, CannedReply) == []
    assert [(e.actor_id, e.action, e.target) for e in await rows(desk, AuditEntry)
            if e.action.startswith("canned_")] == [(STAFF, "canned_save", str(reply.id)),
                                                   (STAFF, "canned_save", str(reply.id)),
                                                   (STAFF, "canned_remove", str(reply.id))]


async def test_a_wrong_canned_reply_is_refused_with_the_input_kept(desk):
    staff = await log_in(desk.services, STAFF)
    await staff.get("/canned")
    cases = [({"locale": "ru", "title": "", "text": "Текст остаётся"}, "A title is 1 to 80 characters."),
             ({"locale": "ru", "title": "Заголовок", "text": "x" * 2001},
              "A canned reply&#39;s text is 1 to 2000 characters."),
             ({"locale": "fr", "title": "Заголовок", "text": "Текст остаётся"},
              "Choose a language from the list.")]
    for form, message in cases:
        response = await staff.post("/canned", form)
        assert response.status_code == 400
        assert message in response.text
        assert f">{form['text']}</textarea>" in response.text
    assert await rows(desk, CannedReply) == []

    reply = await desk.services.canned.save(STAFF, "en", "Passport", "Go to the consulate.")
    wrong = await staff.post(f"/canned/{reply.id}", {"locale": "en", "title": "   ", "text": "Changed"})
    assert wrong.status_code == 400 and ">Changed</textarea>" in wrong.text
    assert (await rows(desk, CannedReply))[0].title == "Passport"
    gone = await staff.post("/canned/999999", {"locale": "en", "title": "A", "text": "B"})
    assert gone.status_code == 404 and len(await rows(desk, CannedReply)) == 1
    assert (await staff.get(f"/canned/{2 ** 64}")).status_code == 404


async def test_canned_posts_with_a_wrong_csrf_token_change_nothing(desk):
    staff = await log_in(desk.services, STAFF)
    reply = await desk.services.canned.save(STAFF, "en", "Passport", "Go to the consulate.")
    before = await actions(desk)
    posts = [("/canned", {"locale": "en", "title": "Forged", "text": "Forged"}),
             (f"/canned/{reply.id}", {"locale": "en", "title": "Forged", "text": "Forged"}),
             (f"/canned/{reply.id}/remove", {})]
    for path, form in posts:
        assert (await staff.post(path, form, csrf="wrong")).status_code == 403, path
    assert [(r.title, r.text) for r in await rows(desk, CannedReply)] == [("Passport", "Go to the consulate.")]
    assert await actions(desk) == before


async def test_admin_posts_with_a_wrong_csrf_token_change_nothing(desk):
    admin = await log_in(desk.services, ADMIN, name="Aziza", role="admin")
    await log_in(desk.services, STAFF)
    before = await roles(desk)
    for path, form in [("/staff", {"user_id": str(NEWCOMER), "role": "admin"}),
                       (f"/staff/{STAFF}/role", {"role": "admin"}), (f"/staff/{STAFF}/remove", {})]:
        assert (await admin.post(path, form, csrf="")).status_code == 403, path
    assert await roles(desk) == before


def test_a_csv_export_never_hands_a_spreadsheet_a_formula():
    from bot.services.export import render

    text = render([{"question": "=HYPERLINK(\"http://x\")", "phone": "+998901234567", "topic": "visa"}],
                  ("question", "phone", "topic"), "csv")
    assert text.splitlines()[1] == "\"'=HYPERLINK(\"\"http://x\"\")\",'+998901234567,visa"
