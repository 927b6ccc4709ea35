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
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from crisisdesk import store

if TYPE_CHECKING:
    from crisisdesk.desk import Desk
    from crisisdesk.workflow.canned import CannedIndex

log = logging.getLogger(__name__)


class ReplyIndexes:
    """The reply indexes of a desk's pages, loaded on first use.

    ``computed`` counts the signatures this process had to compute rather than read back.
    """

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.computed = 0
        self._indexes: dict[int, CannedIndex] = {}
        # One lock for loading: two first requests at once must not both pay for the build.
        self._lock = threading.Lock()

    def get(self, page_id: int) -> CannedIndex:
        """The page's index, loaded from the store the first time."""
        index = self._indexes.get(page_id)
        if index is not None:
            return index
        with self._lock:
            index = self._indexes.get(page_id)
            if index is None:
                index = self._load(page_id)
                self._indexes[page_id] = index
        return index

    def add(self, page_id: int, reply_id: int, text: str, published_at: datetime) -> None:
        """Record a reply just published: in the page's index and, for the next start, in the
        store. Call :meth:`get` before the reply is stored, so that it is not loaded and then
        added a second time."""
        from crisisdesk.workflow.canned import SCHEME, signature, to_bytes

        sig = signature(text)
        self.computed += 1
        self.get(page_id).add(str(reply_id), text, published_at, sig=sig)
        self._save(SCHEME, [(reply_id, to_bytes(sig))])

    def forget(self) -> None:
        """Drop the indexes held in memory (the next use loads them again, as after a restart)."""
        with self._lock:
            self._indexes.clear()

    def _load(self, page_id: int) -> CannedIndex:
        # NumPy is imported here, not with the desk: most commands never check a draft.
        from crisisdesk.workflow.canned import (
            SCHEME,
            CannedIndex,
            from_bytes,
            signatures,
            to_bytes,
        )

        with self.desk.session() as s:
            rows = store.published_replies(s, page_id, SCHEME)
        missing = [i for i, row in enumerate(rows) if row.signature is None]
        fresh = signatures([rows[i].text for i in missing])
        self.computed += len(missing)
        blobs = [bytes(row.signature) if row.signature is not None else b"" for row in rows]
        for i, sig in zip(missing, fresh, strict=True):
            blobs[i] = to_bytes(sig)
        if missing:
            log.info("reply index of page %s: %d signatures computed", page_id, len(missing))
            self._save(SCHEME, [(rows[i].id, blobs[i]) for i in missing])
        return CannedIndex.from_signatures(
            [(str(row.id), row.text, row.published_at) for row in rows], from_bytes(blobs)
        )

    def _save(self, scheme: str, items: list[tuple[int, bytes]]) -> None:
        # Stored signatures only save time later: a store that cannot take them now (busy,
        # read-only) must not fail the check or the publication that asked for the index.
        try:
            with self.desk.session() as s, s.begin():
                store.put_reply_signatures(s, scheme, items)
        except SQLAlchemyError:
            log.warning("could not store %d reply signatures", len(items), exc_info=True)
