"""Several bot processes behind a load balancer, on one PostgreSQL database, one token:
every update goes to a random process, and they behave as one bot."""
from __future__ import annotations

import re
import socket
import time
import urllib.request

import pytest

from bot.db.models import HelpRequest, RequestMessage
from bot.i18n import Catalogs
from tests.conftest import ROOT, fresh_database
from tests.fakebot import FakeTelegram
from tests.support.balancer import RandomBalancer
from tests.support.botprocess import BotProcess, bot_environment
from tests.test_e2e import buttons, rows

pytestmark = pytest.mark.e2e

TOKEN = "515151:WORKERS-secret-token"
SECRET = "hook-secret-0123456789"
ADMIN, STAFF_CHAT = 9001, -1009001
EN = Catalogs(ROOT / "locales").get("en")
RU = Catalogs(ROOT / "locales").get("ru")
CASE = re.compile(r"M-\d{4}-\d{6}")
WORKERS = 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
            return answer.status == 200
    except OSError:
        return False


class Cluster:
    def __init__(self, tg: FakeTelegram, db_url: str, tmp_path) -> None:
        self.tg, self.db_url, self.tmp_path = tg, db_url, tmp_path
        self.ports = [free_port() for _ in range(WORKERS)]
        self.balancer = RandomBalancer([f"http://127.0.0.1:{p}" for p in self.ports]).start_in_thread()
        self.workers: dict[int, BotProcess] = {}
        try:
            for port in self.ports:  # all at once: they migrate and seed admins concurrently
                self.start(port)
            for port in self.ports:
                tg.wait_for_sync(lambda: healthy(port), timeout=60)  # noqa: B023 - waited here
            tg.wait_for_sync(lambda: tg.webhook_url == self.hook_url, timeout=30)
        except BaseException:
            self.stop()
            raise

    @property
    def hook_url(self) -> str:
        return f"{self.balancer.url}/telegram/hook"

    def start(self, port: int) -> None:
        env = bot_environment(self.tg.url, TOKEN, self.db_url, WEBHOOK_URL=self.hook_url,
                              WEBHOOK_SECRET=SECRET, WEBHOOK_LISTEN="127.0.0.1",
                              WEBHOOK_PORT=str(port), STAFF_CHAT_ID=str(STAFF_CHAT),
                              ADMIN_IDS=str(ADMIN))
        self.workers[port] = BotProcess(env, self.tmp_path / f"worker-{port}.log")

    def backends_used_since(self, mark: int) -> set[str]:
        return {backend for backend, status in self.balancer.forwarded[mark:] if status == 200}

    def stop(self) -> None:
        for worker in self.workers.values():
            if worker.process.poll() is None:
                worker.stop()
        self.balancer.stop()
        logs = "".join(worker.log() for worker in self.workers.values())
        assert TOKEN not in logs and SECRET not in logs


@pytest.fixture
def cluster(tmp_path):
    database = fresh_database("postgresql", tmp_path)
    tg = FakeTelegram(token=TOKEN).start_in_thread()
    tg.allow_http_webhook = True
    tg.add_user(ADMIN, first_name="Staff", language_code="en")
    tg.add_group(STAFF_CHAT, "Migration Agency desk")
    tg.add_member(STAFF_CHAT, ADMIN)
    running = Cluster(tg, database, tmp_path)
    yield running
    running.stop()
    tg.stop()


def texts(tg, chat_id) -> list[str]:
    return [m.get("text", "") for m in tg.sent(chat_id)]


def wait_buttons(tg, chat_id, label, timeout=20):
    tg.wait_for_sync(lambda: label in buttons(tg.last_message(chat_id) or {}), timeout=timeout)


def press(tg, user, label, chat_id=None):
    message = tg.last_message(chat_id or user)
    tg.press(user, message["message_id"], buttons(message)[label], chat_id=chat_id)


def to_consent(tg, user, translator=EN, question=None):
    t = translator
    press(tg, user, t("❓ Ask a question"))
    wait_buttons(tg, user, t("Other question"))
    press(tg, user, t("Other question"))
    wait_buttons(tg, user, t("Russia"))
    press(tg, user, t("Russia"))
    wait_buttons(tg, user, t("For myself"))
    press(tg, user, t("For myself"))
    tg.wait_for_sync(lambda: "2000" in (tg.last_text(user) or ""), timeout=20)
    tg.send_text(user, question or f"Question from user {user}")
    tg.wait_for_sync(lambda: tg.reply_keyboard(user), timeout=20)
    tg.send_text(user, t("Skip"))
    wait_buttons(tg, user, t("✅ I agree, send"))


def start_in_english(tg, user):
    tg.send_text(user, "/start")
    wait_buttons(tg, user, "English")
    press(tg, user, "English")
    wait_buttons(tg, user, EN("Skip ›"))  # the country, asked once
    press(tg, user, EN("Skip ›"))
    wait_buttons(tg, user, EN("❓ Ask a question"))


def test_processes_agree_on_language_form_staff_reply_and_delete(cluster):
    tg, user = cluster.tg, 7001
    tg.add_user(user, first_name="Dilnoza", language_code="ru")
    start_in_english(tg, user)
    tg.send_text(user, "/language")
    wait_buttons(tg, user, "Русский")
    press(tg, user, "Русский")
    wait_buttons(tg, user, RU("❓ Ask a question"))
    for answered in range(1, 4):  # whichever process answers, it answers in Russian
        tg.send_text(user, "/help")
        tg.wait_for_sync(lambda: sum(RU("How to use this bot") in t
                                     for t in texts(tg, user)) == answered,  # noqa: B023
                         timeout=20)
    assert not any(EN("How to use this bot") in t for t in texts(tg, user))

    tg.send_text(user, "/menu")
    wait_buttons(tg, user, RU("❓ Ask a question"))
    mark = len(cluster.balancer.forwarded)
    to_consent(tg, user, RU, "Работодатель не платит зарплату")
    assert len(cluster.backends_used_since(mark)) >= 2  # the form's steps on different processes
    press(tg, user, RU("✅ I agree, send"))
    tg.wait_for_sync(lambda: any(CASE.search(t) for t in texts(tg, user)), timeout=20)
    tg.wait_for_sync(lambda: tg.sent(STAFF_CHAT), timeout=20)
    card = tg.last_message(STAFF_CHAT)
    (number,) = set(CASE.findall(card["text"]))
    tg.send_text(ADMIN, "Name the company, please.", chat_id=STAFF_CHAT,
                 reply_to=card["message_id"])
    tg.wait_for_sync(lambda: "Name the company, please." in (tg.last_text(user) or ""), timeout=20)
    tg.send_text(user, "ООО Стройка")  # a plain message now answers the staff member
    tg.wait_for_sync(lambda: "ООО Стройка" in (tg.last_text(STAFF_CHAT) or ""), timeout=20)
    thread = [(m.author, m.text) for m in rows(cluster.db_url, RequestMessage)]
    assert thread == [("user", "Работодатель не платит зарплату"),
                      ("staff", "Name the company, please."), ("user", "ООО Стройка")]
    assert [r.number for r in rows(cluster.db_url, HelpRequest)] == [number]

    tg.send_text(user, "/delete")
    wait_buttons(tg, user, RU("🗑 Yes, delete everything"))
    press(tg, user, RU("🗑 Yes, delete everything"))
    tg.wait_for_sync(lambda: "/start" in (tg.last_text(user) or ""), timeout=20)
    tg.send_text(user, "/start")  # a new user to every process: the language comes first
    wait_buttons(tg, user, "English")
    assert rows(cluster.db_url, RequestMessage) == []
    (request,) = rows(cluster.db_url, HelpRequest)
    assert request.deleted_by_user


def test_a_card_that_failed_is_posted_once_by_one_process(cluster):
    tg, user = cluster.tg, 7002
    tg.add_user(user, language_code="en")
    start_in_english(tg, user)
    to_consent(tg, user)
    tg.fail("sendMessage", 502, times=4)  # more than the transport's own retries
    press(tg, user, EN("✅ I agree, send"))
    tg.wait_for_sync(lambda: any(CASE.search(t) for t in texts(tg, user)), timeout=30)
    assert not tg.sent(STAFF_CHAT)
    # Three processes run the retry job; the card is claimed by one of them.
    tg.wait_for_sync(lambda: tg.sent(STAFF_CHAT), timeout=90)
    time.sleep(2 * 5 + 1)  # two more rounds of every process's job loop
    (request,) = rows(cluster.db_url, HelpRequest)
    cards = [t for t in texts(tg, STAFF_CHAT) if request.number in t]
    assert len(cards) == 1 and request.staff_message_id is not None


def test_kill_9_of_one_process_under_load_loses_nothing(cluster):
    tg = cluster.tg
    users = list(range(7100, 7112))
    for user in users:
        tg.add_user(user, language_code="en")
        start_in_english(tg, user)
        to_consent(tg, user)
    for user in users:  # all press "I agree" at once; one process dies in the middle
        press(tg, user, EN("✅ I agree, send"))
    time.sleep(0.1)
    victim = cluster.workers[cluster.ports[0]]
    victim.kill()
    # The balancer now fails a third of the deliveries; Telegram delivers them again, and
    # what the dead process had claimed is taken over when its lease runs out.
    tg.wait_for_sync(lambda: all(any(CASE.search(t) for t in texts(tg, u)) for u in users),
                     timeout=90)
    stored = {r.number: r for r in rows(cluster.db_url, HelpRequest)}
    first_texts = {m.request_id: m.text for m in rows(cluster.db_url, RequestMessage)}
    for user in users:
        numbers = {n for t in texts(tg, user) for n in CASE.findall(t)}
        assert len(numbers) == 1, (user, numbers)  # one case, announced in one message
        (number,) = numbers
        assert stored[number].user_id == user
        assert first_texts[stored[number].id] == f"Question from user {user}"
        assert len([t for t in texts(tg, user) if number in t]) == 1
    assert len(stored) == len(users)
    tg.wait_for_sync(lambda: all(any(n in t for t in texts(tg, STAFF_CHAT)) for n in stored),
                     timeout=90)  # every case reaches staff


def test_a_case_worked_in_a_console_process_reaches_the_user_once_through_the_workers(cluster):
    """The console is one more process on the database: what staff do there is sent by
    whichever worker claims it, exactly once, and the card in the staff group follows."""
    import httpx

    tg, user, port = cluster.tg, 7003, free_port()
    env = bot_environment(tg.url, TOKEN, cluster.db_url, CONSOLE_PORT=str(port),
                          CONSOLE_PUBLIC_URL=f"http://127.0.0.1:{port}", STAFF_CHAT_ID=str(STAFF_CHAT))
    console = BotProcess(env, cluster.tmp_path / "console.log", command="console")
    try:
        tg.wait_for_sync(lambda: healthy(port), timeout=60)
        tg.add_user(user, language_code="en")
        start_in_english(tg, user)
        to_consent(tg, user, question="My passport was taken")
        press(tg, user, EN("✅ I agree, send"))
        tg.wait_for_sync(lambda: tg.sent(STAFF_CHAT), timeout=30)
        (request,) = rows(cluster.db_url, HelpRequest)

        tg.send_text(ADMIN, "/console")  # to a random worker; the link opens the console process
        tg.wait_for_sync(lambda: "/login/link?token=" in (tg.last_text(ADMIN) or ""), timeout=20)
        link = re.search(r"http://\S+/login/link\?token=[\w-]+", tg.last_text(ADMIN)).group(0)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as browser:
            token = link.split("token=", 1)[1]
            assert browser.post("/login/link", data={"token": token}).status_code == 303
            page = browser.get(f"/cases/{request.id}")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            for action, form in (("take", {}), ("note", {"note": "Call the embassy"}),
                                 ("reply", {"text": "Go to the consulate with a copy."}),
                                 ("status", {"status": "resolved"})):
                answer = browser.post(f"/cases/{request.id}/{action}", data={"csrf": csrf, **form})
                assert answer.status_code == 303, (action, answer.text)

        tg.wait_for_sync(lambda: any("Go to the consulate with a copy." in t for t in texts(tg, user)),
                         timeout=30)
        tg.wait_for_sync(lambda: any(EN("Did our answer help you?") in t for t in texts(tg, user)),
                         timeout=30)
        staff_t = Catalogs(ROOT / "locales").get("uz")
        done = staff_t("💬 {number}: answered in the console by {name}", number=request.number,
                       name="Staff")
        tg.wait_for_sync(lambda: any(done in t for t in texts(tg, STAFF_CHAT)), timeout=30)
        tg.wait_for_sync(lambda: "Staff" in tg.sent(STAFF_CHAT)[0]["text"], timeout=30)  # the card
        time.sleep(2 * 5 + 1)  # two more rounds of every worker's outbox loop
    finally:
        assert console.stop() == 0
    user_texts = texts(tg, user)
    assert sum("Go to the consulate with a copy." in t for t in user_texts) == 1
    assert sum(EN("Did our answer help you?") in t for t in user_texts) == 1
    assert not any("Call the embassy" in t for t in user_texts)
    assert sum(done in t for t in texts(tg, STAFF_CHAT)) == 1
    answer_row = [m for m in rows(cluster.db_url, RequestMessage) if m.author == "staff"]
    assert [(m.delivery, m.author_id) for m in answer_row] == [("delivered", ADMIN)]
