"""Everything a handler may use, built once per Application (never at import time)."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import Reader
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
    background: set = field(default_factory=set)  # tasks beside the updates, cancelled at shutdown
    # Made in post_init, when the event loop runs; None before.
    engine: AsyncEngine | None = None
    reader: Reader | None = None
    users: UserService | None = None
    interactions: InteractionLog | None = None
    flows: FlowService | None = None
    requests: RequestService | None = None
    staff: StaffService | None = None
    search: SearchService | None = None
    privacy: PrivacyService | None = None

    async def flush_writes(self) -> None:
        """Save what is batched in memory: users first, then their drafts and what they did."""
        await self.users.flush()
        await self.flows.flush()
        await self.interactions.flush()

    def note_new_user(self, user_id: int) -> None:
        """Someone the database has never seen has no draft and no case: the caches that
        would ask the database on their first plain message can answer at once."""
        self.flows.know_none(user_id)
        self.requests.know_none(user_id)
