"""Starting the bot and the baseline as subprocesses, reading their CPU and memory from /proc,
and stopping them for sure (SIGTERM, then SIGKILL)."""
from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.config import CONTENT_DIR, LOCALES_DIR, REPO_ROOT

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
STOP_GRACE_SECONDS = 15.0
# Variables of the bot's own settings that must not leak in from the caller's shell.
_OWN_PREFIXES = ("TELEGRAM_", "DATABASE_", "STAFF_", "ADMIN_", "WEBHOOK_", "DEFAULT_LOCALE",
                 "CONTENT_", "LOCALES_", "RETENTION_", "LOG_LEVEL")


class ProcessDied(RuntimeError):
    """A process the harness started exited on its own."""


def bot_environment(api_url: str, token: str, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
    env.update(TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_URL=api_url,
               CONTENT_DIR=str(CONTENT_DIR), LOCALES_DIR=str(LOCALES_DIR),
               PYTHONPATH=str(REPO_ROOT), PYTHONUNBUFFERED="1", **settings)
    return env


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if the harness itself is killed (even with SIGKILL)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class ManagedProcess:
    """One subprocess with its log file; `spawned_at` is time.perf_counter() at spawn."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self._argv, self._env, self._workdir = argv, env, workdir
        self._process: subprocess.Popen | None = None
        self._log = None
        self.spawned_at = 0.0

    def start(self) -> "ManagedProcess":
        # The working directory is a scratch one: the bot reads `.env` from there, and a
        # developer's own .env in the repository must not change the benchmark.
        self._log = self.log_path.open("w")
        self.spawned_at = time.perf_counter()
        self._process = subprocess.Popen(self._argv, env=self._env, cwd=str(self._workdir),
                                         stdout=self._log, stderr=subprocess.STDOUT,
                                         preexec_fn=_die_with_parent if sys.platform == "linux"
                                         else None)
        return self

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def check_alive(self) -> None:
        if self._process is not None and self._process.poll() is not None:
            raise ProcessDied(f"{self.name} exited with code {self._process.returncode}; "
                              f"last lines of {self.log_path}:\n{self.log_tail()}")

    # ------------------------------------------------------------ /proc readings

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process so far."""
        with open(f"/proc/{self.pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime

    def _status_kib(self, key: str) -> int:
        with open(f"/proc/{self.pid}/status") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return 0

    def rss_bytes(self) -> int:
        return self._status_kib("VmRSS") * 1024

    def peak_rss_bytes(self) -> int:
        return self._status_kib("VmHWM") * 1024

    # ------------------------------------------------------------ logs

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def log_counts(self) -> dict[str, int]:
        text = self.log_text()
        return {level: text.count(f" {level} ") for level in ("WARNING", "ERROR", "CRITICAL")} | {
            "tracebacks": text.count("Traceback (most recent call last)")}

    # ------------------------------------------------------------ stopping

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> int | None:
        """SIGTERM, wait (asynchronously: the fake server must keep answering the bot's last
        calls while it shuts down), then SIGKILL."""
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + grace
            while process.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if process.poll() is None:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        return process.returncode

    def kill_now(self) -> None:
        """Last resort when the event loop is gone."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()


async def wait_for_first_poll(process: ManagedProcess, telegram, timeout: float) -> float:
    """Seconds from spawn to the first getUpdates the server saw: the cold start."""
    deadline = time.monotonic() + timeout
    while telegram.first_poll_at is None:
        process.check_alive()
        if time.monotonic() > deadline:
            raise ProcessDied(f"{process.name} did not poll within {timeout:.0f} s; "
                              f"last lines of its log:\n{process.log_tail()}")
        await asyncio.sleep(0.005)
    return telegram.first_poll_at - process.spawned_at


def start_up_timeline(process: ManagedProcess, telegram) -> dict[str, float]:
    """Seconds from spawn to the first call of each Bot API method, in order: what happens
    before the first call (imports, migrations, content) and what the start-up calls cost."""
    ordered = sorted(telegram.first_call_at.items(), key=lambda item: item[1])
    return {method: round(at - process.spawned_at, 3) for method, at in ordered
            if telegram.first_poll_at is None or at <= telegram.first_poll_at}


class ProcessGroup:
    """Several bot workers measured as one target: CPU and memory add up, and the group
    counts as dead as soon as one of them dies."""

    def __init__(self, name: str, processes: list[ManagedProcess]) -> None:
        self.name, self.processes = name, processes
        self.log_path = processes[0].log_path

    def start(self) -> "ProcessGroup":
        for process in self.processes:
            process.start()
        self.spawned_at = min(p.spawned_at for p in self.processes)
        return self

    @property
    def pid(self) -> int:
        return self.processes[0].pid

    def check_alive(self) -> None:
        for process in self.processes:
            process.check_alive()

    def cpu_seconds(self) -> float:
        return sum(p.cpu_seconds() for p in self.processes)

    def peak_rss_bytes(self) -> int:
        return sum(p.peak_rss_bytes() for p in self.processes)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(p.log_tail(lines) for p in self.processes)

    def log_counts(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for process in self.processes:
            for key, count in process.log_counts().items():
                totals[key] = totals.get(key, 0) + count
        return totals

    async def stop(self) -> int | None:
        codes = [await process.stop() for process in self.processes]
        return next((code for code in codes if code), codes[0])

    def kill_now(self) -> None:
        for process in self.processes:
            process.kill_now()
