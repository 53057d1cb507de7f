"""One benchmark run, start to end: search micro-benchmarks, then the echo baseline, then the bot,
then the bot's memory phase; each target against its own fresh fake Telegram.

Everything started here is stopped here, also on Ctrl-C and on errors.
"""
from __future__ import annotations

import asyncio
import platform
import random
import socket
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from bench.config import BASELINE_SCRIPT, POSTGRES_URL, REPO_ROOT, BenchConfig
from bench.database import count_rows, database_bytes, reset_postgres, sqlite_url
from bench.fake_server import BenchTelegram
from bench.phases import (MEGABYTE, SessionFactory, fill_with_users, offer_at_rate, quiesce,
                          saturate, user_ids, watched)
from bench.processes import (ManagedProcess, ProcessDied, ProcessGroup, bot_environment,
                             start_up_timeline, wait_for_first_poll)
from bench.search_bench import run_search_bench
from bench.sessions import BotSession, EchoSession, Pacer, Scenario
from bench.metrics import StepRecorder

from tests.support.balancer import RandomBalancer

TOKEN = "7000001:BENCH-local-fake-token"
STAFF_CHAT_ID = -1009000000001
COLD_START_TIMEOUT_SECONDS = 60.0
# Disjoint id ranges, so a log line or a database row says which phase it came from.
FIRST_USER_ID = {"baseline": 100_000_000, "bot": 300_000_000, "memory": 700_000_000}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def healthy(port: int) -> bool:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.write(b"GET /healthz HTTP/1.0\r\n\r\n")
    status = await reader.readline()
    writer.close()
    return b" 200 " in status


class Progress:
    """Progress lines with the time since the run started."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def __call__(self, message: str) -> None:
        print(f"[{self.elapsed:6.1f}s] {message}", flush=True)


@dataclass(frozen=True)
class Target:
    argv: list[str]
    env: dict[str, str]


class Run:
    def __init__(self, config: BenchConfig, say: Progress) -> None:
        self.config, self.say = config, say
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-"))
        self.scenario = Scenario(config.ask_share)
        self.database_url = (POSTGRES_URL if config.postgres
                             else sqlite_url(self.workdir / "bot.db"))
        # An overloaded target may hold a backlog of updates after a phase; it gets this long
        # to answer them before the next phase starts.
        self.drain_timeout = max(30.0, 4 * config.duration)
        self.start_ups: dict[str, dict[str, float]] = {}
        self.code_versions: dict[str, str | None] = {}
        self.results: dict = {}

    # ------------------------------------------------------------ targets

    def _bot(self, api_url: str) -> Target:
        settings = {} if self.config.rate_limit else {"TELEGRAM_RATE_LIMIT": "false"}
        env = bot_environment(api_url, TOKEN, DATABASE_URL=self.database_url,
                              STAFF_CHAT_ID=str(STAFF_CHAT_ID), LOG_LEVEL="INFO", **settings)
        return Target([sys.executable, "-m", "bot", "run"], env)

    def _baseline(self, api_url: str) -> Target:
        return Target([sys.executable, str(BASELINE_SCRIPT)],
                      bot_environment(api_url, TOKEN))

    def _sessions(self, tg: BenchTelegram, target: str) -> SessionFactory:
        """New sessions for one target; both targets draw the same sequence of plans."""
        rng = random.Random(self.config.seed)
        next_user = user_ids(FIRST_USER_ID[target])
        scenario, timeout = self.scenario, self.config.step_timeout

        async def start_session(pacer: Pacer, recorder: StepRecorder) -> None:
            plan = scenario.plan(rng)
            labels = scenario.labels[plan.locale]
            if target == "bot":
                session = BotSession(tg, next_user(), plan, pacer, recorder, timeout,
                                     labels=labels)
            else:
                session = EchoSession(tg, next_user(), plan, pacer, recorder, timeout,
                                      labels=labels, tree=scenario.tree)
            await session.run()

        return start_session

    async def _started_workers(self, stack: AsyncExitStack, tg: BenchTelegram,
                               name: str) -> tuple[ProcessGroup, float]:
        """N webhook workers behind a load balancer that picks one at random per update;
        the cold start is until every worker answers its health check."""
        ports = [free_port() for _ in range(self.config.workers)]
        balancer = RandomBalancer([f"http://127.0.0.1:{port}" for port in ports]).start_in_thread()
        stack.callback(balancer.stop)
        tg.allow_http_webhook = True
        group = ProcessGroup(name, [ManagedProcess(f"{name}-{n + 1}", [sys.executable, "-m", "bot", "run"], {
            **self._bot(tg.url).env, "WEBHOOK_URL": f"{balancer.url}/telegram",
            "WEBHOOK_SECRET": "bench-webhook-secret", "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(port)}, self.workdir) for n, port in enumerate(ports)]).start()
        stack.push_async_callback(group.stop)
        deadline = time.monotonic() + COLD_START_TIMEOUT_SECONDS
        while not (tg.webhook_url and all(await asyncio.gather(*(healthy(p) for p in ports)))):
            group.check_alive()
            if time.monotonic() > deadline:
                raise ProcessDied(f"{name} workers did not come up:\n{group.log_tail()}")
            await asyncio.sleep(0.05)
        cold_start = time.perf_counter() - group.spawned_at
        self.say(f"{name}: {len(ports)} webhook workers behind a load balancer, all healthy "
                 f"{cold_start:.2f} s after spawn")
        self.start_ups[name] = {}
        self.code_versions[name] = _code_version()
        return group, cold_start

    async def _started(self, stack: AsyncExitStack, make_target: Callable[[str], Target],
                       name: str) -> tuple[BenchTelegram, ManagedProcess, float]:
        """A fresh fake Telegram and the target polling it; returns the cold start too."""
        tg = BenchTelegram(TOKEN)
        await tg.start()
        stack.push_async_callback(tg.aclose)       # runs last: the target stops first
        tg.add_group(STAFF_CHAT_ID, "Bench staff desk")
        if name == "bot" and self.config.workers:
            group, cold_start = await self._started_workers(stack, tg, name)
            return tg, group, cold_start
        target = make_target(tg.url)
        process = ManagedProcess(name, target.argv, target.env, self.workdir).start()
        stack.push_async_callback(process.stop)
        cold_start = await wait_for_first_poll(process, tg, COLD_START_TIMEOUT_SECONDS)
        timeline = start_up_timeline(process, tg)
        self.say(f"{name}: pid {process.pid}, first getUpdates {cold_start:.2f} s after spawn "
                 f"(first Bot API call at {min(timeline.values()):.2f} s)")
        self.start_ups[name] = timeline
        # Others may commit while a run goes on: say which code each process started from.
        self.code_versions[name] = _code_version()
        return tg, process, cold_start

    # ------------------------------------------------------------ phases

    async def measure(self, name: str, make_target: Callable[[str], Target],
                      rates: list[float] | None) -> dict:
        """Cold start, saturation, then one open-loop phase per rate (None: rates from this
        target's own saturation, which is how the baseline sets them for both)."""
        config = self.config
        async with AsyncExitStack() as stack:
            tg, process, cold_start = await self._started(stack, make_target, name)
            sessions = self._sessions(tg, name)
            self.say(f"{name}: saturation, {config.users} users in a closed loop, "
                     f"{config.warmup:g} s warm-up + {config.duration:g} s")
            saturation = await watched(saturate(
                process, sessions, config.users, config.duration, config.warmup,
                config.step_timeout, config.seed), process)
            saturation["drain_seconds"] = round(await quiesce(tg, process, self.drain_timeout), 1)
            self.say(f"{name}: {saturation['throughput_per_s']} updates/s "
                     f"(users positioned in {saturation['positioning_seconds']} s), "
                     f"{saturation['timeouts']} timeouts, errors {saturation['errors'] or 0}, "
                     f"harness CPU {saturation['harness_cpu_percent']}%")
            if rates is None:
                rates = [f * saturation["throughput_per_s"] for f in config.load_fractions]
            latency = {}
            for fraction, rate in zip(config.load_fractions, rates):
                label = f"{fraction:.0%}"
                if rate <= 0:  # the baseline answered nothing: find_problems() reports it
                    continue
                self.say(f"{name}: {rate:.0f} updates/s offered ({label} of the baseline's "
                         f"saturation), {config.duration:g} s")
                phase = await watched(offer_at_rate(process, sessions, rate, config.duration,
                                                    config.warmup, config.think_time,
                                                    config.step_timeout, config.seed), process)
                phase["drain_seconds"] = round(await quiesce(tg, process, self.drain_timeout), 1)
                latency[label] = phase
                figures = phase["latency"]
                self.say(f"{name}: p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, "
                         f"p99 {figures['p99_ms']} ms over {figures['count']} updates, "
                         f"{phase['timeouts']} timeouts, {phase['not_offered']} not offered, "
                         f"{phase['drain_seconds']} s to drain")
            peak_rss = process.peak_rss_bytes()
            cpu_total = process.cpu_seconds()
            exit_code = await process.stop()
        self.say(f"{name}: stopped (exit code {exit_code})")
        return {"code_version": self.code_versions[name],
                "cold_start_s": round(cold_start, 3), "start_up_timeline_s": self.start_ups[name],
                "saturation": saturation,
                "latency": latency, "rates_per_s": [round(rate, 1) for rate in rates],
                "peak_rss_mb": round(peak_rss / MEGABYTE, 1),
                "cpu_seconds_total": round(cpu_total, 2), "exit_code": exit_code,
                "log": process.log_counts(), "log_path": str(process.log_path),
                "fake_server": {"calls": dict(tg.calls_by_method),
                                "failed_calls": dict(tg.failed_calls),
                                "unexpected_replies": tg.unexpected_replies,
                                "staff_group_messages": tg.replies_by_chat_kind["group"]}}

    async def measure_memory(self) -> dict:
        """A restarted bot (its cold start on an existing database), then many distinct users."""
        config = self.config
        users = config.memory_users
        checkpoint = min(config.memory_checkpoint, max(users // 2, 1))
        queries = [q for texts in self.scenario.queries.values() for q in texts]
        # Most first contacts are /start; some type a question straight away.
        first_update = lambda n: "/start" if n % 4 else queries[n % len(queries)]  # noqa: E731
        async with AsyncExitStack() as stack:
            tg, process, cold_start = await self._started(stack, self._bot, "bot-memory")
            self.say(f"memory: {users:,} distinct users, one update each, "
                     f"{config.memory_concurrency} at a time (deadline {config.memory_deadline:g} s)")
            memory = await watched(fill_with_users(
                tg, process, users, checkpoint, config.memory_concurrency, config.memory_deadline,
                FIRST_USER_ID["memory"], first_update, config.step_timeout, self.say), process)
            exit_code = await process.stop()
        memory.update(code_version=self.code_versions["bot-memory"],
                      restart_cold_start_s=round(cold_start, 3),
                      restart_timeline_s=self.start_ups["bot-memory"], exit_code=exit_code,
                      log=process.log_counts(), log_path=str(process.log_path))
        self.say(f"memory: RSS {memory['rss_at_checkpoint_mb']} MB after {checkpoint:,} users, "
                 f"{memory['rss_at_end_mb']} MB after {memory['users_answered']:,}")
        return memory

    # ------------------------------------------------------------ the whole run

    async def run(self) -> None:
        """Fills self.results as it goes, so a run that breaks still reports what it measured."""
        config = self.config
        results = self.results
        results.update(config=_config_dict(config), environment=_environment(),
                       database_url=self.database_url.split("@")[-1])
        self.say("outgoing pacing: " + ("the defaults (TELEGRAM_RATE_LIMIT=true)" if config.rate_limit
                                        else "OFF (TELEGRAM_RATE_LIMIT=false, for profiling only)"))
        self.say(f"search micro-benchmarks, {config.search_queries:,} queries")
        results["search"] = run_search_bench(config.search_queries, config.seed)
        if config.postgres:
            self.say("PostgreSQL: dropping and recreating schema public")
            await reset_postgres(self.database_url)
        rates = list(config.rates) if config.rates else None
        if config.only != "bot":
            results["baseline"] = await self.measure("baseline", self._baseline, rates)
            rates = rates or results["baseline"]["rates_per_s"]
        if config.only == "baseline":
            return
        results["bot"] = await self.measure("bot", self._bot, rates)
        rows = await count_rows(self.database_url)
        results["database"] = {"kind": config.database_kind, "rows_after_load": rows,
                               "bytes_after_load": database_bytes(self.database_url)}
        if config.memory_users > 0:
            results["memory"] = await self.measure_memory()
            results["database"]["rows_after_memory"] = await count_rows(self.database_url)

    def cleanup(self, keep: bool) -> None:
        if keep:
            self.say(f"logs and database kept in {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)


def find_problems(results: dict) -> list[str]:
    """What makes the run count as broken (exit code 1): never a slow figure, only a harness
    that no longer drives the bot, or a bot or baseline that failed."""
    problems = []
    for name in ("baseline", "bot"):
        target = results.get(name)
        if not target:
            continue
        phases = {"saturation": target["saturation"], **target["latency"]}
        for phase, figures in phases.items():
            if figures["answered_total"] == 0:
                problems.append(f"{name}: no update answered in the {phase} phase")
            if figures["errors"]:
                problems.append(f"{name}: sessions could not go on in the {phase} phase: "
                                f"{figures['errors']}")
        if target["log"]["tracebacks"] or target["log"]["ERROR"]:
            problems.append(f"{name}: {target['log']['ERROR']} ERROR lines, "
                            f"{target['log']['tracebacks']} tracebacks in {target['log_path']}")
    memory = results.get("memory")
    if memory:
        if memory["users_answered"] == 0:
            problems.append("memory: no user answered")
        if memory["log"]["tracebacks"] or memory["log"]["ERROR"]:
            problems.append(f"memory: {memory['log']['ERROR']} ERROR lines in {memory['log_path']}")
    return problems


def _config_dict(config: BenchConfig) -> dict:
    values = asdict(config)
    values["output"] = str(config.output_path)
    values["load_fractions"] = list(config.load_fractions)
    return values


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def _code_version() -> str | None:
    """The commit, with "+changes" when bot/ has uncommitted edits."""
    commit = _git("rev-parse", "--short", "HEAD")
    if commit and _git("status", "--porcelain", "--", "bot"):
        commit += "+changes"
    return commit


def _environment() -> dict:
    import telegram

    return {"python": platform.python_version(), "python_telegram_bot": telegram.__version__,
            "platform": platform.platform(), "cpus": _cpu_count(), "code_version": _code_version()}


def _cpu_count() -> int | None:
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()
