"""The staff console's pages and actions, on the same services and database as the bot."""
from __future__ import annotations

import html
import re
import socket
import time

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AuditEntry, CaseNote, HelpRequest, OutboxMessage, RequestMessage
from bot.services.requests import ANSWER
from tests.conftest import TEST_TOKEN
from tests.support.botprocess import BotProcess, bot_environment
from tests.support.console import console_http, log_in
from tests.test_requests_flow import ADMIN, desk, file_request, say  # noqa: F401 - desk is a fixture

STAFF = 7001


async def rows(harness, model):
    async with AsyncSession(harness.services.engine) as session:
        return list((await session.execute(select(model).order_by(model.id))).scalars())


async def test_a_filed_case_is_in_the_inbox_and_its_page_shows_the_thread(desk):
    await file_request(desk, text="Работодатель забрал мой паспорт <b>")
    staff = await log_in(desk.services, STAFF)
    inbox = await staff.get("/")
    request = (await rows(desk, HelpRequest))[0]
    assert inbox.status_code == 200
    assert request.number in inbox.text
    assert "Работодатель забрал мой паспорт &lt;b&gt;" in inbox.text
    page = await staff.get(f"/cases/{request.id}")
    assert page.status_code == 200
    assert "Работодатель забрал мой паспорт &lt;b&gt;" in page.text
    assert "<b>" not in page.text.split("Работодатель", 1)[1][:40]


async def test_answer_from_the_console_is_queued_for_a_bot_process(desk):
    await file_request(desk)
    request = (await rows(desk, HelpRequest))[0]
    staff = await log_in(desk.services, STAFF)
    await staff.get(f"/cases/{request.id}")
    response = await staff.post(f"/cases/{request.id}/reply", {"text": "Обратитесь в консульство."})
    assert response.status_code == 303
    answer = (await rows(desk, RequestMessage))[-1]
    assert (answer.author, answer.delivery, answer.author_id) == ("staff", "pending", STAFF)
    queued = [m for m in await rows(desk, OutboxMessage) if m.kind == ANSWER]
    assert [(m.ref, m.claimed_by, m.done_at) for m in queued] == [(answer.id, None, None)]


async def test_a_note_is_kept_on_the_case_and_never_queued_for_the_user(desk):
    await file_request(desk)
    request = (await rows(desk, HelpRequest))[0]
    staff = await log_in(desk.services, STAFF)
    await staff.get(f"/cases/{request.id}")
    await staff.post(f"/cases/{request.id}/note", {"note": "Позвонить в посольство <i>"})
    notes = await rows(desk, CaseNote)
    assert [(n.text, n.author_id) for n in notes] == [("Позвонить в посольство <i>", STAFF)]
    assert not [m for m in await rows(desk, OutboxMessage) if m.kind == ANSWER]
    page = await staff.get(f"/cases/{request.id}")
    assert "Позвонить в посольство &lt;i&gt;" in page.text


async def test_a_post_without_the_session_csrf_token_changes_nothing(desk):
    await file_request(desk)
    request = (await rows(desk, HelpRequest))[0]
    staff = await log_in(desk.services, STAFF)
    response = await staff.post(f"/cases/{request.id}/note", {"note": "forged"}, csrf="wrong")
    assert response.status_code == 403
    assert await rows(desk, CaseNote) == []


async def test_a_login_link_works_once_and_a_forged_one_never(desk):
    await desk.services.staff.add(None, STAFF, "staff")
    token = await desk.services.console_auth.issue_link(STAFF, "Dilnoza")
    async with console_http(desk.services) as http:
        assert (await http.post("/login/link", data={"token": token})).status_code == 303
        http.cookies.clear()
        assert (await http.post("/login/link", data={"token": token})).status_code == 403
        assert (await http.post("/login/link", data={"token": token + "x"})).status_code == 403
        assert (await http.get("/")).status_code == 303  # to the login page


async def test_a_removed_member_is_out_at_once(desk):
    staff = await log_in(desk.services, STAFF)
    assert (await staff.get("/")).status_code == 200
    await desk.services.staff.remove(ADMIN, STAFF)
    response = await staff.get("/")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_taking_a_case_makes_it_mine_and_in_progress(desk):
    await file_request(desk)
    request = (await rows(desk, HelpRequest))[0]
    staff = await log_in(desk.services, STAFF)
    await staff.get(f"/cases/{request.id}")
    await staff.post(f"/cases/{request.id}/take")
    taken = (await rows(desk, HelpRequest))[0]
    assert (taken.assignee_id, taken.status) == (STAFF, "in_progress")
    mine = await staff.get("/?holder=me")
    assert request.number in mine.text
    assert request.number not in (await staff.get("/?holder=none")).text
    assert any(e.action == "case_assign" and e.actor_id == STAFF for e in await rows(desk, AuditEntry))


async def test_every_page_has_a_content_security_policy_and_no_store(desk):
    staff = await log_in(desk.services, STAFF)
    response = await staff.get("/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_served(url: str, process: BotProcess) -> httpx.Response:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.process.poll() is None, process.log()
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} never answered:\n{process.log()}")


@pytest.mark.e2e
def test_the_console_runs_alone_as_one_more_process_on_the_database(tmp_path):
    port = free_port()
    env = bot_environment("http://telegram.invalid", TEST_TOKEN, f"sqlite+aiosqlite:///{tmp_path}/bot.db",
                          CONSOLE_PORT=str(port))
    console = BotProcess(env, tmp_path / "console.log", command="console")
    try:
        health = wait_until_served(f"http://127.0.0.1:{port}/healthz", console)
        login = httpx.get(f"http://127.0.0.1:{port}/login", timeout=5)
    finally:
        assert console.stop() == 0
    assert (health.status_code, health.text) == (200, "ok")
    assert login.status_code == 200 and "/console" in login.text


async def test_the_users_answer_appears_in_the_thread_and_reopens_the_case_in_its_history(desk):
    await file_request(desk)
    request = (await rows(desk, HelpRequest))[0]
    staff = await log_in(desk.services, STAFF)
    await staff.get(f"/cases/{request.id}")
    await staff.post(f"/cases/{request.id}/reply", {"text": "В каком городе вы работаете?"})
    before = await staff.get(f"/cases/{request.id}/thread")
    version = re.search(r"thread\?v=(\w+)", before.text).group(1)
    assert (await staff.get(f"/cases/{request.id}/thread", params={"v": version})).status_code == 204
    await say(desk, "В Подольске")
    assert (await rows(desk, HelpRequest))[0].status == "in_progress"
    thread = await staff.get(f"/cases/{request.id}/thread", params={"v": version})
    assert thread.status_code == 200 and "В Подольске" in thread.text
    page = await staff.get(f"/cases/{request.id}")
    t = desk.services.catalogs.get("uz")
    assert f"{t('the user')}: {t('wrote again: the case is open')}" in page.text


async def test_the_inbox_asks_for_its_rows_again_and_gets_them_only_when_something_changed(desk):
    await file_request(desk)
    staff = await log_in(desk.services, STAFF)
    page = await staff.get("/?holder=none")
    poll = html.unescape(re.search(r'id="inbox" hx-get="([^"]+)"', page.text).group(1))
    assert (await staff.get(poll)).status_code == 204
    await file_request(desk, text="Второй вопрос о патенте", user_id=STAFF + 50)
    again = await staff.get(poll)
    second = (await rows(desk, HelpRequest))[-1]
    assert again.status_code == 200 and second.number in again.text
    assert "Второй вопрос о патенте" in again.text
