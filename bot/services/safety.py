"""The safety rules in service (content/safety.yaml): read at start-up and again whenever the
content is reloaded; a broken edit is logged and the last good rules stay, as with content."""
from __future__ import annotations

import logging
from pathlib import Path

from bot.content.model import Content
from bot.safety.distress import Distress
from bot.safety.rules import SafetyRules, load_safety

log = logging.getLogger(__name__)


class SafetyUnavailable(Exception):
    """safety.yaml could not be loaded at start-up; the message lists the problems."""


class SafetyService:
    def __init__(self, content_dir: Path) -> None:
        self._content_dir = content_dir
        self._rules: SafetyRules | None = None

    @property
    def rules(self) -> SafetyRules:
        if self._rules is None:
            raise RuntimeError("safety rules are not loaded yet")
        return self._rules

    def load(self, content: Content) -> SafetyRules:
        """Load the rules against the content's topics; at start-up a broken file stops the
        bot, later it leaves the last good rules in service."""
        rules = load_safety(self._content_dir, set(content.topics))
        for problem in rules.problems:
            if problem.severity != "error":
                log.warning("%s", problem)
        if rules.errors:
            if self._rules is None:
                raise SafetyUnavailable("\n".join(str(p) for p in rules.errors))
            for problem in rules.errors:
                log.error("safety rules reload rejected, the last good rules stay: %s", problem)
            return self._rules
        self._rules = rules
        return rules

    def detect(self, text: str) -> Distress | None:
        return self.rules.detect(text)

    def has_quick_exit(self, topic_key: str) -> bool:
        return topic_key in self.rules.quick_exit_topics
