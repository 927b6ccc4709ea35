"""Facebook Pages: backfill through the Graph API and the five moderation actions.

Live comments arrive through the page webhook (:mod:`crisisdesk.connectors.webhook`); this module
reads what was there before (a page's posts, then each post's comments with ``filter=stream`` so
replies come in the same listing with their ``parent``) and acts on comments with the page token.

A backfill's time range is about *comments*: a comment written yesterday under a post from last
month belongs to "the last three days". The Graph API cannot list a page's comments by time
directly, so the posts are listed over a wider, bounded look-back (:data:`POSTS_LOOKBACK` before
``since``) and each post's comments are read newest first (``order=reverse_chronological``), which
lets the paging stop at the first comment older than ``since``: a quiet post costs one request.
Records go through :func:`crisisdesk.ingest.normalise.from_graph_comment`, the same normaliser the
file importer uses for Graph listings, so a comment seen by backfill, webhook and file is one row.
Each comment carries its ``permalink_url`` and its post's, so the desk can link to both, and its
post's ``message``, so the desk can name the post by what it says rather than by its id.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from crisisdesk.connectors import ConnectorError, PostDetails
from crisisdesk.connectors.graph import GraphClient
from crisisdesk.ingest.links import web_link
from crisisdesk.ingest.normalise import (
    RowError,
    clean_post_message,
    from_graph_comment,
    parse_time,
)
from crisisdesk.ingest.record import CommentRecord, Rejected
from crisisdesk.reasons import Reason, message_of

log = logging.getLogger(__name__)

POST_FIELDS = "id,created_time,message,permalink_url"
# Graph object ids are digits, with an underscore between page and post: anything else would
# change the request's path.
GRAPH_ID = re.compile(r"[0-9]+(?:_[0-9]+)?")
COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id},is_hidden,permalink_url"
# Read permissions for backfill, engagement for reply/hide/delete, messaging for private replies.
NEEDED_PERMISSIONS = (
    "pages_read_engagement",
    "pages_read_user_content",
    "pages_manage_engagement",
    "pages_messaging",
)
MAX_MESSAGE_CHARS = 8000
# How far before a backfill's ``since`` posts are still searched for new comments. Comments on
# older posts are missed; the bound keeps a backfill of a busy page to a sensible number of calls
# (one listing call per 100 posts, then at least one call per post).
POSTS_LOOKBACK = timedelta(days=90)


def _check_text(text: str) -> str:
    if not text or not text.strip():
        raise ConnectorError("nothing to send")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ConnectorError(f"the text is longer than {MAX_MESSAGE_CHARS} characters")
    return text


def in_range(at: datetime, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or at >= since) and (until is None or at <= until)


def posts_since(since: datetime | None, lookback: timedelta | None) -> datetime | None:
    """The oldest post a backfill from ``since`` looks at for comments (``None``: every post).

    >>> from datetime import UTC
    >>> posts_since(datetime(2024, 5, 10, tzinfo=UTC), timedelta(days=90)).date().isoformat()
    '2024-02-10'
    >>> posts_since(datetime(2024, 5, 10, tzinfo=UTC), None) is None
    True
    """
    if since is None or lookback is None:
        return None
    return since - lookback


class FacebookConnector:
    """Acts on one Facebook page with its page token."""

    platform = "facebook"

    def __init__(
        self,
        graph: GraphClient,
        page_id: str,
        *,
        page_name: str | None = None,
        posts_lookback: timedelta | None = POSTS_LOOKBACK,
    ) -> None:
        self.graph = graph
        self.page_id = page_id
        self.page_name = page_name
        # ``None`` searches every post of the page, however old (one call per post at least).
        self.posts_lookback = posts_lookback

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

    def post_details(self, post_id: str) -> PostDetails:
        """The post's text and link, one call: comment webhooks name the post by id only."""
        if not GRAPH_ID.fullmatch(post_id):
            raise ConnectorError(f"not a Facebook post id: {post_id[:40]!r}")
        post = self.graph.get(post_id, {"fields": "message,permalink_url"})
        return PostDetails(
            clean_post_message(post.get("message")), web_link(post.get("permalink_url"))
        )

    def backfill(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[CommentRecord | Rejected]:
        """The comments (and replies) written between ``since`` and ``until``, whatever the age of
        their post, as long as the post is no older than ``posts_lookback`` before ``since``
        (90 days unless the connector was built with another; ``None`` for no bound).

        Requests: the posts listing (100 posts a call), then one comments call per post, and more
        only while a post's comments, newest first, are still inside the range.
        """
        params: dict[str, Any] = {"fields": POST_FIELDS, "limit": 100}
        oldest_post = posts_since(since, self.posts_lookback)
        if oldest_post is not None:
            params["since"] = int(oldest_post.timestamp())
        if until is not None:
            # A post published after ``until`` cannot carry a comment written before it.
            params["until"] = int(until.timestamp())
        for post in self.graph.paged(f"{self.page_id}/posts", params):
            post_id = str(post.get("id") or "")
            if post_id:
                yield from self._comments(
                    post_id,
                    since,
                    until,
                    post_permalink=web_link(post.get("permalink_url")),
                    post_message=clean_post_message(post.get("message")),
                )

    def _comments(
        self,
        post_id: str,
        since: datetime | None,
        until: datetime | None,
        *,
        post_permalink: str | None = None,
        post_message: str | None = None,
    ) -> Iterator[CommentRecord | Rejected]:
        comments = self.graph.paged(
            f"{post_id}/comments",
            {
                "fields": COMMENT_FIELDS,
                "filter": "stream",
                "order": "reverse_chronological",
                "limit": 100,
            },
        )
        for item in comments:
            try:
                record = from_graph_comment(
                    item, page=self.page_id, post_id=post_id, source="graph"
                )
            except RowError as exc:
                yield Rejected(f"graph:{post_id}", 0, message_of(exc))
                continue
            if since is not None and record.created_at < since:
                # Newest first: everything after this one is older still, so no more pages.
                return
            if record.page_name is None and self.page_name:
                record.page_name = self.page_name
            record.post_permalink = post_permalink
            record.post_message = post_message
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
        # The row's check, in the words of an option rather than of a column.
        if getattr(message_of(exc), "code", None) == "row.time_range":
            raise ValueError(
                Reason("when.range", "the time is out of range: {value}", value=repr(value))
            ) from None
        raise ValueError(
            Reason(
                "when.format", "the time is not a date and time: {value}", value=repr(value[:40])
            )
        ) from None
