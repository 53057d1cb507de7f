"""Making the services: content first (before any connection), then the database's.

The bot (bot.app) and the console alone (bot.console.app) build them the same way."""
from __future__ import annotations

from bot.db.engine import Transactions, make_engine, make_sessionmaker
from bot.i18n import Catalogs
from bot.services.announcements import AnnouncementService
from bot.services.casework import CannedReplies, CaseworkService
from bot.services.console_auth import ConsoleAuth
from bot.services.container import Services
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


def load_services(settings: Settings) -> Services:
    """Catalogs and content (failing early on broken content), before any connection."""
    catalogs = Catalogs(settings.locales_dir, settings.default_locale)
    content = ContentStore(settings.content_dir)
    content.load()
    rules = RulesStore(settings.content_dir, settings.content_reload_seconds)
    rules.load()
    safety = SafetyService(settings.content_dir)
    safety.load(content.current)
    # A content edit (safety.yaml included) reloads the rules; a broken one keeps the last good.
    content.on_change(safety.load)
    return Services(settings=settings, catalogs=catalogs, content=content, deadline_rules=rules,
                    safety=safety)


async def connect_services(services: Services) -> None:
    """Open the database and make the services on it: for the bot and the console alike."""
    services.engine = make_engine(services.settings.database_url)
    sessions = make_sessionmaker(services.engine)
    services.transactions = Transactions(services.settings.database_url, sessions)
    services.inbox = Inbox(services.transactions)
    services.outbox = Outbox(sessions, services.inbox.worker)
    services.jobs = JobClock(sessions)
    services.flood = FloodGuard()
    services.users = UserService(services.transactions)
    services.flows = FlowService(services.transactions)
    services.requests = RequestService(sessions, services.outbox)
    services.staff = StaffService(sessions)
    services.search = SearchService(sessions)
    services.quick_exit = QuickExitService(sessions)
    services.deadlines = DeadlineService(sessions, services.deadline_rules)
    services.privacy = PrivacyService(sessions, services.deadlines)
    services.announcements = AnnouncementService(
        sessions, services.outbox.worker, services.settings.announce_approval_threshold,
        services.settings.default_locale)
    services.casework = CaseworkService(sessions)
    services.canned = CannedReplies(sessions)
    services.console_auth = ConsoleAuth(sessions, services.settings.console_session_hours)
    services.dashboard = DashboardService(sessions)
    services.exports = Exports(sessions)


async def disconnect_services(services: Services) -> None:
    if services.transactions is not None:
        services.transactions.close()
    if services.engine is not None:
        await services.engine.dispose()
