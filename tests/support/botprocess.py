"""Start `python -m bot run` as a user would, against a fake Telegram, and stop it cleanly."""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bot_environment(api_url: str, token: str, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TELEGRAM_", "DATABASE_", "STAFF_", "ADMIN_", "CONSOLE_"))}
    # Many bots run at once in the tests: the console only where a test asks for it.
    env.update(TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_URL=api_url, DATABASE_URL=database_url,
               CONTENT_DIR=str(ROOT / "content"), LOCALES_DIR=str(ROOT / "locales"),
               PYTHONPATH=str(ROOT), LOG_LEVEL="INFO", CONSOLE_ENABLED="false")
    env.update(extra)
    return env


def _die_with_parent() -> None:
    """Linux: the bot gets SIGTERM if the test run dies, instead of serving on as an orphan."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


# Every bot started and not yet stopped: a test that fails half-way must not leave a bot that
# goes on claiming the next tests' updates from the shared database (see conftest).
RUNNING: set["BotProcess"] = set()


def stop_leftovers() -> int:
    """Kill every bot a test left running; how many there were."""
    leftovers = [bot for bot in RUNNING if bot.process.poll() is None]
    for bot in leftovers:
        bot.kill()
    RUNNING.clear()
    return len(leftovers)


class BotProcess:
    def __init__(self, env: dict[str, str], log_path: Path, command: str = "run") -> None:
        self._log = log_path.open("w")
        self.process = subprocess.Popen([sys.executable, "-m", "bot", command], env=env,
                                        cwd=str(log_path.parent), stdout=self._log,
                                        stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        self.log_path = log_path
        RUNNING.add(self)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 20) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        RUNNING.discard(self)
        return self.process.returncode

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        self._log.close()
        RUNNING.discard(self)
