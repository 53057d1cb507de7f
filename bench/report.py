"""The summary table (stdout) and the JSON file, from the results of a run."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

THROUGHPUT_RATIO_TARGET = 0.9
P99_RATIO_TARGET = 1.5
COLD_START_TARGET_S = 1.5
MEMORY_GROWTH_TARGET_MB = 50.0
TARGET_LATENCY_LOAD = "50%"


@dataclass
class Row:
    figure: str
    bot: float | int | None
    baseline: float | int | None = None
    target: str = ""
    verdict: str = ""   # "pass", "MISS", "" (no target) or "n/a" (figure missing)

    @property
    def ratio(self) -> float | None:
        if self.bot is None or not self.baseline:
            return None
        return round(self.bot / self.baseline, 2)


def _judge(value: float | None, limit: float, at_least: bool = False) -> str:
    if value is None:
        return "n/a"
    return "pass" if (value >= limit if at_least else value <= limit) else "MISS"


def _get(mapping: dict | None, *path: str):
    for key in path:
        if not isinstance(mapping, dict):
            return None
        mapping = mapping.get(key)
    return mapping


def summary_rows(results: dict) -> list[Row]:
    bot, base = results.get("bot") or {}, results.get("baseline") or {}
    rows = []
    throughput = Row("throughput at saturation (updates/s)",
                     _get(bot, "saturation", "throughput_per_s"),
                     _get(base, "saturation", "throughput_per_s"),
                     f"ratio ≥ {THROUGHPUT_RATIO_TARGET}")
    throughput.verdict = _judge(throughput.ratio, THROUGHPUT_RATIO_TARGET, at_least=True)
    rows.append(throughput)
    for load in (base.get("latency") or {}):
        for q in ("p50", "p95", "p99"):
            row = Row(f"latency {q} at {load} load (ms)",
                      _get(bot, "latency", load, "latency", f"{q}_ms"),
                      _get(base, "latency", load, "latency", f"{q}_ms"))
            if q == "p99" and load == TARGET_LATENCY_LOAD:
                row.target = f"ratio ≤ {P99_RATIO_TARGET}"
                row.verdict = _judge(row.ratio, P99_RATIO_TARGET)
            rows.append(row)
    rows.append(Row("CPU seconds per 1,000 updates",
                    _get(bot, "saturation", "target_cpu_per_1000_updates"),
                    _get(base, "saturation", "target_cpu_per_1000_updates")))
    rows.append(Row("peak RSS (MB)", bot.get("peak_rss_mb"), base.get("peak_rss_mb")))
    cold = Row("cold start, new database (s)", bot.get("cold_start_s"), base.get("cold_start_s"),
               f"bot ≤ {COLD_START_TARGET_S} s")
    cold.verdict = _judge(cold.bot, COLD_START_TARGET_S)
    rows.append(cold)
    memory = results.get("memory")
    if memory:
        restart = Row("cold start, restart (s)", memory.get("restart_cold_start_s"),
                      base.get("cold_start_s"), f"bot ≤ {COLD_START_TARGET_S} s")
        restart.verdict = _judge(restart.bot, COLD_START_TARGET_S)
        rows.append(restart)
    written = _get(results, "database", "rows_after_load")
    if written:
        rows.append(Row("database rows after the load phases",
                        sum(v or 0 for v in written.values())))
    if memory:
        checkpoint, users = memory["checkpoint_users"], memory["users_answered"]
        rows.append(Row(f"RSS after {checkpoint:,} users (MB)", memory["rss_at_checkpoint_mb"]))
        rows.append(Row(f"RSS after {users:,} users (MB)", memory["rss_at_end_mb"]))
        growth = Row("RSS growth (MB)", memory["rss_growth_mb"],
                     target=f"≤ {MEMORY_GROWTH_TARGET_MB:g} MB")
        growth.verdict = _judge(growth.bot, MEMORY_GROWTH_TARGET_MB)
        if not memory["complete"] and growth.verdict == "pass":
            growth.verdict = "n/a"  # cut short: fine so far, but not proven for every user
        rows.append(growth)
    search = results.get("search")
    if search:
        rows.append(Row("search: index build (ms)", search["index_build_ms"]))
        rows.append(Row("search: p50 (ms)", search["index_search"]["p50_ms"]))
        p99 = Row("search: p99 (ms)", search["index_search"]["p99_ms"],
                  target=f"≤ {search['p99_target_ms']:g} ms")
        p99.verdict = _judge(p99.bot, search["p99_target_ms"])
        rows.append(p99)
    return rows


def _cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return f"{value:,}"


def render_table(rows: list[Row]) -> str:
    header = ("figure", "bot", "baseline", "bot/base", "target", "verdict")
    lines = [(r.figure, _cell(r.bot), _cell(r.baseline), _cell(r.ratio), r.target, r.verdict)
             for r in rows]
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
    def fmt(cells):  # noqa: E306
        first = cells[0].ljust(widths[0])
        middle = [cell.rjust(width) for cell, width in zip(cells[1:4], widths[1:4])]
        last = [cell.ljust(width) for cell, width in zip(cells[4:], widths[4:])]
        return "  ".join([first, *middle, *last]).rstrip()
    rule = "-" * len(fmt(header))
    return "\n".join([fmt(header), rule, *(fmt(line) for line in lines)])


def render_details(results: dict) -> str:
    """The figures that explain the table: harness load, timeouts, database rows."""
    lines = []
    versions = {results.get("environment", {}).get("code_version")}
    versions |= {(results.get(n) or {}).get("code_version") for n in ("bot", "memory")}
    versions.discard(None)
    if len(versions) > 1:
        lines.append(f"WARNING: the bot's code changed during the run: {sorted(versions)}")
    for name in ("bot", "baseline"):
        target = results.get(name)
        if not target:
            continue
        saturation = target["saturation"]
        lines.append(f"{name}: saturation answered {saturation['answered_in_window']:,} updates "
                     f"in {saturation['window_seconds']:g} s ({saturation['answered_kinds']}), "
                     f"harness CPU {saturation['harness_cpu_percent']}%, "
                     f"{saturation['timeouts']} timeouts")
        for load, phase in target["latency"].items():
            censored = phase["latency"]["timeouts_counted_at_timeout"]
            lines.append(f"{name}: {load} load = {phase['rate_per_s']} updates/s offered "
                         f"(achieved {phase['offered_rate_per_s']}), "
                         f"{phase['timeouts']} timeouts ({censored} in the window, counted as "
                         f"{results['config']['step_timeout']:g} s), "
                         f"{phase['not_offered']} not offered, "
                         f"harness CPU {phase['harness_cpu_percent']}%")
        log = target["log"]
        lines.append(f"{name}: log has {log['WARNING']} warnings, {log['ERROR']} errors")
    database = results.get("database")
    if database:
        lines.append(f"database ({database['kind']}) after the load phases: "
                     f"{database['rows_after_load']}")
        if database.get("rows_after_memory"):
            lines.append(f"database after the memory phase: {database['rows_after_memory']}")
    memory = results.get("memory")
    if memory:
        if not memory["complete"]:
            lines.append(f"memory phase cut at its deadline: raise --memory-deadline (the bot "
                         f"took {memory['users_per_s']} new users/s) for every user to come")
        lines.append(f"memory phase: {memory['users_answered']:,}/{memory['users_planned']:,} users "
                     f"in {memory['seconds']:g} s ({memory['users_per_s']} users/s), "
                     f"{memory['timeouts']} timeouts, peak RSS {memory['peak_rss_mb']} MB")
    search = results.get("search")
    if search:
        service = search["service_search"]
        lines.append(f"harness (fake server and users) peak RSS: "
                     f"{results.get('harness_peak_rss_mb')} MB")
        lines.append(f"search: {search['queries']:,} queries ({search['distinct_queries']:,} "
                     f"distinct), content load {search['content_load_ms']} ms; with titles and "
                     f"snippets p50 {service['p50_ms']} ms, p99 {service['p99_ms']} ms")
    return "\n".join(lines)


def write_json(results: dict, rows: list[Row], path: Path) -> None:
    document = dict(results)
    document["summary"] = [asdict(row) | {"ratio": row.ratio} for row in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")  # never leave a half-written file behind
    temporary.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n",
                         encoding="utf-8")
    temporary.replace(path)
