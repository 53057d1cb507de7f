"""Everything a handler may use, built once per Application (never at import time)."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import Transactions
from bot.i18n import Catalogs
from bot.services.cache import ContentMemo
from bot.services.announcements import AnnouncementService
from bot.services.casework import CannedReplies, CaseworkService
from bot.services.console_auth import ConsoleAuth
from bot.services.content import ContentStore
from bot.services.dashboard import DashboardService
from bot.services.deadlines import DeadlineService, RulesStore
from bot.services.export import Exports
from bot.services.flood import FloodGuard
from bot.services.flows import FlowService
from bot.services.inbox import Inbox
from bot.services.jobs import JobClock
from bot.services.outbox import Outbox
from bot.services.privacy import PrivacyService
from bot.services.quick_exit import QuickExitService
from bot.services.requests import RequestService
from bot.services.safety import SafetyService
from bot.services.search import SearchService
from bot.services.staff import StaffService
from bot.services.users import UserService
from bot.settings import Settings


@dataclass
class Services:
    settings: Settings
    catalogs: Catalogs
    content: ContentStore
    deadline_rules: RulesStore | None = None  # content/rules.yaml, reloaded on change
    safety: SafetyService | None = None  # content/safety.yaml, reloaded with the content
    # Derived from the content only, so each process may keep its own.
    screens: ContentMemo = field(default_factory=ContentMemo)
    background: set = field(default_factory=set)  # tasks beside the updates, cancelled at shutdown
    # Made in post_init, when the event loop runs; None before.
    engine: AsyncEngine | None = None
    transactions: Transactions | None = None
    inbox: Inbox | None = None
    outbox: Outbox | None = None
    jobs: JobClock | None = None
    flood: FloodGuard | None = None
    users: UserService | None = None
    flows: FlowService | None = None
    requests: RequestService | None = None
    staff: StaffService | None = None
    search: SearchService | None = None
    privacy: PrivacyService | None = None
    quick_exit: QuickExitService | None = None
    deadlines: DeadlineService | None = None
    announcements: AnnouncementService | None = None
    casework: CaseworkService | None = None
    canned: CannedReplies | None = None
    console_auth: ConsoleAuth | None = None
    dashboard: DashboardService | None = None
    exports: Exports | None = None
