"""My deadlines: the rules of `content/rules.yaml` and the pure date arithmetic over them.

No Telegram, no database, no clock: the only I/O is reading rules.yaml in `load_rules`.
"""
from bot.deadlines.counting import Deadline, ReadingDate, Stay, deadlines_for, merge_stays
from bot.deadlines.dates import (FAR_FUTURE, FAR_PAST, IMPOSSIBLE, NOT_A_DATE, DateRejected,
                                 parse_user_date)
from bot.deadlines.rules import (EVENTS, WHO, Reading, Rule, RuleBook, RulesResult, load_rules,
                                 deadline_rule_problems)

__all__ = [
    "Deadline", "ReadingDate", "Stay", "deadlines_for", "merge_stays",
    "FAR_FUTURE", "FAR_PAST", "IMPOSSIBLE", "NOT_A_DATE", "DateRejected", "parse_user_date",
    "EVENTS", "WHO", "Reading", "Rule", "RuleBook", "RulesResult", "load_rules",
    "deadline_rule_problems",
]
