"""The three kinds of load: saturation (closed loop), a fixed arrival rate (open loop), and the
memory phase (many distinct users, one update each). Every loop has a count and a deadline."""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import random
import time
from collections import deque
from dataclasses import dataclass
from typing import Awaitable, Callable

from bench.fake_server import BenchTelegram
from bench.metrics import StepRecorder, latency_summary
from bench.processes import ManagedProcess
from bench.sessions import Pacer

MEGABYTE = 1024 * 1024
# Arrivals of an open-loop phase are never allowed to pile up more simulated users than this
# many seconds' worth of arrivals: past it, ticks are counted as "not offered" instead.
MAX_BACKLOG_SECONDS = 20
DRAIN_GRACE_SECONDS = 2.0
POSITIONING_TIMEOUT_SECONDS = 180.0
QUIET_SECONDS = 0.5
WATCH_INTERVAL_SECONDS = 0.25

# make_session(pacer, recorder) starts one session of a new user and returns its coroutine.
SessionFactory = Callable[[Pacer, StepRecorder], Awaitable[None]]


@dataclass
class Window:
    """The measured part of a phase, with the target's and the harness's CPU over it."""

    start: float
    end: float
    target_cpu_seconds: float = 0.0
    harness_cpu_seconds: float = 0.0


async def _measure_window(process: ManagedProcess, window: Window) -> None:
    await asyncio.sleep(max(window.start - time.perf_counter(), 0))
    cpu, own = process.cpu_seconds(), time.process_time()
    await asyncio.sleep(max(window.end - time.perf_counter(), 0))
    window.target_cpu_seconds = process.cpu_seconds() - cpu
    window.harness_cpu_seconds = time.process_time() - own


async def watched(work: Awaitable, process: ManagedProcess):
    """Run `work`, but fail as soon as the target process dies instead of timing out."""
    task = asyncio.ensure_future(work)
    try:
        while not task.done():
            process.check_alive()
            await asyncio.wait({task}, timeout=WATCH_INTERVAL_SECONDS)
        return task.result()
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def _finish(tasks: set[asyncio.Task], grace: float) -> None:
    """Let in-flight steps get their answers (bounded), then stop whatever is left. A user
    that crashed is a harness bug: it is raised, not swallowed."""
    if tasks:
        await asyncio.wait(tasks, timeout=grace)
    for task in tasks:
        task.cancel()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    crashed = [o for o in outcomes if isinstance(o, Exception)]
    if crashed:
        raise crashed[0]


async def quiesce(tg: BenchTelegram, process: ManagedProcess, timeout: float) -> float:
    """Wait until the target has worked off everything it was given (nothing pending on the
    server, no call for a moment), so an overloaded phase does not spill into the next one.
    Returns the seconds it took; `timeout` bounds it."""
    begun = time.perf_counter()
    while time.perf_counter() - begun < timeout:
        process.check_alive()
        now = time.perf_counter()
        if tg.pending_count == 0 and now - tg.last_call_at > QUIET_SECONDS:
            break
        await asyncio.sleep(0.1)
    return time.perf_counter() - begun


def _phase_figures(recorder: StepRecorder, window: Window) -> dict:
    figures = recorder.summary(window.start, window.end)
    span = window.end - window.start
    answered = figures["answered_in_window"]
    figures["target_cpu_seconds"] = round(window.target_cpu_seconds, 3)
    figures["target_cpu_per_1000_updates"] = (round(window.target_cpu_seconds / answered * 1000, 3)
                                              if answered else None)
    figures["harness_cpu_percent"] = round(window.harness_cpu_seconds / span * 100, 1)
    return figures


# ---------------------------------------------------------------- saturation (closed loop)


class ClosedLoopPacer:
    """Saturation: a user sends their next update as soon as the last one is answered.

    Before the measured part, each user plays its first session up to a random point and
    waits there, so that when everyone is released the users are spread over all steps of a
    session. Otherwise 500 users would all be at /start together, and a window of a few steps
    per user would measure the mix of sessions' first steps rather than of whole sessions.
    """

    def __init__(self, phase: "SaturationPhase", position: float) -> None:
        self.phase, self._fraction = phase, position
        self._position: int | None = None
        self._steps = 0

    def session_started(self, steps: int) -> None:
        if self._position is None:
            self._position = int(self._fraction * steps)

    async def before_step(self) -> bool:
        if self._steps == self._position:
            await self.phase.wait_for_release()
        self._steps += 1
        return time.perf_counter() < self.phase.window.end

    def after_step(self) -> None:
        pass


class SaturationPhase:
    def __init__(self, users: int, warmup: float, duration: float) -> None:
        self.users, self.warmup, self.duration = users, warmup, duration
        self.window = Window(math.inf, math.inf)
        self._positioned = 0
        self._all_positioned = asyncio.Event()
        self._released = asyncio.Event()

    async def wait_for_release(self) -> None:
        self._positioned += 1
        if self._positioned >= self.users:
            self._all_positioned.set()
        await self._released.wait()

    async def release(self, timeout: float) -> float:
        """Start the clock once every user is in position (or `timeout` passed)."""
        begun = time.perf_counter()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._all_positioned.wait(), timeout)
        start = time.perf_counter()
        self.window = Window(start + self.warmup, start + self.warmup + self.duration)
        self._released.set()
        return start - begun


async def saturate(process: ManagedProcess, make_session: SessionFactory, users: int,
                   duration: float, warmup: float, step_timeout: float, seed: int) -> dict:
    """`users` users at once, each starting a new session (as a new Telegram user) when the
    last one ends; throughput is what the target answered per second of the window."""
    recorder = StepRecorder()
    phase = SaturationPhase(users, warmup, duration)
    positions = random.Random(seed)

    async def user() -> None:
        pacer = ClosedLoopPacer(phase, positions.random())
        while time.perf_counter() < phase.window.end:
            await make_session(pacer, recorder)

    tasks = {asyncio.create_task(user()) for _ in range(users)}
    positioning = await phase.release(POSITIONING_TIMEOUT_SECONDS)
    window = phase.window
    await _measure_window(process, window)
    await asyncio.wait(tasks, timeout=step_timeout)
    await _finish(tasks, DRAIN_GRACE_SECONDS)
    figures = _phase_figures(recorder, window)
    figures.update(users=users, positioning_seconds=round(positioning, 1))
    return figures


# ---------------------------------------------------------------- fixed rate (open loop)


class ArrivalSchedule:
    """Offers updates at a fixed rate whatever the target's speed: each tick lets one waiting
    user send their next update, or brings in a new user when nobody is waiting. So latency is
    measured under a given load, not under whatever load the target lets itself get."""

    def __init__(self, rate: float, deadline: float, think_time: float, seed: int,
                 start_user: Callable[["OpenLoopPacer"], Awaitable[None]]) -> None:
        self.rate, self.deadline, self.think_time = rate, deadline, think_time
        self.random = random.Random(seed)
        self.max_users = max(50, int(rate * MAX_BACKLOG_SECONDS))
        self._start_user = start_user
        self._waiting: deque[asyncio.Future] = deque()
        self.users: set[asyncio.Task] = set()
        self.ticks = self.not_offered = 0
        self.closed = False

    async def run(self) -> None:
        interval = 1.0 / self.rate
        next_tick = time.perf_counter()
        while next_tick < self.deadline:
            delay = next_tick - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            now = time.perf_counter()
            while next_tick <= now and next_tick < self.deadline:  # catch up after a late wake
                self._tick()
                next_tick += interval
        self.close()

    def _tick(self) -> None:
        self.ticks += 1
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(True)
                return
        if len(self.users) >= self.max_users:
            self.not_offered += 1
            return
        task = asyncio.create_task(self._start_user(OpenLoopPacer(self, granted=True)))
        self.users.add(task)
        task.add_done_callback(self.users.discard)

    async def wait_turn(self) -> bool:
        if self.closed:
            return False
        turn = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        return await turn

    def close(self) -> None:
        self.closed = True
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(False)


class OpenLoopPacer:
    """One open-loop user: reads for about `think_time` after each answer, then waits for a
    tick of the schedule. The pause varies (0.5-1.5x), as people's do, so users who arrived
    together soon stop moving in step through their sessions."""

    def __init__(self, schedule: ArrivalSchedule, granted: bool) -> None:
        self.schedule = schedule
        self._granted = granted
        self._answered_at: float | None = None

    async def before_step(self) -> bool:
        if self._granted:
            self._granted = False
            return True
        if self._answered_at is not None:
            think = self.schedule.think_time * self.schedule.random.uniform(0.5, 1.5)
            rest = self._answered_at + think - time.perf_counter()
            if rest > 0:
                await asyncio.sleep(rest)
        return await self.schedule.wait_turn()

    def session_started(self, steps: int) -> None:
        pass

    def after_step(self) -> None:
        self._answered_at = time.perf_counter()


async def offer_at_rate(process: ManagedProcess, make_session: SessionFactory, rate: float,
                        duration: float, warmup: float, think_time: float,
                        step_timeout: float, seed: int) -> dict:
    recorder = StepRecorder()
    start = time.perf_counter()
    window = Window(start + warmup, start + warmup + duration)

    async def user(pacer: OpenLoopPacer) -> None:
        while not schedule.closed:
            await make_session(pacer, recorder)

    schedule = ArrivalSchedule(rate, window.end, think_time, seed, user)
    measuring = asyncio.create_task(_measure_window(process, window))
    await schedule.run()
    await _finish(set(schedule.users), step_timeout + DRAIN_GRACE_SECONDS)
    await measuring
    figures = _phase_figures(recorder, window)
    offered = schedule.ticks - schedule.not_offered
    figures.update(rate_per_s=round(rate, 1), ticks=schedule.ticks,
                   not_offered=schedule.not_offered,
                   offered_rate_per_s=round(offered / (warmup + duration), 1))
    return figures


# ---------------------------------------------------------------- memory (many distinct users)


async def fill_with_users(tg: BenchTelegram, process: ManagedProcess, users: int,
                          checkpoint: int, concurrency: int, deadline_seconds: float,
                          first_user_id: int, first_update: Callable[[int], str],
                          step_timeout: float, progress: Callable[[str], None]) -> dict:
    """`users` distinct users each send one update and get its answer; the target's RSS is
    read after `checkpoint` users, every 5% of the way, and at the end."""
    started = time.perf_counter()
    deadline = started + deadline_seconds
    numbers = iter(range(users))
    latencies: list[float] = []
    samples: list[dict] = []
    counts = {"answered": 0, "timeouts": 0}
    sample_every = max(users // 20, 1)
    checkpoint_rss: int | None = None

    def sample() -> dict:
        point = {"users": counts["answered"], "rss_mb": round(process.rss_bytes() / MEGABYTE, 1),
                 "seconds": round(time.perf_counter() - started, 1)}
        samples.append(point)
        return point

    async def worker() -> None:
        nonlocal checkpoint_rss
        for number in numbers:
            if time.perf_counter() > deadline:
                return
            user_id = first_user_id + number
            tg.add_user(user_id, first_name="Memory", language_code=("uz", "ru", "en")[number % 3])
            waiter = tg.expect_reply(user_id)
            tg.send_text(user_id, first_update(number))
            waiter.offered_at = time.perf_counter()
            try:
                done_at = await asyncio.wait_for(waiter.done, step_timeout)
            except asyncio.TimeoutError:
                tg.give_up(user_id)  # kept on the server: the bot may still answer
                counts["timeouts"] += 1
                continue
            latencies.append((waiter.first_reply_at or done_at) - waiter.offered_at)
            counts["answered"] += 1
            tg.forget_user(user_id)  # so 100,000 users do not weigh on the harness
            answered = counts["answered"]
            if answered == checkpoint and checkpoint_rss is None:
                checkpoint_rss = process.rss_bytes()
            if answered % sample_every == 0:
                point = sample()
                progress(f"memory: {point['users']:,} users, RSS {point['rss_mb']} MB")

    workers = {asyncio.create_task(worker()) for _ in range(concurrency)}
    await asyncio.wait(workers, timeout=deadline_seconds + step_timeout)
    await _finish(workers, DRAIN_GRACE_SECONDS)
    elapsed = time.perf_counter() - started
    # Let the bot finish its batched writes and settle before the final reading.
    await asyncio.sleep(2.0)
    final_rss = process.rss_bytes()
    sample()
    growth = None if checkpoint_rss is None else final_rss - checkpoint_rss
    return {
        "users_planned": users, "users_answered": counts["answered"],
        "timeouts": counts["timeouts"], "complete": counts["answered"] >= users,
        "seconds": round(elapsed, 1),
        "users_per_s": round(counts["answered"] / elapsed, 1) if elapsed else None,
        "checkpoint_users": checkpoint,
        "rss_at_checkpoint_mb": None if checkpoint_rss is None else round(checkpoint_rss / MEGABYTE, 1),
        "rss_at_end_mb": round(final_rss / MEGABYTE, 1),
        "rss_growth_mb": None if growth is None else round(growth / MEGABYTE, 1),
        "peak_rss_mb": round(process.peak_rss_bytes() / MEGABYTE, 1),
        "latency": latency_summary(latencies),
        "samples": samples,
    }


def user_ids(start: int) -> Callable[[], int]:
    """Distinct Telegram user ids from `start` on, one per simulated session."""
    counter = itertools.count(start)
    return lambda: next(counter)
