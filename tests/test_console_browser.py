"""The staff console in a real browser (headless Debian chromium) against the real bot
(`python -m bot run` with the console beside it) and a fake Telegram: a user files a request in
Telegram, staff log in with the link /console gives and work the case in the console."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from bot.db.models import HelpRequest
from bot.i18n import Catalogs
from tests.conftest import ROOT, fresh_database
from tests.fakebot import FakeTelegram
from tests.support.botprocess import BotProcess, bot_environment
from tests.support.browser import chromium, free_port, require_chromium, wait_until_serving
from tests.test_e2e import buttons, press, rows, wait_text

pytestmark = pytest.mark.e2e

TOKEN = "515151:BROWSER-secret-token"
USER, OTHER_USER, STAFF, ADMIN, OUTSIDER, STAFF_CHAT = 1101, 1102, 3003, 2202, 4404, -1005005
CATALOGS = Catalogs(ROOT / "locales")
LINK = re.compile(r"https?://\S+/login/link\?token=[\w-]+")
CASE_NUMBER = re.compile(r"M-\d{4}-\d{6}")
CANNED = "Обратитесь в консульство Узбекистана в Москве: {адрес}."
WAIT_MS = 20_000  # the pages refresh themselves every 5 s; answers leave the outbox within ~5 s


def cli(env: dict[str, str], *args: str) -> str:
    """`python -m bot …` as an operator types it."""
    done = subprocess.run([sys.executable, "-m", "bot", *args], env=env, cwd=str(ROOT),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def telegram():
    tg = FakeTelegram(token=TOKEN).start_in_thread()
    tg.add_user(USER, first_name="Dilnoza", language_code="ru")
    tg.add_user(OTHER_USER, first_name="Sardor", language_code="uz")
    tg.add_user(STAFF, first_name="Malika", language_code="ru")
    tg.add_user(ADMIN, first_name="Rustam", language_code="uz")
    tg.add_user(OUTSIDER, first_name="Jasur", language_code="uz")
    tg.add_group(STAFF_CHAT, "Migration Agency desk")
    tg.add_member(STAFF_CHAT, STAFF)
    tg.add_member(STAFF_CHAT, ADMIN)
    yield tg
    tg.stop()


@pytest.fixture
def desk(telegram, tmp_path):
    """The bot with its console on a free port, on a fresh SQLite database with one staff
    member (added by the operators' command) besides the admin from ADMIN_IDS."""
    database_url = fresh_database("sqlite", tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = bot_environment(telegram.url, TOKEN, database_url, STAFF_CHAT_ID=str(STAFF_CHAT),
                          ADMIN_IDS=str(ADMIN), CONSOLE_ENABLED="true", CONSOLE_PORT=str(port),
                          CONSOLE_PUBLIC_URL=url)
    cli(env, "staff", "add", str(STAFF))
    bot = BotProcess(env, tmp_path / "bot.log")
    try:
        wait_until_serving(f"{url}/healthz", alive=lambda: bot.process.poll() is None)
        telegram.wait_for_sync(lambda: telegram.calls_to("getUpdates"), timeout=60)
    except Exception:
        bot.stop()
        raise
    yield Desk(telegram, bot, env, database_url, url)
    bot.stop()
    assert TOKEN not in bot.log(), "the token leaked into the log"


class Desk:
    def __init__(self, tg: FakeTelegram, bot: BotProcess, env: dict[str, str], database_url: str,
                 url: str) -> None:
        self.tg, self.bot, self.env, self.database_url, self.url = tg, bot, env, database_url, url

    def link_for(self, user_id: int) -> str:
        """What /console answers a staff member in a private chat: a one-time login link."""
        before = len(self.tg.sent(user_id))
        self.tg.send_text(user_id, "/console")
        self.tg.wait_for_sync(lambda: len(self.tg.sent(user_id)) > before, timeout=15)
        message = self.tg.last_message(user_id)
        found = LINK.search(message.get("text", ""))
        assert found, message
        # No preview: Telegram's preview fetcher must not be the one to open it.
        (sent,) = [call for call in self.tg.calls_to("sendMessage")
                   if str(call.get("chat_id")) == str(user_id) and found.group(0) in call.get("text", "")]
        assert (sent.get("link_preview_options") or {}).get("is_disabled") is True, sent
        return found.group(0)

    def reply_to(self, user_id: int, text: str) -> str:
        """The bot's first message after the user's `text`."""
        sent = self.tg.send_text(user_id, text)["message_id"]
        after = lambda: [m for m in self.tg.sent(user_id) if m["message_id"] > sent]  # noqa: E731
        self.tg.wait_for_sync(after, timeout=15)
        return after()[0].get("text", "")

    def file_case(self, user_id: int, question: str, locale: str = "ru") -> str:
        """The ask form in Telegram, as a user goes through it; the case's number."""
        tg, t = self.tg, CATALOGS.get(locale)
        tg.send_text(user_id, "/start")
        wait_text(tg, user_id, "Выберите язык")
        press(tg, user_id, t("Language name"))
        wait_text(tg, user_id, t("Which country are you in, or going to?"))
        press(tg, user_id, t("Skip ›"))
        wait_text(tg, user_id, t("Main menu"))
        press(tg, user_id, t("❓ Ask a question"))
        tg.wait_for_sync(lambda: t("Other question") in buttons(tg.last_message(user_id)), timeout=15)
        press(tg, user_id, t("Other question"))
        tg.wait_for_sync(lambda: t("Russia") in buttons(tg.last_message(user_id)), timeout=15)
        press(tg, user_id, t("Russia"))
        tg.wait_for_sync(lambda: len(buttons(tg.last_message(user_id))) == 5, timeout=15)
        press(tg, user_id, list(buttons(tg.last_message(user_id)))[0])
        tg.wait_for_sync(lambda: "2000" in (tg.last_text(user_id) or ""), timeout=15)
        tg.send_text(user_id, question)
        tg.wait_for_sync(lambda: tg.reply_keyboard(user_id), timeout=15)
        tg.send_text(user_id, t("Skip"))
        tg.wait_for_sync(lambda: "/delete" in (tg.last_text(user_id) or ""), timeout=15)
        press(tg, user_id, t("✅ I agree, send"))
        tg.wait_for_sync(lambda: CASE_NUMBER.search(tg.last_text(user_id) or ""), timeout=15)
        return CASE_NUMBER.search(tg.last_text(user_id)).group(0)

    def case(self, number: str) -> HelpRequest:
        return next(r for r in rows(self.database_url, HelpRequest) if r.number == number)


def page_t(page):
    """The translator of the language the page is in."""
    return CATALOGS.get(page.locator("html").get_attribute("lang"))


def log_in(browser, link: str):
    """A fresh browser profile opens the link and presses the button; the page after it."""
    page = browser.new_context().new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(link)
    page.click("#login")
    return page


def mark_page(page) -> None:
    """Tag the loaded document: a reload or a navigation would lose the tag."""
    page.evaluate("() => { window.notReloaded = true; }")


def not_reloaded(page) -> bool:
    return page.evaluate("() => window.notReloaded === true")


@pytest.fixture
def chromium_installed():
    require_chromium()


@pytest.fixture
def browser(chromium_installed):
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    with chromium() as started:
        yield started


def test_staff_work_a_case_in_the_browser(browser, desk):
    from playwright.sync_api import expect

    tg = desk.tg
    # Someone who is not staff gets no link: the same answer as any unknown command.
    unknown = desk.reply_to(OUTSIDER, "/nosuchcommand")
    assert desk.reply_to(OUTSIDER, "/console") == unknown
    assert not any(LINK.search(m.get("text", "")) for m in tg.sent(OUTSIDER))

    # Staff: /console in the staff group gives no link (it is personal); in a private chat it
    # does, and its button logs in.
    tg.send_text(STAFF, "/console", chat_id=STAFF_CHAT)
    tg.wait_for_sync(lambda: "/console" in (tg.last_text(STAFF_CHAT) or ""), timeout=15)
    assert not LINK.search(tg.last_text(STAFF_CHAT))
    link = desk.link_for(STAFF)
    assert link.startswith(desk.url + "/login/link?token=")
    page = log_in(browser, link)
    page.wait_for_url(desk.url + "/")
    expect(page.locator("#inbox")).to_be_visible()
    assert page.locator("tr[data-case]").count() == 0

    # A canned reply in Russian, written on its page.
    page.click('nav a[href="/canned"]')
    form = page.locator('form[action="/canned"]')
    form.locator('select[name="locale"]').select_option("ru")
    form.locator('input[name="title"]').fill("Консульство")
    form.locator('textarea[name="text"]').fill(CANNED)
    page.click("#add-canned")
    expect(page.locator("#canned-ru tr[data-reply]")).to_contain_text("Консульство")

    # A case filed while the inbox is open appears in it without a reload.
    page.click('nav a[href="/"]')
    expect(page.locator("#inbox")).to_be_visible()
    mark_page(page)
    question = "Работодатель в Москве забрал мой паспорт и не отдаёт <b>уже месяц</b>"
    number = desk.file_case(USER, question)
    row = page.locator(f'tr[data-case="{number}"]')
    expect(row).to_be_visible()
    expect(row.locator("td.question")).to_contain_text("забрал мой паспорт и не отдаёт <b>")
    assert not_reloaded(page)

    # The case: an internal note stays on the page; the user gets nothing of it.
    row.locator("a").click()
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    expect(page.locator("#thread")).to_contain_text(question)
    note = "Позвонила в консульство, ждём ответа до пятницы."
    page.fill("#note-text", note)
    page.click("#add-note")
    expect(page.locator("#thread .message.note")).to_contain_text(note)

    # The canned reply, inserted from the select, edited, and sent.
    page.select_option("#canned", label="Консульство")
    box = page.locator("#reply-text")
    expect(box).to_have_value(CANNED)
    answer = "Обратитесь в консульство Узбекистана в Москве: ул. Погодинская, 12."
    box.fill(box.input_value().replace("{адрес}.", "ул. Погодинская, 12."))
    page.click("#send-reply")
    expect(page.locator("#thread .message.staff")).to_contain_text(answer)
    mark_page(page)
    wait_text(tg, USER, answer, timeout=20)
    expect(page.locator("#thread .message.staff .delivery-delivered")).to_be_visible()
    assert not any(note in (m.get("text") or "") for m in tg.sent(USER))

    # The user's answer in Telegram shows on the open case page.
    tg.send_text(USER, "Спасибо! Завтра схожу туда с копией паспорта.")
    expect(page.locator("#thread .message.user").last).to_contain_text(
        "Завтра схожу туда с копией паспорта.")
    assert not_reloaded(page)

    # Resolved from the status select.
    page.select_option('form[action$="/status"] select', "resolved")
    page.click("#set-status")
    expect(page.locator("#thread h2").first).to_contain_text(page_t(page)("Resolved"))
    assert desk.case(number).status == "resolved"

    # The dashboard counts what the database holds (a second case, in Uzbek, filed meanwhile).
    desk.file_case(OTHER_USER, "Patent uchun to'lovni kechiktirdim, nima qilishim kerak?", "uz")
    cases = rows(desk.database_url, HelpRequest)
    assert len(cases) == 2
    page.click('nav a[href="/dashboard"]')
    t = page_t(page)
    expect(page.locator("#total .figure")).to_have_text(str(len(cases)))
    answered = sum(c.first_reply_at is not None for c in cases)
    resolved = sum(c.resolved_at is not None for c in cases)
    expect(page.locator("#first-reply")).to_contain_text(
        t("{n} of {total} requests answered", n=answered, total=len(cases)))
    expect(page.locator("#resolution")).to_contain_text(
        t("{n} of {total} requests resolved", n=resolved, total=len(cases)))
    page.click("#by-language summary")
    for locale in ("ru", "uz"):
        language = CATALOGS.get(locale)("Language name")
        count = sum(c.locale == locale for c in cases)
        expect(page.locator("#by-language tbody tr", has_text=language).locator("td").last
               ).to_have_text(str(count))

    # A forged link and a used one are refused on the login page.
    for refused in (desk.url + "/login/link?token=forged-" + "x" * 40, link):
        other = log_in(browser, refused)
        t = page_t(other)
        expect(other.locator(".problem[role=alert]")).to_have_text(t(
            "This link is not valid: it was used already, or it expired. Send /console to "
            "the bot in a private chat for a new one."))
        expect(other.locator("#inbox")).to_have_count(0)
        other.context.close()

    # A member removed by the operators' command is out at the next page load.
    cli(desk.env, "staff", "remove", str(STAFF))
    page.reload()
    page.wait_for_url(re.compile(r"/login\?next="))
    expect(page.locator("#inbox")).to_have_count(0)
    expect(page.locator("#thread")).to_have_count(0)


def test_the_screenshots_script_shoots_every_page(chromium_installed, tmp_path):
    """`python -m tests.support.screenshots docs/` keeps working (the docs' PNGs)."""
    from tests.support.screenshots import shoot

    shots = shoot(tmp_path / "docs", tmp_path)
    assert [shot.name for shot in shots] == ["console-inbox.png", "console-case.png",
                                             "console-dashboard.png"]
    for shot in shots:
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
