"""`python -m bench`: the bot against a minimal echo bot, over real HTTP to a local fake Telegram.

Exit code 0 when the run completed, 1 when something broke (a subprocess died, nothing was
answered, sessions could not drive the bot, the bot logged errors), 130 on Ctrl-C. A slow
figure never fails the run: read the table.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import resource
import signal
import sys
from pathlib import Path

if __package__ in (None, ""):  # `python bench/__main__.py`: make `bench` and `bot` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.config import REPO_ROOT, BenchConfig  # noqa: E402

# `tests.fakebot` (the fake Telegram) and `bot` are imported from the repository.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def parse_config(argv: list[str] | None) -> BenchConfig:
    defaults = BenchConfig()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=defaults.users,
                        help="simulated users at once in the saturation phase (%(default)s)")
    parser.add_argument("--duration", type=float, default=defaults.duration,
                        help="measured seconds of each load phase (%(default)s)")
    parser.add_argument("--memory-users", type=int, default=defaults.memory_users,
                        help="distinct users of the memory phase, 0 skips it (%(default)s)")
    parser.add_argument("--memory-deadline", type=float, default=defaults.memory_deadline,
                        help="seconds after which the memory phase stops even if not every "
                             "user came (%(default)s)")
    parser.add_argument("--postgres", action="store_true",
                        help="PostgreSQL at BENCH_POSTGRES_URL or 127.0.0.1:5432/test (its "
                             "schema public is dropped and recreated) instead of SQLite")
    parser.add_argument("--workers", type=int, default=0,
                        help="run the bot as this many webhook workers behind a load balancer "
                             "(as several machines would), instead of one polling process")
    parser.add_argument("--no-rate-limit", action="store_true",
                        help="run the bot with TELEGRAM_RATE_LIMIT=false (profiling only: "
                             "the figures that count are those of the defaults)")
    parser.add_argument("--smoke", action="store_true",
                        help="a few seconds of everything, for CI; writes results/smoke.json")
    parser.add_argument("--only", choices=("bot", "baseline"),
                        help="measure one target only, e.g. while profiling (no ratios)")
    parser.add_argument("--rates", type=lambda v: tuple(float(r) for r in v.split(",")),
                        help="updates/s of the latency phases, comma-separated, instead of "
                             "fractions of the baseline's saturation (with --only bot)")
    parser.add_argument("--output", type=Path,
                        help="JSON file (default bench/results/<date>.json)")
    args = parser.parse_args(argv)
    if args.users < 1 or args.duration <= 0 or args.memory_users < 0:
        parser.error("--users and --duration must be positive, --memory-users at least 0")
    if args.workers < 0 or (args.workers > 1 and not args.postgres):
        parser.error("--workers must be at least 0, and several workers need --postgres")
    config = BenchConfig(users=args.users, duration=args.duration, memory_users=args.memory_users,
                         memory_deadline=args.memory_deadline, postgres=args.postgres,
                         rate_limit=not args.no_rate_limit, output=args.output, only=args.only,
                         rates=args.rates, workers=args.workers)
    return config.smoke_sized() if args.smoke else config


async def _run(run) -> str | None:
    """The run; returns what broke it, if an exception did."""
    # SIGTERM (e.g. CI cancelling the job) unwinds like Ctrl-C: everything started is stopped.
    main_task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, main_task.cancel)
    try:
        await run.run()
    except Exception as exc:  # noqa: BLE001 - reported, and the partial results are still written
        return f"{type(exc).__name__}: {exc}"
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
    return None


def main(argv: list[str] | None = None) -> int:
    from bench.harness import Progress, Run, find_problems
    from bench.report import render_details, render_table, summary_rows, write_json

    config = parse_config(argv)
    say = Progress()
    run = Run(config, say)
    try:
        failure = asyncio.run(_run(run))
    except (KeyboardInterrupt, asyncio.CancelledError):
        run.cleanup(keep=False)
        print("\ninterrupted: everything the benchmark started has been stopped", file=sys.stderr)
        return 130
    results = run.results
    problems = find_problems(results) + ([failure] if failure else [])
    results["problems"] = problems
    results["finished_at"] = datetime.datetime.now().isoformat(timespec="seconds")
    results["total_seconds"] = round(say.elapsed, 1)
    results["harness_peak_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux
    rows = summary_rows(results)
    print()
    print(render_table(rows))
    print()
    print(render_details(results))
    write_json(results, rows, config.output_path)
    print(f"\nwritten to {config.output_path} in {say.elapsed:.0f} s")
    run.cleanup(keep=bool(problems))
    if problems:
        print("\nBROKEN:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
