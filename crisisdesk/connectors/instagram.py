"""Instagram professional accounts, through the same Meta app and the same Graph client.

Instagram's shapes differ from Facebook's (``text``/``timestamp``/``username`` instead of
``message``/``created_time``/``from.name``; replies nested under ``replies``; ``hide`` instead of
``is_hidden``), so this module maps them to the canonical fields and hands them to
:func:`crisisdesk.ingest.normalise.from_canonical`, which applies the same checks as every other
source. Comments are keyed under platform ``instagram`` and page = the Instagram account id.

Replies come with their comment (field expansion ``replies{...}``), but only their first page: when
that page says there is more (``paging.next``), the rest is read from the comment's ``/replies``
edge from the cursor on, so a busy thread is read whole.

Instagram's own rules the desk relays as clear errors: replies only to top-level, visible comments;
one private reply per comment, within 7 days.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from crisisdesk.connectors import ConnectorError, PostDetails
from crisisdesk.connectors.facebook import (
    GRAPH_ID,
    POSTS_LOOKBACK,
    _check_text,
    in_range,
    posts_since,
)
from crisisdesk.connectors.graph import GraphClient
from crisisdesk.ingest.links import web_link
from crisisdesk.ingest.normalise import RowError, clean_post_message, from_canonical
from crisisdesk.ingest.record import CommentRecord, Rejected
from crisisdesk.reasons import Reason, message_of

MEDIA_FIELDS = "id,caption,timestamp,permalink,comments_count"
_C = "id,text,timestamp,username,from{id,username},hidden,parent_id"
COMMENT_FIELDS = f"{_C},replies{{{_C}}}"
REPLY_FIELDS = _C
NEEDED_PERMISSIONS = ("instagram_basic", "instagram_manage_comments", "instagram_manage_messages")


def from_instagram_comment(
    item: Mapping[str, Any],
    *,
    account: str,
    media_id: str | None,
    parent_id: str | None = None,
    created_fallback: Any = None,
    source: str = "graph",
) -> CommentRecord:
    """A record from an IG comment object (Graph listing) or a ``comments`` webhook value.

    >>> r = from_instagram_comment({"id": "1", "text": "hi", "timestamp": "2024-05-01T10:00:00+0000",
    ...     "from": {"id": "9", "username": "ana"}}, account="17841", media_id="55")
    >>> (r.platform, r.page, r.post_id, r.author_id, r.author_name)
    ('instagram', '17841', '55', '9', 'ana')
    """
    if not isinstance(item, Mapping):
        raise RowError(Reason("row.comment_not_object", "a comment must be a JSON object"))
    author = item.get("from") if isinstance(item.get("from"), Mapping) else {}
    assert isinstance(author, Mapping)
    username = author.get("username") or item.get("username")
    media = item.get("media") if isinstance(item.get("media"), Mapping) else {}
    assert isinstance(media, Mapping)
    hidden = item.get("hidden")
    row = {
        "id": item.get("id"),
        "created_at": item.get("timestamp") or created_fallback,
        "text": item.get("text") if item.get("text") is not None else "",
        "page": account,
        "post_id": media.get("id") or media_id,
        "parent_id": item.get("parent_id") or parent_id,
        # Instagram-scoped ids are stable per account; the username is only a fallback key.
        "author_id": author.get("id") or username,
        "author_name": username,
        "is_hidden": hidden if isinstance(hidden, bool) else None,
    }
    return from_canonical(row, platform="instagram", source=source)


class InstagramConnector:
    """Acts on one Instagram professional account with a token that can manage its comments."""

    platform = "instagram"

    def __init__(
        self,
        graph: GraphClient,
        account_id: str,
        *,
        username: str | None = None,
        posts_lookback: timedelta | None = POSTS_LOOKBACK,
    ) -> None:
        self.graph = graph
        self.account_id = account_id
        self.username = username
        # ``None`` searches every media of the account for comments in the range.
        self.posts_lookback = posts_lookback

    def __repr__(self) -> str:
        return f"InstagramConnector(account_id={self.account_id!r})"

    def reply(self, comment_platform_id: str, text: str) -> dict[str, Any]:
        return self.graph.post(f"{comment_platform_id}/replies", {"message": _check_text(text)})

    def private_reply(self, comment_platform_id: str, text: str) -> dict[str, Any]:
        return self.graph.post(
            f"{self.account_id}/messages",
            json_body={
                "recipient": {"comment_id": comment_platform_id},
                "message": {"text": _check_text(text)},
            },
        )

    def hide(self, comment_platform_id: str) -> dict[str, Any]:
        return self.graph.post(comment_platform_id, {"hide": True})

    def unhide(self, comment_platform_id: str) -> dict[str, Any]:
        return self.graph.post(comment_platform_id, {"hide": False})

    def delete(self, comment_platform_id: str) -> dict[str, Any]:
        return self.graph.delete(comment_platform_id)

    def check(self) -> dict[str, Any]:
        account = self.graph.get(self.account_id, {"fields": "id,username,name"})
        return {"account": account}

    def post_details(self, post_id: str) -> PostDetails:
        """The media's caption and link, one call: comment webhooks name the media by id only."""
        if not GRAPH_ID.fullmatch(post_id):
            raise ConnectorError(f"not an Instagram media id: {post_id[:40]!r}")
        media = self.graph.get(post_id, {"fields": "caption,permalink"})
        return PostDetails(
            clean_post_message(media.get("caption")), web_link(media.get("permalink"))
        )

    def backfill(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[CommentRecord | Rejected]:
        """The comments and replies written between ``since`` and ``until``, on media published
        up to ``posts_lookback`` before ``since`` (as for Facebook: a new comment on an older post
        belongs to the range)."""
        params: dict[str, Any] = {"fields": MEDIA_FIELDS, "limit": 100}
        oldest_media = posts_since(since, self.posts_lookback)
        if oldest_media is not None:
            params["since"] = int(oldest_media.timestamp())
        if until is not None:
            params["until"] = int(until.timestamp())
        for media in self.graph.paged(f"{self.account_id}/media", params):
            media_id = str(media.get("id") or "")
            if not media_id:
                continue
            # Instagram comments have no web address of their own; their media's is kept as the
            # post's, and the desk says it opens the post, not the comment.
            link = web_link(media.get("permalink"))
            # The caption is how people know the post ("the photo of the new menu").
            caption = clean_post_message(media.get("caption"))
            for item in self.graph.paged(
                f"{media_id}/comments", {"fields": COMMENT_FIELDS, "limit": 50}
            ):
                for found in self._with_replies(item, media_id, since, until):
                    if isinstance(found, CommentRecord):
                        found.post_permalink = link
                        found.post_message = caption
                    yield found

    def _with_replies(
        self,
        item: Mapping[str, Any],
        media_id: str,
        since: datetime | None,
        until: datetime | None,
        parent: str | None = None,
    ) -> Iterator[CommentRecord | Rejected]:
        try:
            record = from_instagram_comment(
                item, account=self.account_id, media_id=media_id, parent_id=parent
            )
        except RowError as exc:
            yield Rejected(f"graph:{media_id}", 0, message_of(exc))
            return
        if in_range(record.created_at, since, until):
            yield record
        for reply in self._replies(item, record.platform_id):
            yield from self._with_replies(reply, media_id, since, until, parent=record.platform_id)

    def _replies(self, item: Mapping[str, Any], comment_id: str) -> Iterator[Mapping[str, Any]]:
        """The replies of a comment: the first page that came with it, then the following pages
        from the ``/replies`` edge."""
        replies = item.get("replies")
        if not isinstance(replies, Mapping) or not isinstance(replies.get("data"), list):
            return
        for reply in replies["data"]:
            if isinstance(reply, Mapping):
                yield reply
        after = _next_cursor(replies.get("paging"))
        if after is None or not replies["data"]:
            return
        yield from self.graph.paged(
            f"{comment_id}/replies", {"fields": REPLY_FIELDS, "limit": 50, "after": after}
        )


def _next_cursor(paging: Any) -> str | None:
    """The ``after`` cursor of a listing that has a next page, or ``None`` on the last page.

    >>> _next_cursor({"cursors": {"after": "QVF"}, "next": "https://g/v21.0/1/replies?after=QVF"})
    'QVF'
    >>> _next_cursor({"cursors": {"after": "QVF"}}) is None
    True
    """
    if not isinstance(paging, Mapping):
        return None
    next_url = paging.get("next")
    if not isinstance(next_url, str) or not next_url:
        return None  # the Graph API leaves ``next`` out on the last page
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, Mapping) else None
    if isinstance(after, str) and after:
        return after
    # Some listings give the cursor only inside the next link; the link itself is not followed,
    # so the token and the configured API are never sent elsewhere.
    values = parse_qs(urlsplit(next_url).query).get("after")
    return values[0] if values else None
