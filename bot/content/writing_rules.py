"""The content rules `content check` adds to the loader's: parity across locales, contacts only
from [V], keyword traps (see content/BRIEF.md, "Checks")."""
from __future__ import annotations

from pathlib import Path

from bot.content.contacts import contact_problems
from bot.content.keywords import trap_problems
from bot.content.loader import Problem
from bot.content.parity import parity_problems
from bot.content.written import read_written


def writing_rule_problems(content_dir: Path) -> list[Problem]:
    """Errors first, so the duplicate-keyword warnings never hide them."""
    written = read_written(content_dir)
    problems = (parity_problems(written) + contact_problems(content_dir, written)
                + trap_problems(content_dir, written))
    return sorted(problems, key=lambda p: p.severity != "error")
