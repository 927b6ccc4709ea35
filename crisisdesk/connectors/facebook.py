"""Facebook Pages: backfill through the Graph API and the five moderation actions.

Live comments arrive through the page webhook (:mod:`crisisdesk.connectors.webhook`); this module
reads what was there before (a page's posts, then each post's comments with ``filter=stream`` so
replies come in the same listing with their ``parent``) and acts on comments with the page token.
Records go through :func:`crisisdesk.ingest.normalise.from_graph_comment`, the same normaliser the
file importer uses for Graph listings, so a comment seen by backfill, webhook and file is one row.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from crisisdesk.connectors import ConnectorError
from crisisdesk.connectors.graph import GraphClient
from crisisdesk.ingest.normalise import RowError, from_graph_comment, parse_time
from crisisdesk.ingest.record import CommentRecord, Rejected

log = logging.getLogger(__name__)

POST_FIELDS = "id,created_time,message,permalink_url"
COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id},is_hidden"
# Read permissions for backfill, engagement for reply/hide/delete, messaging for private replies.
NEEDED_PERMISSIONS = (
    "pages_read_engagement",
    "pages_read_user_content",
    "pages_manage_engagement",
    "pages_messaging",
)
MAX_MESSAGE_CHARS = 8000


def _check_text(text: str) -> str:
    if not text or not text.strip():
        raise ConnectorError("nothing to send")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ConnectorError(f"the text is longer than {MAX_MESSAGE_CHARS} characters")
    return text


def in_range(at: datetime, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or at >= since) and (until is None or at <= until)


class FacebookConnector:
    """Acts on one Facebook page with its page token."""

    platform = "facebook"

    def __init__(self, graph: GraphClient, page_id: str, *, page_name: str | None = None) -> None:
        self.graph = graph
        self.page_id = page_id
        self.page_name = page_name

    def __repr__(self) -> str:
        return f"FacebookConnector(page_id={self.page_id!r})"

    # -- actions the moderation workflow calls --------------------------------------------

    def reply(self, comment_platform_id: str, text: str) -> dict[str, Any]:
        """A public reply under the comment, as the page."""
        return self.graph.post(f"{comment_platform_id}/comments", {"message": _check_text(text)})

    def private_reply(self, comment_platform_id: str, text: str) -> dict[str, Any]:
        """A private message to the commenter (Messenger's Private Replies: one message per
        comment, within 7 days of it)."""
        return self.graph.post(
            f"{self.page_id}/messages",
            json_body={
                "recipient": {"comment_id": comment_platform_id},
                "message": {"text": _check_text(text)},
            },
        )

    def hide(self, comment_platform_id: str) -> dict[str, Any]:
        return self.graph.post(comment_platform_id, {"is_hidden": True})

    def unhide(self, comment_platform_id: str) -> dict[str, Any]:
        return self.graph.post(comment_platform_id, {"is_hidden": False})

    def delete(self, comment_platform_id: str) -> dict[str, Any]:
        return self.graph.delete(comment_platform_id)

    # -- reading --------------------------------------------------------------------------

    def check(self) -> dict[str, Any]:
        """Who the token speaks for and which permissions it carries; raises on a bad token."""
        me = self.graph.get("me", {"fields": "id,name"})
        page = self.graph.get(self.page_id, {"fields": "id,name"})
        granted: list[str] = []
        declined: list[str] = []
        try:
            for item in self.graph.paged("me/permissions"):
                name = str(item.get("permission", ""))
                (granted if item.get("status") == "granted" else declined).append(name)
        except ConnectorError as exc:
            # Page tokens cannot always read /me/permissions; the page itself answered, so go on.
            log.info("could not list permissions: %s", exc)
        return {
            "me": me,
            "page": page,
            "granted": granted,
            "missing": [p for p in NEEDED_PERMISSIONS if granted and p not in granted],
        }

    def backfill(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[CommentRecord | Rejected]:
        """Comments of the posts published in the range, each comment kept if it is in range."""
        params: dict[str, Any] = {"fields": POST_FIELDS, "limit": 100}
        if since is not None:
            params["since"] = int(since.timestamp())
        if until is not None:
            params["until"] = int(until.timestamp())
        for post in self.graph.paged(f"{self.page_id}/posts", params):
            post_id = str(post.get("id") or "")
            if not post_id:
                continue
            comments = self.graph.paged(
                f"{post_id}/comments",
                {
                    "fields": COMMENT_FIELDS,
                    "filter": "stream",
                    "order": "chronological",
                    "limit": 100,
                },
            )
            for item in comments:
                try:
                    record = from_graph_comment(
                        item, page=self.page_id, post_id=post_id, source="graph"
                    )
                except RowError as exc:
                    yield Rejected(f"graph:{post_id}", 0, str(exc))
                    continue
                if record.page_name is None and self.page_name:
                    record.page_name = self.page_name
                if in_range(record.created_at, since, until):
                    yield record


def parse_when(value: str) -> datetime:
    """A ``--since``/``--until`` value: an ISO date or time, or epoch seconds.

    >>> parse_when("2024-05-01").isoformat()
    '2024-05-01T00:00:00+00:00'
    """
    try:
        return parse_time(value)
    except RowError as exc:
        raise ValueError(str(exc).replace("created_at", "the time")) from None
