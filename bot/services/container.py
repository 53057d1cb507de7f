"""Everything a handler may use, built once per Application (never at import time)."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.i18n import Catalogs
from bot.services.cache import ContentMemo
from bot.services.content import ContentStore
from bot.services.flood import FloodGuard
from bot.services.flows import FlowService
from bot.services.interactions import InteractionLog
from bot.services.privacy import PrivacyService
from bot.services.requests import RequestService
from bot.services.search import SearchService
from bot.services.staff import StaffService
from bot.services.users import UserService
from bot.settings import Settings


@dataclass
class Services:
    settings: Settings
    catalogs: Catalogs
    content: ContentStore
    flood: FloodGuard = field(default_factory=FloodGuard)
    screens: ContentMemo = field(default_factory=ContentMemo)
    background: set = field(default_factory=set)  # start-up tasks still running
    # Made in post_init, when the event loop runs; None before.
    engine: AsyncEngine | None = None
    users: UserService | None = None
    interactions: InteractionLog | None = None
    flows: FlowService | None = None
    requests: RequestService | None = None
    staff: StaffService | None = None
    search: SearchService | None = None
    privacy: PrivacyService | None = None
