"""What one benchmark run does: sizes, durations, paths. Defaults are the documented run."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
CONTENT_DIR = REPO_ROOT / "content"
LOCALES_DIR = REPO_ROOT / "locales"
SEARCH_QUERIES = REPO_ROOT / "tests" / "search_queries.tsv"
BASELINE_SCRIPT = BENCH_DIR / "baseline_echo.py"

# The same server the test suite uses (tests/conftest.py); its schema is dropped and recreated.
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL",
                              "postgresql+asyncpg://postgres@127.0.0.1:5432/test")

# Loads of the latency phases, as fractions of the echo baseline's saturation throughput.
LOAD_FRACTIONS = (0.25, 0.5, 0.9)


@dataclass(frozen=True)
class BenchConfig:
    users: int = 500                  # concurrent simulated users in the saturation phase
    duration: float = 15.0            # measured seconds of every load phase
    warmup: float = 3.0               # seconds before a phase starts counting
    step_timeout: float = 15.0        # a user gives up waiting for one answer after this
    think_time: float = 0.75          # open-loop users pause this long between their updates
    ask_share: float = 0.10           # share of sessions that end with "ask a question"
    memory_users: int = 100_000       # distinct users of the memory phase (0 skips it)
    memory_checkpoint: int = 1_000    # RSS is compared against its value after this many users
    memory_concurrency: int = 64      # users of the memory phase waiting for an answer at once
    # The memory phase stops here even if not every user came, to keep a default run near
    # 15 minutes on 2 cores; --memory-deadline raises it for a complete memory figure.
    memory_deadline: float = 540.0
    search_queries: int = 3_000       # queries of the search micro-benchmark
    postgres: bool = False
    workers: int = 0                  # >0: that many webhook workers behind a load balancer
    rate_limit: bool = True           # the bot's default outgoing pacing (TELEGRAM_RATE_LIMIT)
    smoke: bool = False
    seed: int = 20_240_501
    output: Path | None = None
    only: str | None = None           # "bot" or "baseline": measure just that one (profiling)
    rates: tuple[float, ...] | None = None  # latency-phase rates instead of the baseline's
    load_fractions: tuple[float, ...] = field(default=LOAD_FRACTIONS)

    @property
    def database_kind(self) -> str:
        return "postgresql" if self.postgres else "sqlite"

    @property
    def output_path(self) -> Path:
        if self.output is not None:
            return self.output
        name = "smoke.json" if self.smoke else f"{date.today().isoformat()}.json"
        return RESULTS_DIR / name

    def smoke_sized(self) -> "BenchConfig":
        """A few seconds of everything, for CI: it proves the harness still drives the bot."""
        return replace(self, users=min(self.users, 20), duration=1.5, warmup=0.5,
                       step_timeout=10.0, memory_users=min(self.memory_users, 2_000),
                       memory_deadline=60.0, search_queries=1_000, smoke=True)
