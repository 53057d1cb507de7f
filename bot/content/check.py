"""`python -m bot content check`: every problem as `file:line: message`, non-zero on errors."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bot import LOCALES
from bot.content.loader import LoadResult, Problem, load_content
from bot.content.markup import TELEGRAM_TEXT_LIMIT, telegram_length
from bot.content.model import Content
from bot.content.writing_rules import writing_rule_problems
from bot.deadlines.rules import deadline_rule_problems
from bot.i18n import Catalogs
from bot.safety.rules import safety_problems
from bot.views import screens


def rendering_problems(result: LoadResult, catalogs: Catalogs) -> list[Problem]:
    """Render every page of every topic in every locale and check it against Telegram's limits."""
    content = result.content
    problems = []
    for key in content.topics:
        for locale in LOCALES:
            text = content.text(locale, key)
            try:
                screens.topic_screen(content, catalogs.get(locale), locale, key)
                pages = screens.topic_pages(content, catalogs.get(locale), locale, key)
            except ValueError as exc:  # callback data over the limit
                problems.append(Problem(text.path, 1, str(exc)))
                continue
            for number, page in enumerate(pages, start=1):
                if telegram_length(page) > TELEGRAM_TEXT_LIMIT:
                    problems.append(Problem(text.path, 1, f"page {number} is over "
                                            f"{TELEGRAM_TEXT_LIMIT} characters when rendered"))
    return problems


@dataclass(frozen=True)
class Report:
    """What `content check` finds: the console shows it as data, the command prints it."""

    content: Content | None
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]


def content_report(content_dir: Path, catalogs: Catalogs) -> Report:
    result = load_content(content_dir)
    problems = list(result.problems)
    problems += writing_rule_problems(content_dir)  # parity, contacts, keyword traps
    problems += deadline_rule_problems(content_dir)  # content/rules.yaml
    problems += safety_problems(content_dir, set(result.content.topics)  # content/safety.yaml
                                if result.content is not None else None)
    if result.content is not None:
        problems += rendering_problems(result, catalogs)
    return Report(result.content, problems)


def check_content(content_dir: Path, locales_dir: Path, default_locale: str = "uz") -> int:
    report = content_report(content_dir, Catalogs(locales_dir, default_locale))
    for problem in report.problems:
        print(problem)
    if report.content is not None:
        content = report.content
        written = Counter(t.served_from for (loc, _), t in content.texts.items()
                          if t.served_from == loc)
        summary = ", ".join(f"{loc} {written.get(loc, 0)}/{len(content.topics)}" for loc in LOCALES)
        print(f"{len(content.topics)} topics; written by hand: {summary}; "
              f"shown by fallback: {len(content.fallbacks)}")
    print(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    return 1 if report.errors else 0
