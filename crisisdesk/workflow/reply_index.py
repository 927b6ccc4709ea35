"""Each page's reply index for the ``canned`` check, kept in memory and backed by the store.

Building a :class:`~crisisdesk.workflow.canned.CannedIndex` is almost all signature computing
(about 10 s per 100,000 replies), and the first person to open a draft after a restart used to
wait for it. So every published reply's signature is stored (table ``reply_signatures``) the
first time it is computed, and loading an index reads the page's replies with their stored
signatures in one query: only replies without one (published before the table existed, or by a
version with another signature scheme) are computed, and then stored, so it happens once.

The index is then kept per page for the life of the process and grows with each reply this
process publishes. Rows are read oldest first, the order in which a live index receives them,
so a loaded index answers exactly as one computed from scratch.

Other processes publish too: a second web worker, ``crisisdesk`` on the command line. So each use
of a page's index first reads the replies published since the newest one it holds (an indexed
range read, migration 0004) and adds those it does not have. The read reaches back
:data:`CATCH_UP_MARGIN` before that newest reply, because a reply is stamped before its
transaction commits: one stamped earlier can become visible later.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from crisisdesk import store

if TYPE_CHECKING:
    from crisisdesk.desk import Desk
    from crisisdesk.workflow.canned import CannedIndex

log = logging.getLogger(__name__)


#: How far before its newest reply an index looks for replies committed late by other processes.
CATCH_UP_MARGIN = timedelta(minutes=10)


@dataclass
class _PageIndex:
    index: CannedIndex
    ids: set[int] = field(default_factory=set)  # the replies it holds
    newest: datetime | None = None  # the latest publication time among them


class ReplyIndexes:
    """The reply indexes of a desk's pages, loaded on first use.

    ``computed`` counts the signatures this process had to compute rather than read back.
    """

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.computed = 0
        self._pages: dict[int, _PageIndex] = {}
        # One lock for loading and catching up: two requests at once must not both pay for the
        # build, nor add the same reply twice.
        self._lock = threading.Lock()

    def get(self, page_id: int) -> CannedIndex:
        """The page's index, loaded from the store the first time, with every reply published
        since by any process."""
        with self._lock:
            page = self._pages.get(page_id)
            if page is None:
                from crisisdesk.workflow.canned import CannedIndex

                page = self._pages[page_id] = _PageIndex(CannedIndex())
                self._read(page_id, page, since=None)
            else:
                since = None if page.newest is None else page.newest - CATCH_UP_MARGIN
                self._read(page_id, page, since=since)
        return page.index

    def add(self, page_id: int, reply_id: int, text: str, published_at: datetime) -> None:
        """Record a reply this process just published: its signature in the store, and the reply
        in the page's index if that is loaded (if not, loading it will read the reply back)."""
        from crisisdesk.workflow.canned import SCHEME, signature, to_bytes

        sig = signature(text)
        self.computed += 1
        self._save(SCHEME, [(reply_id, to_bytes(sig))])
        with self._lock:
            page = self._pages.get(page_id)
            if page is not None and reply_id not in page.ids:
                page.index.add(str(reply_id), text, published_at, sig=sig)
                self._note(page, reply_id, published_at)

    def forget(self) -> None:
        """Drop the indexes held in memory (the next use loads them again, as after a restart)."""
        with self._lock:
            self._pages.clear()

    @staticmethod
    def _note(page: _PageIndex, reply_id: int, published_at: datetime | None) -> None:
        page.ids.add(reply_id)
        if published_at is not None and (page.newest is None or published_at > page.newest):
            page.newest = published_at

    def _read(self, page_id: int, page: _PageIndex, since: datetime | None) -> None:
        """Add to ``page`` the replies published at or after ``since`` (all if None) that it
        does not hold yet, with their stored signatures, computing and storing missing ones."""
        # NumPy is imported here, not with the desk: most commands never check a draft.
        from crisisdesk.workflow.canned import SCHEME, from_bytes, signatures, to_bytes

        with self.desk.session() as s:
            rows = store.published_replies(s, page_id, SCHEME, since=since)
        rows = [row for row in rows if row.id not in page.ids]
        if not rows:
            return
        missing = [i for i, row in enumerate(rows) if row.signature is None]
        fresh = signatures([rows[i].text for i in missing])
        self.computed += len(missing)
        blobs = [bytes(row.signature) if row.signature is not None else b"" for row in rows]
        for i, sig in zip(missing, fresh, strict=True):
            blobs[i] = to_bytes(sig)
        if missing:
            log.info("reply index of page %s: %d signatures computed", page_id, len(missing))
            self._save(SCHEME, [(rows[i].id, blobs[i]) for i in missing])
        page.index.extend(
            [(str(row.id), row.text, row.published_at) for row in rows], from_bytes(blobs)
        )
        for row in rows:
            self._note(page, row.id, row.published_at)

    def _save(self, scheme: str, items: list[tuple[int, bytes]]) -> None:
        # Stored signatures only save time later: a store that cannot take them now (busy,
        # read-only) must not fail the check or the publication that asked for the index.
        try:
            with self.desk.session() as s, s.begin():
                store.put_reply_signatures(s, scheme, items)
        except SQLAlchemyError:
            log.warning("could not store %d reply signatures", len(items), exc_info=True)
