"""Console logins: one-time links, the Telegram Login Widget's signature, sessions, limits."""
from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ConsoleSession, utcnow
from bot.services.console_auth import MAX_FAILURES, LoginRefused, client_key, widget_user
from tests.conftest import TEST_TOKEN, make_settings, start_harness, stop_harness
from tests.support.console import console_http, log_in

STAFF, ADMIN = 7101, 7900
CLIENT = client_key("198.51.100.4")


@pytest.fixture
async def desk(db_url):
    harness = await start_harness(make_settings(db_url, admin_ids=(ADMIN,),
                                                console_login_widget_bot="agency_help_bot"))
    yield harness
    await stop_harness(harness)


def signed(fields: dict[str, str], token: str = TEST_TOKEN) -> dict[str, str]:
    """Sign as Telegram does: HMAC-SHA-256 of the sorted lines, keyed with SHA-256(token)."""
    checked = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    digest = hmac.new(hashlib.sha256(token.encode()).digest(), checked.encode(), hashlib.sha256)
    return {**fields, "hash": digest.hexdigest()}


def widget_fields(user_id: int, age: timedelta = timedelta(0)) -> dict[str, str]:
    return {"id": str(user_id), "first_name": "Dilnoza", "username": "dilnoza",
            "auth_date": str(int((utcnow() - age).timestamp()))}


def test_widget_data_signed_with_the_token_names_the_user():
    assert widget_user(signed(widget_fields(STAFF)), TEST_TOKEN, utcnow()) == STAFF


@pytest.mark.parametrize("spoil", ["other token", "changed id", "no hash", "stale", "future"])
def test_widget_data_that_is_forged_or_stale_is_refused(spoil):
    fields = widget_fields(STAFF, timedelta(hours=2) if spoil == "stale" else timedelta(0))
    if spoil == "future":
        fields = widget_fields(STAFF, -timedelta(hours=1))
    data = signed(fields, "999:other" if spoil == "other token" else TEST_TOKEN)
    if spoil == "changed id":
        data["id"] = str(ADMIN)
    if spoil == "no hash":
        del data["hash"]
    assert widget_user(data, TEST_TOKEN, utcnow()) is None


async def test_the_widget_logs_in_staff_only(desk):
    await desk.services.staff.add(None, STAFF, "staff")
    async with console_http(desk.services) as http:
        response = await http.get("/login/telegram", params=signed(widget_fields(STAFF)))
        assert response.status_code == 303
        assert (await http.get("/")).status_code == 200
    async with console_http(desk.services) as http:
        stranger = await http.get("/login/telegram", params=signed(widget_fields(4242)))
        assert stranger.status_code == 403
        assert (await http.get("/")).status_code == 303


async def test_too_many_failed_logins_lock_the_client_out_even_with_a_good_link(desk):
    await desk.services.staff.add(None, STAFF, "staff")
    auth = desk.services.console_auth
    for _ in range(MAX_FAILURES):
        with pytest.raises(LoginRefused):
            await auth.redeem_link("guessed", CLIENT)
    token = await auth.issue_link(STAFF, "Dilnoza")
    with pytest.raises(LoginRefused) as refused:
        await auth.redeem_link(token, CLIENT)
    assert refused.value.reason == "too_many"
    # Another client is not held back, and the link was not used up by the refusal.
    assert await auth.redeem_link(token, client_key("192.0.2.1"))


async def test_an_expired_session_is_out_and_logout_ends_it(desk):
    staff = await log_in(desk.services, STAFF)
    assert (await staff.get("/")).status_code == 200
    await staff.post("/logout")
    assert (await staff.get("/")).status_code == 303
    again = await log_in(desk.services, STAFF)
    async with AsyncSession(desk.services.engine) as session:
        await session.execute(update(ConsoleSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        await session.commit()
    assert (await again.get("/")).status_code == 303


async def test_the_link_page_itself_does_not_use_the_link_up(desk):
    await desk.services.staff.add(None, STAFF, "staff")
    token = await desk.services.console_auth.issue_link(STAFF, "Dilnoza")
    async with console_http(desk.services) as http:
        page = await http.get("/login/link", params={"token": token})  # a link preview would do this
        assert page.status_code == 200 and 'name="token"' in page.text
        assert (await http.post("/login/link", data={"token": token})).status_code == 303


async def test_login_redirects_only_within_the_console(desk):
    staff = await log_in(desk.services, STAFF)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = await staff.get("/login", params={"next": target})
        assert response.headers["location"] == "/"
