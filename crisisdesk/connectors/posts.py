"""Naming the post of a live comment: its text and link, asked of the platform once.

A backfill reads each post before its comments, so those comments arrive knowing what their post
says and where it is. Live comments do not: a Facebook comment webhook names its post by id (and
sometimes its link), an Instagram one its media by id, a Mastodon notification the status replied
to, a Bluesky one the thread's root. The desk then showed "post 1234_5678" in the alerts, the crisis
view and the e-mails of exactly the flames that matter most, the ones happening now.

:class:`PostDetailsFiller` fills those records in before they are written, so the first alert
already names the post: for each post that neither the records nor the store know the text and
link of, it asks the page's connector (``post_details``) once. Looking up a post is a courtesy,
never a reason to hold a comment back: a lookup that fails is logged and not retried for an hour,
live lookups make one attempt each with a short timeout, and a batch spends at most a few seconds
on them. A post without any text (a photo without a caption) is asked again at most once an hour
per process.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import select, tuple_

from crisisdesk.connectors import ConnectorError, PerDesk, PostDetails
from crisisdesk.ingest.record import CommentRecord, Rejected
from crisisdesk.models import Page, Post

if TYPE_CHECKING:
    from crisisdesk.desk import Desk

log = logging.getLogger(__name__)

#: A post whose lookup failed, or found no text, is not asked again for this long.
RETRY_SECONDS = 3600.0
#: Live lookups give up on an unresponsive platform quickly: the comments are waiting.
LIVE_TIMEOUT = httpx.Timeout(5.0, connect=3.0)
#: Seconds a batch may spend on lookups; posts left over are asked with a later batch.
BUDGET_SECONDS = 8.0
#: Posts one batch asks about at most (a burst is almost always on one or two posts).
MAX_LOOKUPS = 20
#: A page without a connection is looked for again after this long (it may be connected now).
UNCONNECTED_SECONDS = 60.0
#: Verbs whose records carry a text worth naming the post for.
_NAMED_VERBS = ("add", "edited")

PostKey = tuple[str, str, str]  # platform, page platform id, post platform id


class PostDetailsFiller:
    """Fills in ``post_message`` and ``post_permalink`` of records that lack them."""

    def __init__(
        self,
        desk: Desk,
        *,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.desk = desk
        self.clock = clock
        self._http = http
        self._own_http: httpx.Client | None = None
        self._lock = threading.Lock()
        #: When each post was last asked about without learning its text and link.
        self._asked: dict[PostKey, float] = {}
        #: When each page was found to have no connection to ask with.
        self._unconnected: dict[tuple[str, str], float] = {}

    def fill(self, items: Sequence[CommentRecord | Rejected], connector: Any | None = None) -> int:
        """Complete ``items`` in place; returns how many posts were looked up.

        ``connector`` answers for every record (a fetch that already has one, with its own
        retries); without it each page's stored connection is used, with one attempt per post.
        Never raises: a post it cannot name stays named by its id.
        """
        try:
            return self._fill(items, connector)
        except Exception:  # naming a post must never cost the comments
            log.exception("looking up posts failed; the comments go on without their post's text")
            return 0

    def _fill(self, items: Sequence[CommentRecord | Rejected], connector: Any | None) -> int:
        wanted = _posts_to_name(items)
        if not wanted:
            return 0
        now = self.clock()
        with self._lock:
            if len(self._asked) > 10_000:  # a long-running worker forgets what it may ask again
                self._asked = {k: t for k, t in self._asked.items() if now - t < RETRY_SECONDS}
            for key in list(wanted):
                asked = self._asked.get(key)
                if asked is not None and now - asked < RETRY_SECONDS:
                    del wanted[key]
        for key in self._known(list(wanted)):
            del wanted[key]
        looked = 0
        started = self.clock()
        connectors: dict[tuple[str, str], Any] = {}
        for key, records in list(wanted.items())[:MAX_LOOKUPS]:
            if self.clock() - started > BUDGET_SECONDS:
                break
            platform, page, post_id = key
            source = connector or self._live_connector(platform, page, connectors)
            if source is None or not hasattr(source, "post_details"):
                continue
            looked += 1
            try:
                details: PostDetails = source.post_details(post_id)
            except ConnectorError as exc:
                log.info("could not look up %s post %s: %s", platform, post_id, exc)
                details = PostDetails()
            for record in records:
                record.post_message = record.post_message or details.message
                record.post_permalink = record.post_permalink or details.permalink
            if not (details.message and details.permalink):
                with self._lock:
                    self._asked[key] = self.clock()
        return looked

    def _known(self, keys: list[PostKey]) -> set[PostKey]:
        """The posts the store already knows both the text and the link of."""
        known: set[PostKey] = set()
        if not keys:
            return known
        with self.desk.session() as s:
            for start in range(0, len(keys), 200):
                chunk = keys[start : start + 200]
                rows = s.execute(
                    select(Post.platform, Page.platform_id, Post.platform_id)
                    .join(Page, Page.id == Post.page_id)
                    .where(
                        tuple_(Post.platform, Post.platform_id).in_([(k[0], k[2]) for k in chunk])
                    )
                    .where(Post.message.is_not(None), Post.permalink.is_not(None))
                )
                known.update((row[0], row[1], row[2]) for row in rows)
        return known

    def _live_connector(
        self, platform: str, page: str, built: dict[tuple[str, str], Any]
    ) -> Any | None:
        """A connector for ``page`` that makes one attempt per call with a short timeout, built
        from its stored connection (the desk's own connectors retry for minutes)."""
        from crisisdesk.connectors.secrets import TokenKeyError
        from crisisdesk.connectors.store import build_connector, get_connection

        if (platform, page) in built:
            return built[(platform, page)]
        with self._lock:
            unconnected = self._unconnected.get((platform, page))
        if unconnected is not None and self.clock() - unconnected < UNCONNECTED_SECONDS:
            return None
        connector = None
        connection = get_connection(self.desk, platform, page)
        if connection is None:
            # Pages fed by webhooks without a stored connection (or files) would otherwise cost
            # a query per batch.
            with self._lock:
                self._unconnected[(platform, page)] = self.clock()
        else:
            try:
                connector = build_connector(self.desk, connection, self._client(), patient=False)
            except (TokenKeyError, ConnectorError) as exc:
                log.info("no connector to look up %s posts of %s: %s", platform, page, exc)
        built[(platform, page)] = connector
        return connector

    def _client(self) -> httpx.Client:
        if self._http is not None:
            return self._http
        if self._own_http is None:
            from crisisdesk.connectors.store import USER_AGENT

            self._own_http = httpx.Client(timeout=LIVE_TIMEOUT, headers={"User-Agent": USER_AGENT})
            # The client, not the filler, is what the desk's end closes: the filler refers to
            # the desk and would keep it alive.
            weakref.finalize(self.desk, self._own_http.close)
        return self._own_http


def _posts_to_name(items: Iterable[CommentRecord | Rejected]) -> dict[PostKey, list[CommentRecord]]:
    """The records, by post, that lack their post's text or link."""
    wanted: dict[PostKey, list[CommentRecord]] = {}
    for item in items:
        if (
            isinstance(item, CommentRecord)
            and item.post_id
            and item.page
            and item.verb in _NAMED_VERBS
            and not (item.post_message and item.post_permalink)
        ):
            wanted.setdefault((item.platform, item.page, item.post_id), []).append(item)
    return wanted


#: The one :class:`PostDetailsFiller` of a desk (made on first use).
post_details_for: PerDesk[PostDetailsFiller] = PerDesk(PostDetailsFiller)
