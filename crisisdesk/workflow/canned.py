"""Near-duplicate detection over a page's reply history: the ``canned`` check.

A reply that is nearly the same text as many earlier ones is the mark of an automated answer, the
thing the playbook says never to send. The question "is this draft close to any of the page's
100,000 earlier replies?" has to be answered while a person waits, so comparing against each one
is out; this is MinHash with LSH banding (Broder 1997; Indyk & Motwani 1998):

- a text becomes a set of character 5-grams of its normalised form (lower case, links, @handles
  and numbers replaced by placeholders, so "Hi @anna, order 1234" and "Hi @marco, order 9876" are
  the same reply). Character shingles keep a one-word change (a different first name) from
  hiding a copy, which word shingles do not on short replies;
- each set is summarised by 64 min-hashes: the share of equal positions between two signatures
  estimates the Jaccard similarity of the sets;
- the 64 values are cut into 16 bands of 4; two texts sharing any band become candidates. With
  these numbers a pair at Jaccard 0.6 is found with probability 0.89, at 0.7 with 0.99, at 0.3
  with 0.12, so the candidates are few and the misses rare around the threshold that matters;
- band keys live in sorted NumPy arrays (one per band) and a lookup is a binary search, so memory
  stays at about 600 bytes per reply and a query costs a few milliseconds at 100,000 replies.
  Replies published after the index was built go to a small buffer compared directly, merged
  into the sorted arrays now and then.

Hashing is NumPy over the UTF-8 bytes with fixed seeds, so the same text gives the same signature
in every process, and signatures can be stored: computing them is most of the cost of a build
(about 10 s per 100,000 replies), so the desk keeps each reply's signature in the store
(:mod:`crisisdesk.workflow.reply_index`) and a restart only reads them back. :data:`SCHEME` names
the way signatures are computed; it changes whenever they would.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

SHINGLE = 5
NUM_PERM = 64
BANDS = 16
ROWS = NUM_PERM // BANDS
# Estimated Jaccard similarity of character 5-gram sets above which a draft counts as canned.
DEFAULT_THRESHOLD = 0.6
MERGE_EVERY = 512
# Stored signatures are compared only with signatures of the same scheme: change this with
# anything that changes a signature (normalise, SHINGLE, NUM_PERM, the seed, the hashing).
SCHEME = "minhash-c5-64-20240501"
PREVIEW_CHARS = 160

_rng = np.random.default_rng(20240501)
_A = _rng.integers(1, 2**63, size=NUM_PERM, dtype=np.uint64) | np.uint64(1)  # odd multipliers
_B = _rng.integers(0, 2**63, size=NUM_PERM, dtype=np.uint64)
_BAND_MIX = _rng.integers(1, 2**63, size=ROWS, dtype=np.uint64) | np.uint64(1)
_POW = np.array([257**i for i in range(SHINGLE - 1, -1, -1)], dtype=np.uint64)
_MAX = np.iinfo(np.uint32).max

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"[@^]\w+")
_DIGITS = re.compile(r"\d+")
_NON_WORD = re.compile(r"[^\w@#]+")

Signature = npt.NDArray[np.uint32]


def normalise(text: str) -> str:
    """The form two replies are compared in.

    >>> normalise("Hi @Anna_B! Order #1234: see https://x.example/a ^JK")
    'hi @ order #0 see url @'
    """
    text = unicodedata.normalize("NFKC", text).lower()
    text = _URL.sub(" url ", text)
    text = _HANDLE.sub(" @ ", text)
    text = _DIGITS.sub("0", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


def signature(text: str) -> Signature:
    """The 64 min-hashes of ``text``'s character 5-gram set (all 2**32-1 for an empty text)."""
    shingles = _shingle_hashes(text)
    if shingles.size == 0:
        return np.full(NUM_PERM, _MAX, dtype=np.uint32)
    hashed = (shingles[:, None] * _A[None, :] + _B[None, :]) >> np.uint64(32)
    return hashed.min(axis=0).astype(np.uint32)


def _shingle_hashes(text: str) -> npt.NDArray[np.uint64]:
    """Scrambled hashes of the character 5-grams of ``text``'s normal form (may repeat)."""
    data = np.frombuffer(normalise(text).encode("utf-8"), dtype=np.uint8).astype(np.uint64)
    if data.size == 0:
        return np.empty(0, dtype=np.uint64)
    if data.size < SHINGLE:
        data = np.concatenate([data, np.zeros(SHINGLE - data.size, dtype=np.uint64)])
    windows = np.lib.stride_tricks.sliding_window_view(data, SHINGLE)
    shingles = windows @ _POW
    return (shingles ^ (shingles >> np.uint64(31))) * np.uint64(0xBF58476D1CE4E5B9)


def signatures(texts: list[str]) -> npt.NDArray[np.uint32]:
    """:func:`signature` of many texts, stacked. (One NumPy pass over a whole chunk of texts
    was tried and measured slower: the (shingles x 64) temporaries outgrow the caches.)

    >>> bool((signatures(["Ciao Anna", ""])[0] == signature("Ciao Anna")).all())
    True
    """
    if not texts:
        return np.empty((0, NUM_PERM), dtype=np.uint32)
    return np.vstack([signature(t) for t in texts])


def to_bytes(sig: Signature) -> bytes:
    """A signature as stored: 64 little-endian 32-bit values."""
    return sig.astype("<u4").tobytes()


def from_bytes(blobs: Sequence[bytes]) -> npt.NDArray[np.uint32]:
    """Stored signatures back as one (n, 64) array.

    >>> sig = signature("Ciao Anna")
    >>> bool((from_bytes([to_bytes(sig)])[0] == sig).all())
    True
    """
    if not blobs:
        return np.empty((0, NUM_PERM), dtype=np.uint32)
    data = np.frombuffer(b"".join(blobs), dtype="<u4").reshape(len(blobs), NUM_PERM)
    return data.astype(np.uint32)


def _band_keys(sigs: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint64]:
    """One 64-bit key per band per row: shape (BANDS, n)."""
    wide = sigs.astype(np.uint64).reshape(sigs.shape[0], BANDS, ROWS)
    keys = (wide * _BAND_MIX[None, None, :]).sum(axis=2, dtype=np.uint64)
    return np.ascontiguousarray(keys.T)


@dataclass(frozen=True)
class Match:
    """The closest earlier reply and how many earlier replies are that close."""

    reply_id: str
    similarity: float
    published_at: datetime | None
    preview: str
    similar_count: int


class CannedIndex:
    """A page's published replies, searchable for near-duplicates.

    >>> index = CannedIndex()
    >>> index.add("1", "Hi Anna, we are sorry for the delay. Please DM us your order number.")
    >>> m = index.nearest("Hi Marco, we are sorry for the delay. Please DM us your order number.")
    >>> m is not None and m.reply_id == "1" and m.similarity > 0.6
    True
    >>> index.nearest("Thank you Marco, the bread is baked every morning at five.") is None
    True
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold
        self._lock = threading.Lock()
        self._ids: list[str] = []
        self._dates: list[datetime | None] = []
        self._previews: list[str] = []
        self._sigs = np.empty((0, NUM_PERM), dtype=np.uint32)
        self._sorted_keys = np.empty((BANDS, 0), dtype=np.uint64)
        self._order = np.empty((BANDS, 0), dtype=np.int64)
        self._pending: list[Signature] = []

    @classmethod
    def from_rows(
        cls, rows: Iterable[tuple[str, str, datetime | None]], threshold: float = DEFAULT_THRESHOLD
    ) -> CannedIndex:
        """Build from ``(id, text, published_at)`` rows in one pass."""
        rows = list(rows)
        return cls.from_signatures(rows, signatures([text for _, text, _ in rows]), threshold)

    @classmethod
    def from_signatures(
        cls,
        rows: Sequence[tuple[str, str, datetime | None]],
        sigs: npt.NDArray[np.uint32],
        threshold: float = DEFAULT_THRESHOLD,
    ) -> CannedIndex:
        """Build from ``(id, text, published_at)`` rows whose signatures are already known
        (``sigs[i]`` is the signature of ``rows[i]``'s text)."""
        index = cls(threshold)
        index.extend(rows, sigs)
        return index

    def extend(
        self, rows: Sequence[tuple[str, str, datetime | None]], sigs: npt.NDArray[np.uint32]
    ) -> None:
        """Add ``(id, text, published_at)`` rows whose signatures are already known, in order."""
        if sigs.shape != (len(rows), NUM_PERM):
            raise ValueError(f"{len(rows)} rows but signatures of shape {sigs.shape}")
        if not rows:
            return
        with self._lock:
            for reply_id, text, published_at in rows:
                self._ids.append(str(reply_id))
                self._dates.append(published_at)
                self._previews.append(_preview(text))
            if len(rows) < MERGE_EVERY:  # a few late replies: as if added one by one
                self._pending.extend(np.asarray(sigs, dtype=np.uint32))
                if len(self._pending) < MERGE_EVERY:
                    return
            else:
                self._pending.append(np.asarray(sigs, dtype=np.uint32))
            self._sigs = np.ascontiguousarray(np.vstack([self._sigs, *self._pending]))
            self._pending = []
            self._rebuild()

    def __len__(self) -> int:
        return len(self._ids)

    def add(
        self,
        reply_id: str,
        text: str,
        published_at: datetime | None = None,
        sig: Signature | None = None,
    ) -> None:
        """Record a newly published reply (``sig``: its signature, if already computed)."""
        sig = signature(text) if sig is None else sig
        with self._lock:
            self._ids.append(str(reply_id))
            self._dates.append(published_at)
            self._previews.append(_preview(text))
            self._pending.append(sig)
            if len(self._pending) >= MERGE_EVERY:
                self._sigs = np.vstack([self._sigs, *self._pending])
                self._pending = []
                self._rebuild()

    def _rebuild(self) -> None:
        keys = _band_keys(self._sigs)
        self._order = np.argsort(keys, axis=1, kind="stable")
        self._sorted_keys = np.take_along_axis(keys, self._order, axis=1)

    def nearest(self, text: str) -> Match | None:
        """The most similar earlier reply at or above the threshold, or None."""
        sig = signature(text)
        if int(sig[0]) == _MAX and bool((sig == _MAX).all()):
            return None
        with self._lock:
            indexed = self._sigs.shape[0]
            query_keys = _band_keys(sig[None, :])[:, 0]
            parts = []
            for band in range(BANDS):
                row = self._sorted_keys[band]
                lo = int(np.searchsorted(row, query_keys[band], side="left"))
                hi = int(np.searchsorted(row, query_keys[band], side="right"))
                if hi > lo:
                    parts.append(self._order[band, lo:hi])
            candidates = np.unique(np.concatenate(parts)) if parts else np.empty(0, np.int64)
            scores = (self._sigs[candidates] == sig[None, :]).mean(axis=1)
            if self._pending:
                pending = np.vstack(self._pending)
                candidates = np.concatenate(
                    [candidates, np.arange(indexed, indexed + len(self._pending))]
                )
                scores = np.concatenate([scores, (pending == sig[None, :]).mean(axis=1)])
            if candidates.size == 0:
                return None
            above = scores >= self.threshold
            count = int(above.sum())
            if count == 0:
                return None
            # Among the equally close, the most recent one is the most telling example.
            best_score = scores.max()
            best = int(candidates[scores == best_score].max())
            return Match(
                reply_id=self._ids[best],
                similarity=round(float(best_score), 3),
                published_at=self._dates[best],
                preview=self._previews[best],
                similar_count=count,
            )


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"
