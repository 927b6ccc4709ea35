"""The store's tables, platform-neutral.

Every object that comes from a platform keeps ``(platform, platform_id)`` as a unique key, so a
repeated delivery finds its row instead of making a new one. Nothing here is SQLite-only: the same
models run on PostgreSQL. The latest analysis of a comment is copied onto the comment row
(``language``, ``sentiment``, ``kind``, ``urgency``) because the inbox filters and sorts on them over
millions of rows; the full history of analyses, with the model version that produced each, lives in
``analyses``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite has no time zones, so values are stored as naive UTC and handed back aware.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Page(Base):
    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("platform", "platform_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    platform_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    language: Mapped[str | None] = mapped_column(String(8))
    # Per-page configuration (cool-down per kind, competitors, causes, contacts...).
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (UniqueConstraint("platform", "platform_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    platform_id: Mapped[str] = mapped_column(String(200))
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"), index=True)
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None]
    # The post's web address on its platform (http or https only; migration 0006).
    permalink: Mapped[str | None] = mapped_column(Text)


class Author(Base):
    __tablename__ = "authors"
    __table_args__ = (UniqueConstraint("platform", "platform_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    platform_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(300))
    first_seen: Mapped[datetime | None]
    last_seen: Mapped[datetime | None]
    comment_count: Mapped[int] = mapped_column(default=0)
    banned: Mapped[bool] = mapped_column(Boolean, default=False)


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        UniqueConstraint("platform", "platform_id"),
        Index("ix_comments_created", "created_at", "id"),
        Index("ix_comments_urgency", "urgency", "created_at"),
        Index("ix_comments_page_created", "page_id", "created_at"),
        Index("ix_comments_kind_created", "kind", "created_at"),
        Index("ix_comments_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    platform_id: Mapped[str] = mapped_column(String(200))
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), index=True)
    # The parent's platform id is kept even before the parent itself arrives (deliveries come out
    # of order); ``parent_id`` is filled in once both are in the store.
    parent_platform_id: Mapped[str | None] = mapped_column(String(200), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id"), index=True)
    created_at: Mapped[datetime]
    # Event time of the last change applied: decides which of two out-of-order deliveries wins.
    changed_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    text: Mapped[str] = mapped_column(Text, default="")
    # visible | hidden | removed. Nothing is ever deleted from the store.
    status: Mapped[str] = mapped_column(String(16), default="visible")
    status_changed_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]
    source: Mapped[str] = mapped_column(String(32), default="import")
    # Copied from the latest analysis for filtering and sorting.
    language: Mapped[str | None] = mapped_column(String(8), index=True)
    sentiment: Mapped[str | None] = mapped_column(String(16), index=True)
    kind: Mapped[str | None] = mapped_column(String(16))
    urgency: Mapped[float] = mapped_column(Float, default=0.0)
    # new | open | handled: where the comment stands in the team's inbox.
    triage: Mapped[str] = mapped_column(String(16), default="new", index=True)
    # The comment's web address on its platform, when the platform has one (Instagram comments
    # have none); http or https only, checked at ingest (migration 0006).
    permalink: Mapped[str | None] = mapped_column(Text)


class CommentRevision(Base):
    """An earlier text of an edited comment."""

    __tablename__ = "comment_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[datetime]
    replaced_at: Mapped[datetime]


class Analysis(Base):
    __tablename__ = "analyses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), index=True)
    model_version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    language: Mapped[str] = mapped_column(String(8))
    sentiment: Mapped[str] = mapped_column(String(16))
    sentiment_scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    offensive: Mapped[float] = mapped_column(Float)
    irony: Mapped[float] = mapped_column(Float)
    question: Mapped[bool] = mapped_column(Boolean)
    spam: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[Any]] = mapped_column(default=list)


class Alert(Base):
    __tablename__ = "alerts"
    # An id is never given twice, even after a replay deletes the newest alerts: the live
    # banner's relay counts alerts as seen by id (migration 0011).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    level: Mapped[str] = mapped_column(String(16))
    episode: Mapped[str] = mapped_column(String(200), index=True)
    at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # When the team was told (live banner, webhooks, e-mail); None for history that was only
    # written down. A replay of the page may replace an alert nobody was told of or acknowledged.
    announced_at: Mapped[datetime | None]


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(300))
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16), default="member")
    language: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), unique=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"), index=True)
    state: Mapped[str] = mapped_column(String(24), default="new", index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    responsible: Mapped[str | None] = mapped_column(String(300))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The cool-down starts when a person first opens the comment (or a draft is made by API).
    cooldown_started_at: Mapped[datetime | None]
    cooldown_until: Mapped[datetime | None]
    respond_by: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    cause: Mapped[str | None] = mapped_column(String(64))


class ReplyDraft(Base):
    __tablename__ = "reply_drafts"
    # the reply index's catch-up reads a page's replies published after a moment (migration 0004)
    __table_args__ = (Index("ix_reply_drafts_page_published", "page_id", "published_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), index=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    checks: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    override_reason: Mapped[str | None] = mapped_column(Text)


class Voucher(Base):
    __tablename__ = "vouchers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    value: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_via: Mapped[str | None] = mapped_column(String(32))
    redeemed_at: Mapped[datetime | None]


class Lesson(Base):
    __tablename__ = "lessons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    cause: Mapped[str] = mapped_column(String(64))
    change: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Who did what, when and why. Append-only."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"), index=True)
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SignalState(Base):
    """Saved state of a streaming component (flame detector, coordination), so a restart loses
    no history, one row per part: ``flame`` holds what is common to all pages and
    ``flame/page/<id>`` each page's own, so that processes sharing the store (the web app, the
    webhook worker, a sync from cron) each write only the pages they changed. ``seq`` counts the
    writes of a row: a process writes over the version it last read, or not at all (see
    :func:`crisisdesk.store.write_signal_state`)."""

    __tablename__ = "signal_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(32))
    state: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ReplySignature(Base):
    """The MinHash signature of a published reply, kept so that a restart reads the ``canned``
    check's index back instead of recomputing it; ``scheme`` names how it was computed."""

    __tablename__ = "reply_signatures"
    reply_id: Mapped[int] = mapped_column(
        ForeignKey("reply_drafts.id", ondelete="CASCADE"), primary_key=True
    )
    scheme: Mapped[str] = mapped_column(String(32))
    signature: Mapped[bytes] = mapped_column(LargeBinary)


class Connection(Base):
    """A platform account the desk reads from and acts through (a Facebook page, an Instagram
    account, a Mastodon or Bluesky handle). Tokens are stored encrypted, never in clear."""

    __tablename__ = "connections"
    __table_args__ = (UniqueConstraint("platform", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(300))
    token_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Where polling or backfill stopped, so the next run continues from there.
    cursor: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConnectionFetch(Base):
    """One fetch of a connection's comments (`crisisdesk sync`, or "Fetch now" on the web page),
    recorded when it starts and completed when it ends, so the team sees a fetch running in
    another process, when an account was last read and how it went, even after a restart. A row
    never completed (``finished_at`` NULL) whose ``alive_at`` has not moved for a while belongs to
    a process that died mid-fetch. Only the last few per connection are kept (see
    :func:`~crisisdesk.connectors.store.start_fetch`)."""

    __tablename__ = "connection_fetches"
    __table_args__ = (
        Index("ix_connection_fetches_connection_started", "connection_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    started_at: Mapped[datetime]
    # None while the fetch runs (or after its process died without completing it).
    finished_at: Mapped[datetime | None]
    # While it runs: the last time its process said it was still fetching (a heartbeat).
    alive_at: Mapped[datetime | None]
    # cli | web: where the fetch was started.
    source: Mapped[str] = mapped_column(String(8))
    inserted: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    # Why the platform refused (one of ``accounts.REASONS``); None when the fetch worked.
    reason: Mapped[str | None] = mapped_column(String(32))
    # A short explanation, scrubbed of the connection's secrets before it is stored.
    error: Mapped[str | None] = mapped_column(String(500))


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class AuthorVerdict(Base):
    """A person's verdict on an author after the manual check, per page."""

    __tablename__ = "author_verdicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"), index=True)
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"))
    verdict: Mapped[str] = mapped_column(String(16))  # real | fake | competitor | unsure
    note: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModerationRule(Base):
    """An inbox rule: conditions on the comment and its author, and the actions to take."""

    __tablename__ = "moderation_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"))
    name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    conditions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    actions: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommentLabel(Base):
    __tablename__ = "comment_labels"
    __table_args__ = (UniqueConstraint("comment_id", "label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), index=True)
    label: Mapped[str] = mapped_column(String(64))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("moderation_rules.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
