"""Tables. Portable types only, so SQLite and PostgreSQL run the same code."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, MetaData,
                        String, Text)
from sqlalchemy.types import TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only autoincrements an INTEGER PRIMARY KEY, PostgreSQL wants BIGINT for big tables.
BigId = BigInteger().with_variant(Integer, "sqlite")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Always timezone-aware UTC; SQLite would otherwise hand back naive datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # Interactions are logged under this key, never the Telegram id (content-facts §7).
    pseudonym: Mapped[str] = mapped_column(String(32), unique=True)
    locale: Mapped[str | None] = mapped_column(String(16))
    language_code: Mapped[str | None] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The user's last search, offered as the question if they press "Ask a person" next.
    last_unanswered: Mapped[str | None] = mapped_column(Text)
    # The country they are in or going to (a code of bot.services.requests.COUNTRIES): its
    # topics come first and the other countries' are hidden. None: not told, or all countries.
    country: Mapped[str | None] = mapped_column(String(8))
    # The user turned announcements off (/announcements off, or the button on one).
    announcements_off: Mapped[bool] = mapped_column(Boolean, default=False)


class Interaction(Base):
    __tablename__ = "interactions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_key: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    topic_key: Mapped[str | None] = mapped_column(String(64))
    query: Mapped[str | None] = mapped_column(Text)
    result_count: Mapped[int | None] = mapped_column(Integer)
    locale: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class StaffMember(Base):
    __tablename__ = "staff_members"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    role: Mapped[str] = mapped_column(String(16))  # staff | admin
    added_by: Mapped[int | None] = mapped_column(BigInteger)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Their Telegram first name, taken when they ask for a console link: colleagues see who
    # holds a case. The language they read the console in; None: STAFF_LOCALE.
    name: Mapped[str | None] = mapped_column(String(64))
    console_locale: Mapped[str | None] = mapped_column(String(16))


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(String(64), index=True)
    details: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class HelpRequest(Base):
    __tablename__ = "requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    topic_key: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str] = mapped_column(String(8))
    asker: Mapped[str] = mapped_column(String(16))  # self | family_abroad | family_returned
    locale: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    assignee_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_message_id: Mapped[int | None] = mapped_column(BigInteger)
    user_blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_by_user: Mapped[bool] = mapped_column(Boolean, default=False)
    # The question signals distress or forced labour: staff see it first.
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Since when the user waits for staff (filed, or wrote again); None once staff answered
    # or the case is resolved. The inbox shows the longest wait first.
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # When the staff group was last reminded that this case waits.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The case's own topic where the staff group is a forum.
    forum_topic_id: Mapped[int | None] = mapped_column(BigInteger)
    # Asked once after it was resolved: "did the answer help?" up | down, and a comment.
    satisfaction_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    satisfaction: Mapped[str | None] = mapped_column(String(4))
    satisfaction_comment: Mapped[str | None] = mapped_column(Text)


class RequestMessage(Base):
    __tablename__ = "request_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("requests.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(8))  # user | staff
    author_id: Mapped[int | None] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    staff_message_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # A staff message: pending | delivered | failed | blocked (the user blocked the bot).
    # None for the user's own messages.
    delivery: Mapped[str | None] = mapped_column(String(10))
    # Where a staff message was written: telegram | console (None: the user's, or older).
    via: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def delivered(self) -> bool:
        return self.delivery in (None, "delivered", "pending")


class CaseNote(Base):
    """Staff's internal note on a case: never sent to the user."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("requests.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CannedReply(Base):
    """A ready answer in one language, inserted and edited before it is sent."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    locale: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsoleLoginLink(Base):
    """A one-time console link sent by /console; only its SHA-256 is kept."""

    __tablename__ = "console_login_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConsoleSession(Base):
    """A browser's session; only the SHA-256 of its cookie is kept. Deleted at logout."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(BigInteger, index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ConsoleLoginAttempt(Base):
    """A login try (link or widget), counted per client to slow down guessing."""

    __tablename__ = "console_login_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    client: Mapped[str] = mapped_column(String(64))  # a hash of the address, not the address
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_console_login_attempts_client_at", "client", "at"),)


class FlowState(Base):
    """A half-filled form, kept so a restart loses nothing; deleted when the flow ends."""

    __tablename__ = "flow_states"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    flow: Mapped[str] = mapped_column(String(16))
    step: Mapped[str] = mapped_column(String(16))
    data: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboxUpdate(Base):
    """An update from Telegram, stored before it is acknowledged and claimed by one process
    at a time. Its user's next update waits until it is finished, so order holds across
    processes. The payload is dropped once handled; the row stays a while for re-deliveries
    and flood counts."""

    __tablename__ = "inbox"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_key: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8))  # queued | claimed | done | dropped
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_inbox_status_update_id", "status", "update_id"),
        # "Has this user an earlier update unfinished?" and the flood count, per claim.
        Index("ix_inbox_user_key_status_update_id", "user_key", "status", "update_id"),
        Index("ix_inbox_user_key_received_at", "user_key", "received_at"),
        Index("ix_inbox_received_at", "received_at"),
    )


class OutboxMessage(Base):
    """Something to send later (a staff card now; reminders and announcements next), claimed
    by one process, sent and marked. A claim that is not finished in time is taken again."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[int] = mapped_column(BigInteger)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_outbox_done_at_due_at", "done_at", "due_at"),
                      Index("ix_outbox_kind_ref", "kind", "ref"))


class ChatMessage(Base):
    """A message in a private chat, the bot's or the user's, kept as long as Telegram lets a
    bot delete it (48 hours): the quick exit (/hide) deletes them all."""

    __tablename__ = "chat_messages"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ScheduledJob(Base):
    """A repeating job; the process that moves `next_run_at` forward runs it, once."""

    __tablename__ = "scheduled_jobs"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeadlinePlan(Base):
    """My deadlines: one person's host country and entry date (personal data, kept only while
    a deadline is ahead). Reminders only with `reminders` true, which the user agreed to."""

    __tablename__ = "deadline_plans"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    country: Mapped[str] = mapped_column(String(2))
    entry_date: Mapped[date] = mapped_column(Date)
    contract_date: Mapped[date | None] = mapped_column(Date)  # for rules counted from it
    reminders: Mapped[bool] = mapped_column(Boolean, default=False)
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_rules: Mapped[str] = mapped_column(Text, default="[]")  # JSON: keys marked "done"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeadlineStay(Base):
    """An earlier stay in the plan's country, both days included."""

    __tablename__ = "deadline_stays"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    entered: Mapped[date] = mapped_column(Date)
    left: Mapped[date] = mapped_column(Date)


class DeadlineReminder(Base):
    """One reminder of one deadline; sent through the outbox (kind "reminder", ref = id)."""

    __tablename__ = "deadline_reminders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    rule_key: Mapped[str] = mapped_column(String(32))
    deadline: Mapped[date] = mapped_column(Date)
    days_before: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # or dropped: the user blocked us


class Announcement(Base):
    """News for the users it concerns, one text per locale. Its recipients are chosen when an
    admin confirms it; it is sent through the outbox (kind "announcement", ref = id)."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # awaiting_approval | sending | paused | done | cancelled
    status: Mapped[str] = mapped_column(String(20))
    texts: Mapped[str] = mapped_column(Text)  # JSON: locale → Telegram HTML
    topic_key: Mapped[str | None] = mapped_column(String(64))
    segment: Mapped[str] = mapped_column(Text)  # JSON, see bot.services.announcements.Segment
    recipients: Mapped[int] = mapped_column(Integer, default=0)  # chosen when confirmed
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by: Mapped[int | None] = mapped_column(BigInteger)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AnnouncementRecipient(Base):
    """One user an announcement goes to: at most once, whatever crashes or processes."""

    __tablename__ = "announcement_recipients"

    announcement_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("announcements.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    locale: Mapped[str] = mapped_column(String(16))
    # pending | sent | blocked | failed | skipped (turned off meanwhile) | cancelled
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # The next slice to send: pending recipients, fewest attempts first.
        Index("ix_announcement_recipients_next", "announcement_id", "status", "attempts",
              "user_id"),
        Index("ix_announcement_recipients_user_id", "user_id"),
    )
