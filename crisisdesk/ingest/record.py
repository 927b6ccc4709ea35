"""The one normalised shape every source is turned into before it reaches the store.

Files, the Graph API, webhooks and the open-network connectors all yield :class:`CommentRecord`
objects (or :class:`Rejected` for input that cannot be used), and :func:`crisisdesk.ingest.upsert`
is the only code that writes them. Keeping one shape is what makes the same comment arriving twice,
through two different doors, land on one row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

Verb = Literal["add", "edited", "remove", "hide", "unhide"]
VERBS: tuple[Verb, ...] = ("add", "edited", "remove", "hide", "unhide")

# Generous but bounded: Facebook caps comments at 8,000 characters; anything far longer is not a
# comment but an attempt to fill the disk or slow the analysers.
MAX_TEXT_CHARS = 20_000
MAX_ID_CHARS = 200
MAX_NAME_CHARS = 300
# A post's text only tells people which post a comment is on; the desk shows its first line or
# two. Posts can run to tens of thousands of characters and an imported file can put anything
# here, so only the start is kept (cut, not refused: the text is extra, the comment is not).
MAX_POST_MESSAGE_CHARS = 2_000


@dataclass
class CommentRecord:
    """One event about one comment, from any source.

    ``platform_id`` is the comment's id on its platform; together with ``platform`` it is the key.
    ``page``, ``post_id``, ``parent_id`` and ``author_id`` are platform ids too (strings).
    ``created_at`` is the event time, always timezone-aware UTC. ``permalink`` is the comment's
    web address on its platform and ``post_permalink`` its post's, when the source gives them;
    both have been through :func:`crisisdesk.ingest.links.web_link` (http and https only).
    ``post_message`` is the post's own text (a caption on Instagram), when the source gives it,
    cut to :data:`MAX_POST_MESSAGE_CHARS`.
    """

    platform: str
    platform_id: str
    created_at: datetime
    text: str = ""
    page: str | None = None
    page_name: str | None = None
    post_id: str | None = None
    parent_id: str | None = None
    author_id: str | None = None
    author_name: str | None = None
    verb: Verb = "add"
    is_hidden: bool | None = None
    source: str = "import"
    permalink: str | None = None
    post_permalink: str | None = None
    post_message: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            self.created_at = self.created_at.replace(tzinfo=UTC)
        else:
            self.created_at = self.created_at.astimezone(UTC)


@dataclass(frozen=True)
class Rejected:
    """A row that could not be used, with where it was and why (``FILE:LINE: reason``)."""

    source: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}"
