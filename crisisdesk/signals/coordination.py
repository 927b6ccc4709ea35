"""Coordinated groups: the coordination networks, computed as a stream.

The QUT Coordination Network Toolkit links two accounts when they do the same thing within a time
window: repost the same message (``co_retweet``), post the same normalised text (``co_tweet``),
post texts whose token sets have a Jaccard similarity at or above a threshold (``co_similar``),
share the same link (``co_link``) or reply to the same message (``co_reply``). An edge
``user_1 -> user_2`` weighs the number of distinct messages of ``user_1`` for which ``user_2``
posted a matching message within plus or minus the window; loops are left out.

The toolkit computes these as self-joins in SQLite over the whole data set. Here each network is a
streaming component with River's contract: ``learn_one(message)`` updates the state, ``edges()``
reads it. Messages arrive in time order (the CLI sorts a file that is not), so a message older than
the newest one minus the window can never match again and is evicted: the state a component holds
is the messages of one window plus the edge weights. Exact-match networks keep a hash index from
the shared key (repost target, text, link, reply target) to the messages of the window that carry
it; ``co_similar`` compares a new message with the window's messages whose token-set size can
reach the threshold (a size filter before any set operation), which is why it is far faster than
a pairwise join calling a Python similarity function.

Text normalisation follows the toolkit's definitions so that both give the same edges: for
``co_tweet``, lower case, ``@mentions`` removed, whitespace collapsed; for ``co_similar``, the set
of word segments (Unicode default word boundaries, UAX #29, approximated with the standard ``re``
module over character classes built from ``unicodedata``) of the lower-cased text without
mentions, whitespace and stray apostrophes.

On top of the networks, ``CoTiming`` finds bursts of brand-new authors on one page, ``clusters``
groups accounts (connected components of the undirected weighted graph) with the evidence that
joined them, and ``CoordinationMonitor`` runs all of it over the desk's comments, per page, with
its state saved in ``SignalState``, one row per page, so that a restart loses nothing and the
processes sharing the store (the web app, the webhook worker) read each other's pages. The
monitor departs from the toolkit in one way: a new comment is matched with at most
``MAX_MATCHES`` of its window, the newest first, so that a flood of copies costs edges in
proportion to the comments, not to their square (``benchmarks/planted_campaigns.py`` measures
both).
"""

from __future__ import annotations

import bisect
import logging
import math
import pickle
import re
import threading
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from crisisdesk.reasons import Reason

if TYPE_CHECKING:
    from crisisdesk.desk import Desk
    from crisisdesk.ingest.upsert import Ingested

log = logging.getLogger(__name__)

_T = TypeVar("_T")

NETWORKS = ("co_retweet", "co_tweet", "co_similar", "co_link", "co_reply")
STATE_NAME = "coordination"
#: One pickled :class:`PageState` per row ``coordination/page/<id>`` (``1`` was every page in one
#: row: the migration 0009 split those).
STATE_VERSION = "2"


class Message(NamedTuple):
    """One message in the toolkit's terms (a comment, a tweet, a post).

    ``timestamp`` is in seconds; only differences matter. ``first_time`` marks a message whose
    author was never seen before (used by :class:`CoTiming`). A named tuple because files hold
    hundreds of thousands of them and tuples are the cheapest immutable record to build.
    """

    message_id: str
    user_id: str
    timestamp: float
    text: str = ""
    repost_id: str | None = None
    reply_id: str | None = None
    urls: tuple[str, ...] = ()
    username: str = ""
    first_time: bool = False


@dataclass
class Evidence:
    """Why two accounts are linked: which network, what they shared, how close in time."""

    network: str
    shared: str
    user_1: str
    user_2: str
    message_1: str
    message_2: str
    seconds_apart: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "shared": self.shared,
            "user_1": self.user_1,
            "user_2": self.user_2,
            "message_1": self.message_1,
            "message_2": self.message_2,
            "seconds_apart": self.seconds_apart,
        }


# -- text normalisation ------------------------------------------------------------------------

_MENTION = re.compile(r"@\S*")


def normalise_text(text: str) -> str:
    """The co-tweet form of a text: lower case, no @mentions, single spaces.

    >>> normalise_text("  Hello   @Brand WORLD ")
    'hello world'
    """
    return " ".join(_MENTION.sub("", text.lower()).split())


def _ranges(chars: Iterable[int]) -> str:
    """A regex character-class body for a sorted iterable of code points."""
    out: list[str] = []
    start = prev = -2
    for cp in chars:
        if cp == prev + 1:
            prev = cp
            continue
        if start >= 0:
            out.append(_span(start, prev))
        start = prev = cp
    if start >= 0:
        out.append(_span(start, prev))
    return "".join(out)


def _span(a: int, b: int) -> str:
    if a == b:
        return re.escape(chr(a))
    return f"{re.escape(chr(a))}-{re.escape(chr(b))}"


# Scripts written without spaces: UAX #29 breaks them at every character (dictionary-based
# segmentation is out of scope), so they are not word letters here.
_NOT_ALETTER = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x1950, 0x19DF),  # Tai Le, New Tai Lue
    (0x1A20, 0x1AAF),  # Tai Tham
    (0x3005, 0x3007),
    (0x3040, 0x309F),  # Hiragana
    (0x3400, 0x4DBF),  # Han
    (0x4E00, 0x9FFF),
    (0xAA60, 0xAADF),
    (0xF900, 0xFAFF),
    (0x20000, 0x3FFFF),
)
_KATAKANA = (
    (0x30A0, 0x30FF),
    (0x31F0, 0x31FF),
    (0x32D0, 0x32FE),
    (0x3300, 0x3357),
    (0xFF66, 0xFF9D),
)
_MID_LETTER = "\u003a\u00b7\u0387\u055f\u05f4\u2027\ufe13\ufe55\uff1a"
_MID_NUM = (
    "\u002c\u003b\u037e\u0589\u060c\u060d\u066c\u07f8\u2044\ufe10\ufe14\ufe50\ufe54\uff0c\uff1b"
)
_MID_NUM_LET = "\u002e\u2018\u2019\u2024\ufe52\uff07\uff0e\u0027"
_NO_BREAK_SPACES = {0x00A0, 0x2007, 0x202F}


def _in(cp: int, table: tuple[tuple[int, int], ...]) -> bool:
    return any(a <= cp <= b for a, b in table)


@lru_cache(maxsize=1)
def _segment_pattern() -> re.Pattern[str]:
    """Compile the word-segment pattern once, from the Unicode tables of this Python."""
    letters: list[int] = []
    digits: list[int] = []
    extend: list[int] = []
    katakana: list[int] = []
    connectors: list[int] = []
    spaces: list[int] = []
    pictographs: list[int] = []
    # Letters, digits and marks are taken from the Basic Multilingual Plane only: ``re`` turns a
    # class that stays below U+10000 into a bitmap, while a class reaching beyond it is scanned
    # range by range, several times slower. Supplementary-plane letters (rare in posts) fall to
    # the one-character segment; emoji are handled by their own small class.
    for cp in range(0x10000):
        if 0xD800 <= cp <= 0xDFFF or 0xE000 <= cp <= 0xF8FF:
            continue
        ch = chr(cp)
        cat = unicodedata.category(ch)
        if cat == "Cn":
            continue
        if _in(cp, _KATAKANA):
            katakana.append(cp)
        elif cat in ("Mn", "Me", "Mc") or (cat == "Cf" and cp not in (0x200B, 0x200C)):
            extend.append(cp)
        elif cat == "Nd" and not 0xFF10 <= cp <= 0xFF19:
            digits.append(cp)
        elif (cat.startswith("L") or cat == "Nl") and not _in(cp, _NOT_ALETTER):
            letters.append(cp)
        elif cat == "Pc" or cp == 0x202F:
            connectors.append(cp)
        elif cat == "Zs" and cp not in _NO_BREAK_SPACES:
            spaces.append(cp)
        elif 0x2600 <= cp <= 0x27BF:
            pictographs.append(cp)
    pictographs += range(0x1F000, 0x1F1E6)
    pictographs += range(0x1F200, 0x1F3FB)
    pictographs += range(0x1F400, 0x1FB00)
    # Extend characters (combining marks, format characters) join whatever precedes them; they
    # are folded into the letter and digit classes so a word is one character-class run, which
    # keeps the pattern fast. (A mark at the very start of a word is the one case this bends.)
    marks = _ranges(extend)
    # Skin-tone modifiers attach to the emoji before them, like marks.
    ext = f"(?:[{marks}]|[\U0001f3fb-\U0001f3ff])*"
    a = f"[{_ranges(letters)}{marks}]"
    d = f"[{_ranges(digits)}{marks}]"
    u = f"[{_ranges(connectors)}{marks}]"
    k = f"[{_ranges(katakana)}{marks}]"
    ml = f"[{re.escape(_MID_LETTER + _MID_NUM_LET)}]{ext}"
    mn = f"[{re.escape(_MID_NUM + _MID_NUM_LET)}]{ext}"
    letter_run = f"{a}+(?:{ml}{a}+)*"
    digit_run = f"{d}+(?:{mn}{d}+)*"
    word = f"(?:{letter_run}|{digit_run}|{u}+)+"
    kana = f"(?:{u}*{k}+)+{u}*"
    pict = f"[{_ranges(pictographs)}](?:\u200d[{_ranges(pictographs)}]|[{marks}]|[\U0001f3fb-\U0001f3ff])*"
    regional = f"[\U0001f1e6-\U0001f1ff]{{1,2}}{ext}"
    space = f"[{_ranges(spaces)}]+{ext}"
    other = f"(?s:.){ext}"
    return re.compile("|".join((word, kana, regional, pict, space, other)))


# Most texts are plain ASCII, and for them the rules reduce to: letters, digits and underscores
# always join; a middle character joins two letters (``.:'``) or two digits (``.,;'``). One run
# class with look-around on the rare middle characters is several times faster than the Unicode
# pattern.
_ASCII_SEGMENT = re.compile(
    r"[a-z0-9_]+(?:(?<=[a-z])[.:'](?=[a-z])[a-z0-9_]+|(?<=[0-9])[.,;'](?=[0-9])[a-z0-9_]+)*|\S"
)
_QUOTE = frozenset("'")


def token_set(text: str) -> frozenset[str]:
    """The co-similar form of a text: its set of word segments.

    >>> sorted(token_set("Can't STOP, won't stop! @brand http://t.co/x1"))
    ['!', ',', '/', ':', "can't", 'http', 'stop', 't.co', "won't", 'x1']
    """
    clean = text.lower()
    if "@" in clean:
        clean = _MENTION.sub("", clean)
    if clean.isascii():
        tokens = frozenset(_ASCII_SEGMENT.findall(clean))
    else:
        tokens = frozenset(" ".join(_segment_pattern().findall(clean)).split())
    return tokens - _QUOTE if "'" in tokens else tokens


# -- the networks ------------------------------------------------------------------------------


class _Live:
    """A message while it can still match: its partners so far, so each counts once."""

    __slots__ = ("message_id", "user", "ts", "partners", "shown", "home")

    def __init__(
        self, message_id: str, user: str, ts: float, shown: str, home: bool = True
    ) -> None:
        self.message_id = message_id
        self.user = user
        self.ts = ts
        self.partners: set[str] | None = None
        self.shown = shown
        # False for context messages of a parallel slice: they match, but another slice counts them.
        self.home = home


def _too_late(network: Any, ts: float) -> bool:
    """A message more than a window behind the newest one seen is compared with the window but
    not kept: otherwise a history delivered newest first would keep every message (each one
    "late"), each new one compared with all of them, and the timing network would see the whole
    history as one burst of new accounts. Such history is read in time order by the batch
    functions (``compute_edges``)."""
    if ts < network._clock - network.window:
        # getattr: a monitor state saved before the counter existed is restored without it
        network.too_late = getattr(network, "too_late", 0) + 1
        return True
    return False


class CoNetwork:
    """Base of the streaming coordination networks.

    ``window`` is in seconds (matches are inclusive at both ends); ``evidence`` keeps up to
    ``max_evidence`` examples per pair, which the CLI turns off for speed.
    """

    network = "co_network"
    #: Bumped whenever the edges change, so a reader can tell they did not (see
    #: ``CoordinationMonitor.score``). A class default: states saved before it existed read 0.
    version = 0
    #: At most this many of the window's messages, the newest first, are matched with a new one
    #: (None: all of them, the toolkit's definition). The desk's monitor sets it on its networks
    #: (see ``CoordinationMonitor._capped``); a class default, like ``version``.
    max_matches: int | None = None

    def __init__(self, window: float = 60.0, evidence: bool = True, max_evidence: int = 3) -> None:
        if window < 0:
            raise ValueError("window must be >= 0 seconds")
        self.window = window
        self.evidence = evidence
        self.max_evidence = max_evidence
        self._weights: dict[tuple[str, str], int] = {}
        self._evidence: dict[tuple[str, str], list[Evidence]] = {}
        self._last: dict[tuple[str, str], float] = {}
        self._clock = float("-inf")
        self.learned = 0
        self.too_late = 0  # messages compared but not kept: see _too_late

    # River-style API
    def learn_one(self, message: Message) -> None:
        raise NotImplementedError

    def edges(self, min_weight: int = 1) -> dict[tuple[str, str], int]:
        """Directed edges ``(user_1, user_2) -> weight`` with weight >= ``min_weight``."""
        return {pair: w for pair, w in self._weights.items() if w >= min_weight}

    def evidence_for(self, user_1: str, user_2: str) -> list[Evidence]:
        return list(self._evidence.get((user_1, user_2), ()))

    def last_match(self, user_1: str, user_2: str) -> float | None:
        return self._last.get((user_1, user_2))

    @property
    def held(self) -> int:
        """How many messages the window holds now (the memory that does not grow)."""
        raise NotImplementedError

    def forget_before(self, ts: float) -> None:
        """Drop edges whose last match is older than ``ts`` (bounds a long-running monitor)."""
        old = [pair for pair, last in self._last.items() if last < ts]
        if old:
            self.version += 1
        for pair in old:
            self._weights.pop(pair, None)
            self._evidence.pop(pair, None)
            self._last.pop(pair, None)

    def _credit(self, live: _Live, partner: _Live, shared: str) -> None:
        if not live.home:
            return
        if live.partners is None:
            live.partners = {partner.user}
        elif partner.user in live.partners:
            return
        else:
            live.partners.add(partner.user)
        pair = (live.user, partner.user)
        self._weights[pair] = self._weights.get(pair, 0) + 1
        self.version += 1
        if self.evidence:
            self._last[pair] = max(live.ts, partner.ts)
            found = self._evidence.setdefault(pair, [])
            if len(found) < self.max_evidence:
                found.append(
                    Evidence(
                        network=self.network,
                        shared=shared[:300],
                        user_1=live.user,
                        user_2=partner.user,
                        message_1=live.message_id,
                        message_2=partner.message_id,
                        seconds_apart=abs(live.ts - partner.ts),
                    )
                )

    def _match(self, old: _Live, new: _Live, shared: str) -> bool:
        if old.user == new.user or abs(old.ts - new.ts) > self.window:
            return False
        self._credit(old, new, shared)
        self._credit(new, old, shared)
        return True

    def _candidates(self, window: Sequence[_T]) -> Iterable[_T]:
        """The window's entries in the order they are matched: oldest first, or newest first
        when matches are capped (the newest say most about what is happening now)."""
        return window if self.max_matches is None else reversed(window)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(window={self.window!r})"


class KeyedNetwork(CoNetwork):
    """Networks whose match is an equal key: repost target, normalised text, link, reply target."""

    def keys(self, message: Message) -> Iterable[str]:
        raise NotImplementedError

    def __init__(self, window: float = 60.0, evidence: bool = True, max_evidence: int = 3) -> None:
        super().__init__(window, evidence, max_evidence)
        self._index: dict[str, deque[_Live]] = {}
        # Every (timestamp, key, live) in time order, for eviction.
        self._queue: deque[tuple[float, str, _Live]] = deque()

    @property
    def held(self) -> int:
        return len(self._queue)

    def _evict(self) -> None:
        horizon = self._clock - self.window
        queue, index = self._queue, self._index
        while queue and queue[0][0] < horizon:
            _, key, _live = queue.popleft()
            bucket = index[key]
            bucket.popleft()
            if not bucket:
                del index[key]

    def learn_one(self, message: Message) -> None:
        keys = set(self.keys(message))
        if not keys:
            return
        self.learned += 1
        ts = float(message.timestamp)
        late = ts < self._clock
        if not late:
            self._clock = ts
            self._evict()
        too_late = _too_late(self, ts)
        live = _Live(message.message_id, message.user_id, ts, "")
        for key in keys:
            bucket = self._index.get(key)
            if bucket is not None:
                left = self.max_matches
                for old in self._candidates(bucket):
                    if self._match(old, live, key) and left is not None:
                        left -= 1
                        if left == 0:
                            break
            if too_late:
                continue
            if bucket is None:
                bucket = self._index[key] = deque()
            if late:
                # Out of order: keep both the bucket and the queue sorted by time.
                pos = bisect.bisect_right([b.ts for b in bucket], ts)
                bucket.insert(pos, live)
                qpos = bisect.bisect_right([q[0] for q in self._queue], ts)
                self._queue.insert(qpos, (ts, key, live))
            else:
                bucket.append(live)
                self._queue.append((ts, key, live))


class CoRetweet(KeyedNetwork):
    """Accounts reposting the same message."""

    network = "co_retweet"

    def keys(self, message: Message) -> Iterable[str]:
        return (message.repost_id,) if message.repost_id else ()


class CoTweet(KeyedNetwork):
    """Accounts posting the same text (after :func:`normalise_text`); reposts are left out.

    ``min_chars`` ignores short texts (0, the toolkit's behaviour, matches even empty ones); the
    desk uses it so that a dozen people writing "thanks!" are not a campaign.
    """

    network = "co_tweet"

    def __init__(
        self,
        window: float = 60.0,
        evidence: bool = True,
        max_evidence: int = 3,
        min_chars: int = 0,
    ) -> None:
        super().__init__(window, evidence, max_evidence)
        self.min_chars = min_chars

    def keys(self, message: Message) -> Iterable[str]:
        if message.repost_id:
            return ()
        text = normalise_text(message.text)
        return (text,) if len(text) >= self.min_chars else ()


class CoLink(KeyedNetwork):
    """Accounts sharing the same link; links inside reposts are left out."""

    network = "co_link"

    def keys(self, message: Message) -> Iterable[str]:
        return () if message.repost_id else [u for u in message.urls if u]


class CoReply(KeyedNetwork):
    """Accounts replying to the same message; reposts are left out."""

    network = "co_reply"

    def keys(self, message: Message) -> Iterable[str]:
        return (message.reply_id,) if message.reply_id and not message.repost_id else ()


class CoSimilar(CoNetwork):
    """Accounts posting texts whose token sets have Jaccard similarity >= ``similarity``.

    Texts with fewer than ``min_tokens`` tokens match nothing (the toolkit's
    ``--min_document_size_similarity``, 1 by default). Two sets of sizes ``a <= b`` can only reach
    the threshold when ``a / b >= similarity``, so that cheap size test runs before any set
    intersection.
    """

    network = "co_similar"

    def __init__(
        self,
        window: float = 60.0,
        similarity: float = 0.8,
        min_tokens: int = 1,
        evidence: bool = True,
        max_evidence: int = 3,
    ) -> None:
        super().__init__(window, evidence, max_evidence)
        if not 0.0 < similarity <= 1.0:
            raise ValueError("similarity must be in (0, 1]")
        self.similarity = similarity
        self.min_tokens = min_tokens
        # The window, in time order: (timestamp, size, tokens, user, live).
        self._window: deque[tuple[float, int, frozenset[str], str, _Live]] = deque()

    @property
    def held(self) -> int:
        return len(self._window)

    def learn_one(self, message: Message) -> None:
        if message.repost_id:
            return
        self.learn_tokens(message, token_set(message.text))

    def learn_tokens(self, message: Message, tokens: frozenset[str], home: bool = True) -> None:
        """Like :meth:`learn_one` with the token set already computed (batch callers).

        ``home=False`` lets the message match without counting its own edges (see
        :func:`co_similar_edges`)."""
        n = len(tokens)
        if n < self.min_tokens or n == 0:
            return
        self.learned += 1
        ts = float(message.timestamp)
        window = self._window
        late = ts < self._clock
        if not late:
            self._clock = ts
            horizon = ts - self.window
            while window and window[0][0] < horizon:
                window.popleft()
        threshold = self.similarity
        lo = n * threshold
        hi = n / threshold
        user = message.user_id
        live = _Live(message.message_id, user, ts, message.text, home)
        left = self.max_matches
        for old_ts, size, old_tokens, old_user, old in self._candidates(window):
            if size < lo or size > hi or old_user == user:
                continue
            inter = len(tokens & old_tokens)
            # The toolkit's exact float test, so borderline pairs agree with it.
            if inter and inter / (n + size - inter) >= threshold:
                if abs(old_ts - ts) <= self.window:
                    if self._match(old, live, old.shown or live.shown) and left is not None:
                        left -= 1
                        if left == 0:
                            break
        if _too_late(self, ts):
            return
        entry = (ts, n, tokens, user, live)
        if late:
            window.insert(bisect.bisect_right([w[0] for w in window], ts), entry)
        else:
            window.append(entry)


def make_network(
    name: str, window: float, similarity: float = 0.8, evidence: bool = True, **options: Any
) -> CoNetwork:
    """A network component by its toolkit name (``co_similar_tweet`` is accepted too)."""
    if name in ("co_similar", "co_similar_tweet"):
        return CoSimilar(window, similarity=similarity, evidence=evidence, **options)
    classes: dict[str, type[KeyedNetwork]] = {
        "co_retweet": CoRetweet,
        "co_tweet": CoTweet,
        "co_link": CoLink,
        "co_reply": CoReply,
    }
    if name not in classes:
        raise ValueError(f"unknown network {name!r}; choose one of {', '.join(NETWORKS)}")
    return classes[name](window, evidence=evidence, **options)


_SLICE_INPUT: list[Message] = []


def _similar_slice(job: tuple[int, int, int, int, float, float, int]) -> dict[tuple[str, str], int]:
    """Edges counted for the home messages ``[home_lo, home_hi)`` of the shared input, with the
    context ``[lo, hi)`` around them so that every home message meets all its window.

    This is :class:`CoSimilar`'s loop written out flat for the batch case (time-sorted input, no
    evidence): no per-message objects or method calls, which halves its cost. The tests check
    that both give the same edges.
    """
    lo, hi, home_lo, home_hi, window, threshold, min_tokens = job
    messages = _SLICE_INPUT
    known: dict[str, frozenset[str]] = {}
    weights: dict[tuple[str, str], int] = {}
    live: deque[list[Any]] = deque()  # [timestamp, size, tokens, user, partners, home]
    popleft = live.popleft
    min_size = max(1, min_tokens)
    for i in range(lo, hi):
        message = messages[i]
        if message.repost_id:
            continue
        text = message.text
        tokens = known.get(text)
        if tokens is None:
            tokens = known[text] = token_set(text)
        n = len(tokens)
        if n < min_size:
            continue
        ts = message.timestamp
        horizon = ts - window
        while live and live[0][0] < horizon:
            popleft()
        smallest = n * threshold
        largest = n / threshold
        user = message.user_id
        home = home_lo <= i < home_hi
        mine: set[str] | None = None
        for entry in live:
            size = entry[1]
            if size < smallest or size > largest:
                continue
            other = entry[3]
            if other == user:
                continue
            inter = len(tokens & entry[2])
            if not inter or inter / (n + size - inter) < threshold:
                continue
            if entry[5]:
                partners = entry[4]
                if partners is None:
                    entry[4] = {user}
                    weights[(other, user)] = weights.get((other, user), 0) + 1
                elif user not in partners:
                    partners.add(user)
                    weights[(other, user)] = weights.get((other, user), 0) + 1
            if home:
                if mine is None:
                    mine = {other}
                    weights[(user, other)] = weights.get((user, other), 0) + 1
                elif other not in mine:
                    mine.add(other)
                    weights[(user, other)] = weights.get((user, other), 0) + 1
        live.append([ts, n, tokens, user, mine, home])
    return weights


def co_similar_edges(
    messages: Sequence[Message],
    window: float,
    similarity: float = 0.8,
    min_tokens: int = 1,
    min_weight: int = 1,
    jobs: int = 1,
    min_parallel: int = 20_000,
) -> dict[tuple[str, str], int]:
    """Batch co-similar edges of time-sorted ``messages``, on ``jobs`` processes.

    The input is cut into ``jobs`` slices of consecutive messages. Each process streams its slice
    plus one window of context on each side, counting edges only for its own messages; a
    message's weight contribution depends only on the messages within its window, so the summed
    counts equal a single pass exactly. Processes are forked (they share the parsed input), so
    this runs in parallel only where ``fork`` exists; elsewhere, and for small inputs, one pass.
    """
    import gc

    # Hundreds of thousands of small objects and no reference cycles: the cyclic collector would
    # only rescan them again and again (about a quarter of the time). Forked workers inherit this.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _co_similar_edges(
            messages, window, similarity, min_tokens, min_weight, jobs, min_parallel
        )
    finally:
        if was_enabled:
            gc.enable()


def _co_similar_edges(
    messages: Sequence[Message],
    window: float,
    similarity: float,
    min_tokens: int,
    min_weight: int,
    jobs: int,
    min_parallel: int,
) -> dict[tuple[str, str], int]:
    import multiprocessing

    global _SLICE_INPUT
    n = len(messages)
    if jobs <= 1 or n < min_parallel or "fork" not in multiprocessing.get_all_start_methods():
        job = (0, n, 0, n, window, similarity, min_tokens)
        _SLICE_INPUT = list(messages)
        try:
            weights = _similar_slice(job)
        finally:
            _SLICE_INPUT = []
        return {p: w for p, w in weights.items() if w >= min_weight}
    times = [m.timestamp for m in messages]
    bounds = [n * k // jobs for k in range(jobs + 1)]
    jobs_args = []
    for k in range(jobs):
        home_lo, home_hi = bounds[k], bounds[k + 1]
        lo = bisect.bisect_left(times, times[home_lo] - window)
        hi = bisect.bisect_right(times, times[home_hi - 1] + window)
        jobs_args.append((lo, hi, home_lo, home_hi, window, similarity, min_tokens))
    _SLICE_INPUT = list(messages)
    _segment_pattern()  # compiled once, before the fork
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            parts = pool.map(_similar_slice, jobs_args)
    except OSError as exc:  # no semaphores or process limit reached: one pass instead
        log.warning("co_similar: parallel run failed (%s); running in one process", exc)
        parts = [_similar_slice((0, n, 0, n, window, similarity, min_tokens))]
    finally:
        _SLICE_INPUT = []
    total: dict[tuple[str, str], int] = {}
    for part in parts:
        for pair, w in part.items():
            total[pair] = total.get(pair, 0) + w
    return {p: w for p, w in total.items() if w >= min_weight}


def compute_edges(
    messages: Iterable[Message],
    network: str,
    window: float,
    min_weight: int = 1,
    similarity: float = 0.8,
) -> dict[tuple[str, str], int]:
    """Batch form: feed time-sorted ``messages`` to a network and return its edges.

    >>> ms = [Message("1", "a", 0, repost_id="x"), Message("2", "b", 30, repost_id="x")]
    >>> compute_edges(ms, "co_retweet", window=60)
    {('a', 'b'): 1, ('b', 'a'): 1}
    """
    component = make_network(network, window, similarity=similarity, evidence=False)
    for message in messages:
        component.learn_one(message)
    return component.edges(min_weight)


# -- co-timing of brand-new authors ------------------------------------------------------------


@dataclass
class Burst:
    users: list[str]
    messages: list[str]
    start: float
    end: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "users": self.users,
            "messages": self.messages,
            "start": self.start,
            "end": self.end,
            "seconds": self.end - self.start,
        }


class CoTiming:
    """Bursts of first-time authors: more new accounts within ``window`` than the page's usual.

    A busy page sees several first-time authors every few minutes, so the bar adapts: the arrival
    rate of new authors is tracked with an exponential decay of time constant ``baseline``
    seconds, and a burst needs at least ``min_authors`` and at least the expected count plus three
    standard deviations (Poisson). Accounts in one burst are linked pairwise (weight 1 per
    shared burst); overlapping bursts merge.
    """

    network = "co_timing"
    version = 0  # as CoNetwork.version: bumped when the bursts change

    def __init__(
        self,
        window: float = 300.0,
        min_authors: int = 3,
        max_bursts: int = 50,
        baseline: float = 6 * 3600.0,
    ) -> None:
        self.window = window
        self.min_authors = min_authors
        self.max_bursts = max_bursts
        self.baseline = baseline
        self._recent: deque[tuple[float, str, str]] = deque()
        self.bursts: list[Burst] = []
        self._clock = float("-inf")
        self._level = 0.0  # decayed count of first-time authors seen before
        self._level_at = float("-inf")
        self._first = float("-inf")
        self.too_late = 0  # new authors' messages left out: see _too_late

    def threshold(self) -> int:
        """How many new authors in one window make a burst, given the recent rate."""
        # Until a full baseline has been observed, divide by the time seen so far (at least six
        # windows, so the first few comments of a page do not set an absurd rate).
        seen = self._clock - self._first if self._first > float("-inf") else 0.0
        span = min(self.baseline, max(seen, 6 * self.window))
        expected = self._level * self.window / span
        return max(self.min_authors, math.ceil(expected + 3 * math.sqrt(expected)))

    @property
    def held(self) -> int:
        return len(self._recent)

    def learn_one(self, message: Message) -> None:
        if not message.first_time:
            return
        ts = float(message.timestamp)
        if _too_late(self, ts):
            return
        self._clock = max(self._clock, ts)
        if self._first == float("-inf"):
            self._first = ts
        while self._recent and self._recent[0][0] < self._clock - self.window:
            self._recent.popleft()
        self._recent.append((ts, message.user_id, message.message_id))
        # The bar is set by the rate before the window, so a burst does not raise its own bar.
        bar = self.threshold()
        if self._level_at > float("-inf") and self._clock > self._level_at:
            self._level *= math.exp(-(self._clock - self._level_at) / self.baseline)
        self._level += 1.0
        self._level_at = max(self._level_at, self._clock)
        users = {u for _, u, _ in self._recent}
        if len(users) < bar:
            return
        self.version += 1  # a burst starts or grows
        start = min(t for t, _, _ in self._recent)
        last = self.bursts[-1] if self.bursts else None
        if last is not None and start <= last.end + self.window:
            # Sets for the look-ups: a flood of new accounts makes both lists long.
            had_users, had_messages = set(last.users), set(last.messages)
            for _, user, mid in self._recent:
                if user not in had_users:
                    had_users.add(user)
                    last.users.append(user)
                if mid not in had_messages:
                    had_messages.add(mid)
                    last.messages.append(mid)
            last.start = min(last.start, start)
            last.end = max(last.end, ts)
        else:
            self.bursts.append(
                Burst(
                    users=sorted(users),
                    messages=[m for _, _, m in self._recent],
                    start=start,
                    end=ts,
                )
            )
            del self.bursts[: -self.max_bursts]

    def edges(self, min_weight: int = 1) -> dict[tuple[str, str], int]:
        weights: dict[tuple[str, str], int] = {}
        for burst in self.bursts:
            for a in burst.users:
                for b in burst.users:
                    if a != b:
                        weights[(a, b)] = weights.get((a, b), 0) + 1
        return {p: w for p, w in weights.items() if w >= min_weight}

    def forget_before(self, ts: float) -> None:
        kept = [b for b in self.bursts if b.end >= ts]
        if len(kept) != len(self.bursts):
            self.version += 1
        self.bursts = kept


# -- clusters ----------------------------------------------------------------------------------


@dataclass
class Cluster:
    """A group of accounts linked by one or more networks, with why."""

    accounts: list[str]
    networks: dict[str, int]
    weight: int
    evidence: list[dict[str, Any]] = field(default_factory=list)
    first: float | None = None
    last: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "accounts": self.accounts,
            "networks": self.networks,
            "weight": self.weight,
            "evidence": self.evidence,
            "first": self.first,
            "last": self.last,
        }


def clusters(
    components: Sequence[CoNetwork | CoTiming],
    min_weight: int = 1,
    min_size: int = 2,
    max_evidence: int = 8,
) -> list[Cluster]:
    """Connected components of the undirected graph of the content networks' edges
    (``max_evidence=0``: without examples, for a caller that only counts).

    Co-timing does not join accounts by itself: on a busy page several real first-time authors
    arrive within minutes all the time (measured in ``benchmarks/planted_campaigns.py``), so a
    burst only adds evidence to a group that shared content, and its pairs inside the group are
    counted under ``co_timing``.

    >>> net = CoTweet(window=60)
    >>> for i, (u, t) in enumerate([("a", 0), ("b", 5), ("c", 9), ("d", 500)]):
    ...     net.learn_one(Message(str(i), u, t, text="Same words here"))
    >>> [c.accounts for c in clusters([net])]
    [['a', 'b', 'c']]
    """
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    # The flame level reads this after every batch, so the edges are walked twice and no more:
    # once to join the accounts, once, with each account's root looked up once, to sum them up.
    networks = [
        (component, component.edges(min_weight))
        for component in components
        if isinstance(component, CoNetwork)
    ]
    for _, edges in networks:
        for a, b in edges:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[ra] = rb
    roots = {account: find(account) for account in parent}
    groups: dict[str, Cluster] = {}
    for component, edges in networks:
        name, last_of = component.network, component._last
        for (a, b), w in edges.items():
            root = roots[a]
            cluster = groups.get(root)
            if cluster is None:
                cluster = groups[root] = Cluster(accounts=[], networks={}, weight=0)
            cluster.networks[name] = cluster.networks.get(name, 0) + 1
            cluster.weight += w
            if a < b and len(cluster.evidence) < max_evidence:
                for ev in component.evidence_for(a, b)[: max_evidence - len(cluster.evidence)]:
                    cluster.evidence.append(ev.as_dict())
            when = last_of.get((a, b))
            if when is not None:
                if cluster.last is None or when > cluster.last:
                    cluster.last = when
                if cluster.first is None or when < cluster.first:
                    cluster.first = when
    for burst_owner in components:
        if not isinstance(burst_owner, CoTiming):
            continue
        for burst in burst_owner.bursts:
            by_root: dict[str, list[str]] = {}
            for user in burst.users:
                if user in parent:
                    by_root.setdefault(find(user), []).append(user)
            for root, members in by_root.items():
                cluster = groups.get(root)
                if cluster is None or len(members) < 2:
                    continue
                pairs = len(members) * (len(members) - 1)
                cluster.networks["co_timing"] = cluster.networks.get("co_timing", 0) + pairs
                if len(cluster.evidence) < max_evidence:
                    cluster.evidence.append(
                        {"network": "co_timing", **burst.as_dict(), "users": sorted(members)}
                    )
                cluster.first = (
                    burst.start if cluster.first is None else min(cluster.first, burst.start)
                )
                cluster.last = burst.end if cluster.last is None else max(cluster.last, burst.end)
    for account in parent:
        cluster = groups.get(find(account))
        if cluster is not None:
            cluster.accounts.append(account)
    out = [c for c in groups.values() if len(c.accounts) >= min_size]
    for c in out:
        c.accounts.sort()
    out.sort(key=lambda c: (-len(c.accounts), -c.weight, c.accounts))
    return out


# -- reading the toolkit's CSV -----------------------------------------------------------------

TOOLKIT_COLUMNS = (
    "message_id",
    "user_id",
    "username",
    "repost_id",
    "reply_id",
    "message",
    "timestamp",
    "urls",
)


class CoordinationInputError(ValueError):
    """A malformed row or header in a toolkit CSV, with the line it is on (raised with a
    :class:`~crisisdesk.reasons.Reason` when the desk has words for the problem, with the csv
    module's own words otherwise)."""


def read_toolkit_csv(lines: Iterable[str], source: str = "<input>") -> Iterator[Message]:
    """Messages from the toolkit's CSV (header required), in file order.

    Repeated message ids keep their first row, as the toolkit does. Bad rows raise
    :class:`CoordinationInputError` naming ``source:line``.
    """
    import csv

    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise CoordinationInputError(
            Reason(
                "coordination.empty", "{source}: empty file, expected a header row", source=source
            )
        ) from None
    except csv.Error as exc:
        raise CoordinationInputError(f"{source}:1: {exc}") from None
    names = [h.strip().lstrip("\ufeff") for h in header]
    missing = [c for c in TOOLKIT_COLUMNS if c not in names]
    if missing:
        raise CoordinationInputError(
            Reason(
                "coordination.columns",
                "{source}:1: missing column(s) {missing}; expected {expected}",
                source=source,
                missing=", ".join(missing),
                expected=",".join(TOOLKIT_COLUMNS),
            )
        )
    (i_id, i_user, i_name, i_repost, i_reply, i_text, i_ts, i_urls) = (
        names.index(c) for c in TOOLKIT_COLUMNS
    )
    width = len(names)
    seen: set[str] = set()
    try:
        for row in reader:
            if len(row) != width:
                if not row:
                    continue
                raise CoordinationInputError(
                    Reason(
                        "coordination.fields",
                        "{source}:{line}: expected {expected} fields, got {got}",
                        source=source,
                        line=str(reader.line_num),
                        expected=width,
                        got=len(row),
                    )
                )
            message_id = row[i_id]
            user_id = row[i_user]
            try:
                ts = float(row[i_ts])
                if not (message_id and user_id and ts - ts == 0.0):
                    raise ValueError
            except ValueError:
                raise CoordinationInputError(
                    Reason(
                        "coordination.row",
                        "{source}:{line}: {problem}",
                        source=source,
                        line=str(reader.line_num),
                        problem=_row_problem(message_id, user_id, row[i_ts]),
                    )
                ) from None
            if message_id in seen:
                continue
            seen.add(message_id)
            urls = row[i_urls]
            yield Message(
                message_id,
                user_id,
                ts,
                row[i_text],
                row[i_repost] or None,
                row[i_reply] or None,
                tuple(dict.fromkeys(urls.split())) if urls else (),
                row[i_name],
            )
    except csv.Error as exc:
        raise CoordinationInputError(f"{source}:{reader.line_num}: {exc}") from None


def _row_problem(message_id: str, user_id: str, raw_ts: str) -> Reason:
    """Why a row was refused (worked out only once a row fails: the fast path checks all at once)."""
    if not message_id:
        return Reason("coordination.empty_field", "empty {field}", field="message_id")
    if not user_id:
        return Reason("coordination.empty_field", "empty {field}", field="user_id")
    try:
        float(raw_ts)
    except ValueError:
        return Reason(
            "coordination.timestamp",
            "timestamp {value} is not a number of seconds",
            value=repr(raw_ts[:40]),
        )
    return Reason("coordination.infinite", "timestamp must be finite")


def time_sorted(messages: Iterable[Message]) -> list[Message]:
    """The messages in time order (stable: file order breaks ties)."""
    out = list(messages)
    if any(out[i].timestamp > out[i + 1].timestamp for i in range(len(out) - 1)):
        out.sort(key=itemgetter(2))  # the timestamp field
    return out


# -- the desk's monitor ------------------------------------------------------------------------

_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"']+")


def extract_urls(text: str) -> tuple[str, ...]:
    """Links in a comment, normalised (scheme, ``www.`` and trailing punctuation dropped).

    >>> extract_urls("see https://www.Example.com/x?y=1, and www.foo.org.")
    ('example.com/x?y=1', 'foo.org')
    """
    out: list[str] = []
    for match in _URL.findall(text):
        url = match.rstrip(".,;:!?)]}")
        url = re.sub(r"(?i)^https?://", "", url)
        url = re.sub(r"(?i)^www\.", "", url)
        host, sep, rest = url.partition("/")
        url = host.lower() + sep + rest
        if url and url not in out:
            out.append(url)
    return tuple(out)


@dataclass
class PageState:
    """The streaming components of one page."""

    co_tweet: CoTweet
    co_similar: CoSimilar
    co_link: CoLink
    co_reply: CoReply
    co_timing: CoTiming
    last_ts: float = float("-inf")
    swept: float = float("-inf")
    texts: dict[str, str] = field(default_factory=dict)
    #: What the score needs of the clusters (last match, accounts, networks), and the
    #: components' versions it was worked out at (see ``CoordinationMonitor.score``).
    score_memo: tuple[tuple[int, ...], list[tuple[float | None, int, int]]] | None = field(
        default=None, compare=False
    )

    def components(self) -> list[CoNetwork | CoTiming]:
        return [self.co_tweet, self.co_similar, self.co_link, self.co_reply, self.co_timing]


#: The most comments of a window one new comment is matched with by the desk's monitor.
MAX_MATCHES = 10


class CoordinationMonitor:
    """Ingest listener: coordination networks over each page's comments.

    Windows are wider than the toolkit's default minute because comment campaigns on a page
    unfold over minutes; texts shorter than ``min_tokens`` tokens are ignored by the text
    networks (identical "thanks!" is not a campaign). Edges older than ``horizon`` seconds are
    forgotten. ``score(page_id)`` in [0, 1] summarises the recent clusters for the flame
    detector; ``clusters(page_id)`` gives them with their evidence.
    """

    def __init__(
        self,
        desk: Desk,
        *,
        window: float = 900.0,
        similarity: float = 0.6,
        min_tokens: int = 4,
        new_author_window: float = 600.0,
        min_new_authors: int = 4,
        horizon: float = 7 * 24 * 3600.0,
        recent: float = 24 * 3600.0,
        lazy: bool = False,
    ) -> None:
        self.desk = desk
        self.window = window
        self.similarity = similarity
        self.min_tokens = min_tokens
        self.new_author_window = new_author_window
        self.min_new_authors = min_new_authors
        self.horizon = horizon
        self.recent = recent
        self.lazy = lazy
        self.pages: dict[int, PageState] = {}
        # Pages given comments more than a window behind their newest (history imported newest
        # first), or whose saved state another process wrote while this one was learning into
        # it: the streaming networks could not compare those; :meth:`rebuild` can.
        self.pending: set[int] = set()
        self._restored = False
        # The web app reads while an ingest learns: one lock around the pages (see batch).
        self.lock = threading.RLock()
        # The seq of each saved page as this process last read or wrote it, and the pages
        # learnt since they were saved (see sync and save).
        self._seqs: dict[str, int] = {}
        self._unsaved: set[int] = set()
        self._in_batch = 0
        self._replaying = False
        # Pages a replay wrote before its block ended (see write_replayed): not saved again.
        self._replay_written: set[int] = set()
        if not lazy:  # ``lazy``: no database access until first use (for Desk.__init__)
            self._restore()

    def _new_page(self) -> PageState:
        return self._capped(
            PageState(
                co_tweet=CoTweet(self.window, min_chars=12),
                co_similar=CoSimilar(
                    self.window, similarity=self.similarity, min_tokens=self.min_tokens
                ),
                co_link=CoLink(self.window),
                co_reply=CoReply(self.window),
                co_timing=CoTiming(self.new_author_window, self.min_new_authors),
            )
        )

    def _capped(self, state: PageState) -> PageState:
        """Each new comment is matched with at most :data:`MAX_MATCHES` of the window's, the
        newest first. The toolkit links every pair, so a flood of n copies makes n² edges: 2,000
        bots pasting one text in a quarter of an hour held gigabytes and took minutes a batch,
        stalling the desk in the very crisis it is for. Capped, each copy still links to the
        copies before it, so the group is one cluster of the same accounts (the score reads its
        size and networks), with at most ``MAX_MATCHES`` edges per comment."""
        for component in state.components():
            if isinstance(component, CoNetwork):
                component.max_matches = MAX_MATCHES
        return state

    # -- state ---------------------------------------------------------------------------
    #
    # One row per page, ``coordination/page/<id>``, with the number of times it was written
    # (``seq``): the web app, the webhook worker and a sync from cron share the store, and each
    # reloads the pages the others wrote, and writes only the pages it learnt, each over the
    # version it last read (see FlameMonitor, whose saved state works the same way).

    def _restore(self) -> None:
        """Load the saved state; when the schema is not there yet (a Desk is built before
        ``upgrade``), try again on first use."""
        if self._restored:  # learn_one asks at every comment
            return
        from sqlalchemy.exc import SQLAlchemyError

        with self.lock:
            try:
                self._load_moved()
            except SQLAlchemyError:
                log.debug("coordination state not readable yet; will retry on first use")
                return
            self._restored = True

    def sync(self) -> None:
        """Catch up with the pages other processes saved since this monitor last looked: one
        query for the rows' seqs, then the pages that moved, if any."""
        with self.lock:
            if self._replaying:
                return  # the replay's fresh networks are not mixed with stored ones
            if not self._restored:
                self._restore()
            else:
                self._load_moved()

    def _look(self) -> None:
        """Before a read: catch up with the store, except inside a batch, which looked once."""
        if not self._in_batch:
            self.sync()

    def _load_moved(self) -> None:
        from crisisdesk.store import signal_state_seqs, signal_states

        with self.desk.session() as s:
            seqs = signal_state_seqs(s, STATE_NAME)
            moved = [name for name, seq in seqs.items() if self._seqs.get(name) != seq]
            rows = signal_states(s, moved) if moved else []
        self._load(rows)

    def _load(self, rows: Sequence[Any]) -> None:
        """Take the stored version of these pages. One this monitor had learnt comments into
        since it last saved it loses them, and waits for a replay (:attr:`pending`), as does
        one whose row cannot be read."""
        prefix = f"{STATE_NAME}/page/"
        for row in rows:
            self._seqs[row.name] = row.seq
            if not row.name.startswith(prefix) or not row.name[len(prefix) :].isdigit():
                continue  # not a part this version knows
            page_id = int(row.name[len(prefix) :])
            replay = page_id in self._unsaved
            self._unsaved.discard(page_id)
            try:
                if row.version != STATE_VERSION:
                    raise ValueError(f"version {row.version}, want {STATE_VERSION}")
                # The state is written only by this class into the desk's own database.
                self.pages[page_id] = self._capped(pickle.loads(row.state))  # noqa: S301
            except Exception:
                log.exception("coordination state of page %s unreadable: replayed", page_id)
                self.pages.pop(page_id, None)
                replay = True
            if replay:
                self.pending.add(page_id)

    def save(self) -> None:
        """Write the pages learnt since they were last saved, each over the version this monitor
        last read or wrote; a page another process wrote in between is read back instead (see
        :meth:`_load`)."""
        from crisisdesk.store import signal_states, write_signal_state

        with self.lock:
            self._restore()
            if self._replaying or not self._unsaved:
                return  # a replay saves its pages when it ends
            written: dict[int, int] = {}
            lost: list[str] = []
            with self.desk.session() as s, s.begin():
                for page_id in sorted(self._unsaved):
                    state = self.pages.get(page_id)
                    if state is None:
                        continue
                    name = _page_state_name(page_id)
                    seq = self._seqs.get(name, 0)
                    blob = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
                    if write_signal_state(s, name, STATE_VERSION, blob, seq):
                        written[page_id] = seq + 1
                    else:
                        lost.append(name)
            for page_id, seq in written.items():
                self._seqs[_page_state_name(page_id)] = seq
                self._unsaved.discard(page_id)
            if lost:
                with self.desk.session() as s:
                    self._load(signal_states(s, lost))

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Learn and read a batch of comments as one: the pages other processes saved are
        read once, at the start, and the reads inside (the flame level reads the score after
        every comment) do not look again. Other threads wait for the end of the block."""
        with self.lock:
            self.sync()
            self._in_batch += 1
            try:
                yield
            finally:
                self._in_batch -= 1

    # -- learning ------------------------------------------------------------------------

    def on_ingested(self, items: Sequence[Ingested]) -> None:
        fresh = [i for i in items if i.is_new and i.author_id is not None]
        if not fresh:
            return
        fresh.sort(key=lambda i: (i.record.created_at, i.record.platform_id))
        with self.batch():
            for item in fresh:
                self.learn_one(item.page_id, message_from(item))
            self.save()

    def learn_one(self, page_id: int, message: Message) -> None:
        """Learn one comment of ``page_id``; inside :meth:`batch` or :meth:`replaying`, which
        keep other threads from reloading the pages meanwhile."""
        self._restore()
        self._unsaved.add(page_id)
        state = self.pages.get(page_id)
        if state is None:
            state = self.pages[page_id] = self._new_page()
        if message.timestamp < state.last_ts - self.window:
            self.pending.add(page_id)
        for component in state.components():
            component.learn_one(message)
        state.texts[message.message_id] = message.text[:200]
        if message.timestamp > state.last_ts:
            state.last_ts = message.timestamp
            # Forgetting walks every edge, so it runs once per hour of event time, not per message.
            if state.last_ts - state.swept >= 3600.0:
                state.swept = state.last_ts
                cutoff = state.last_ts - self.horizon
                for component in state.components():
                    component.forget_before(cutoff)
        if len(state.texts) > 1000:
            state.texts = dict(list(state.texts.items())[-500:])

    def rebuild(self, page_ids: Iterable[int] | None = None, *, batch: int = 1000) -> int:
        """Replay pages' comments from the store in event-time order into fresh networks, and
        save. Returns how many comments were replayed.

        A history delivered newest first leaves most comments too late for the streaming
        networks (see :func:`_too_late`); in time order every pair within a window is compared.
        """
        from sqlalchemy import select

        from crisisdesk.models import Author, Comment

        query = (
            select(
                Comment.platform_id,
                Comment.page_id,
                Comment.author_id,
                Comment.created_at,
                Comment.text,
                Comment.parent_platform_id,
                Author.platform_id.label("author_platform_id"),
                Author.name,
                Author.first_seen,
            )
            .join(Author, Author.id == Comment.author_id)
            .order_by(Comment.created_at, Comment.platform_id, Comment.id)
        )
        if page_ids is not None:
            page_ids = set(page_ids)
            query = query.where(Comment.page_id.in_(page_ids))
        replayed = 0
        firsts: set[int] = set()
        with self.replaying(page_ids), self.desk.session() as s:
            for row in s.execute(query).yield_per(batch):
                first = is_first_comment(row.author_id, row.first_seen, row.created_at, firsts)
                self.learn_one(row.page_id, message_from_row(row, first_time=first))
                replayed += 1
        return replayed

    @contextmanager
    def replaying(self, page_ids: Iterable[int] | None = None) -> Iterator[None]:
        """Learn into fresh networks for ``page_ids`` (every page when None) while the block
        runs: :meth:`learn_one` writes into them and :meth:`score` reads them, so a signal
        replayed alongside (the flame level) reads each page's score as of the comments replayed
        so far, not as of the page's latest. At the end of the block the fresh networks replace
        the pages' own and are saved; if the block fails the old ones stay.
        """
        wanted = None if page_ids is None else set(page_ids)
        fresh: dict[int, PageState] = {}
        with self.lock:
            self.sync()
            # From here until the end nothing is reloaded or saved, so the pages are written
            # over the versions known now: one saved meanwhile by another process is not
            # overwritten but replayed again (see save).
            saved, self.pages = self.pages, fresh
            self._replaying = True
            self._replay_written = set()
        try:
            yield
        except BaseException:
            with self.lock:
                self.pages = saved
                self._replaying = False
            raise
        with self.lock:
            self.pages = saved
            self._replaying = False
            for page_id in wanted if wanted is not None else set(fresh) | set(saved):
                if page_id in fresh:
                    self.pages[page_id] = fresh[page_id]
                    if page_id not in self._replay_written:
                        self._unsaved.add(page_id)
                self.pending.discard(page_id)
            self._replay_written = set()
            if wanted is not None:
                # Live comments another thread gave other pages meanwhile went to the fresh
                # networks, which are dropped for those pages: they are replayed next.
                self.pending |= set(fresh) - wanted
            self.save()

    def write_replayed(self, s: Any, page_ids: Iterable[int], seqs: dict[int, int]) -> set[int]:
        """Inside :meth:`replaying`: write the fresh networks of ``page_ids`` in ``s``'s
        transaction, each over the seq in ``seqs`` (read by the caller with the comments it
        replayed last), so that a replay alongside (the flame level) saves both states of a page
        together. Returns the pages another process wrote first; call :meth:`replayed_written`
        with the others once the transaction is committed."""
        from crisisdesk.store import write_signal_state

        lost: set[int] = set()
        with self.lock:
            for page_id in sorted(set(page_ids)):
                state = self.pages.get(page_id) if self._replaying else None
                if state is None:
                    continue
                blob = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
                name = _page_state_name(page_id)
                if not write_signal_state(s, name, STATE_VERSION, blob, seqs.get(page_id, 0)):
                    lost.add(page_id)
        return lost

    def replayed_written(self, seqs: dict[int, int]) -> None:
        """The pages :meth:`write_replayed` wrote, with the seqs they were written over: the end
        of the replay does not save them again."""
        with self.lock:
            for page_id, seq in seqs.items():
                self._seqs[_page_state_name(page_id)] = seq + 1
                self._replay_written.add(page_id)
                # Learnt by the replay, and saved now: writing it again at the end of the block
                # could only lose to a process that saved after this write.
                self._unsaved.discard(page_id)

    def replay_seq(self, page_id: int) -> int:
        """The seq a replay's page is written over unless the caller read a newer one."""
        with self.lock:
            return self._seqs.get(_page_state_name(page_id), 0)

    def rebuild_pending(self) -> int:
        """:meth:`rebuild` the pages that received comments out of order, if any."""
        if not self.pending:
            return 0
        return self.rebuild(sorted(self.pending))

    # -- reading -------------------------------------------------------------------------

    def clusters(
        self, page_id: int, since: float | None = None, *, evidence: bool = True
    ) -> list[Cluster]:
        with self.lock:
            self._look()
            state = self.pages.get(page_id)
            if state is None:
                return []
            found = clusters(state.components(), max_evidence=8 if evidence else 0)
            texts = dict(state.texts)
        if since is not None:
            found = [c for c in found if c.last is None or c.last >= since]
        for cluster in found:
            for ev in cluster.evidence:
                for key in ("message_1", "message_2"):
                    mid = ev.get(key)
                    if isinstance(mid, str) and mid in texts:
                        ev[key + "_text"] = texts[mid]
        return found

    def score(self, page_id: int) -> float:
        """How strongly coordinated the page's recent comments look, in [0, 1].

        Each recent cluster contributes by its size (two accounts are weak, five or more strong)
        and by how many networks agree; contributions combine like independent alarms.
        """
        with self.lock:
            self._look()
            return self._score(page_id)

    def _score(self, page_id: int) -> float:
        state = self.pages.get(page_id)
        if state is None:
            return 0.0
        # The flame level reads this after every comment, and most comments add no edge, while
        # the clusters walk every edge of the page's last week: they are worked out again only
        # when the edges changed, and kept as what the score needs.
        basis = tuple(c.version for c in state.components())
        memo = state.score_memo  # the class default for states saved before the memo
        if memo is None or memo[0] != basis:
            found = clusters(state.components(), max_evidence=0)
            memo = state.score_memo = (
                basis,
                [(c.last, len(c.accounts), len(c.networks)) for c in found],
            )
        since = state.last_ts - self.recent
        quiet = 1.0
        for last, accounts, networks in memo[1]:
            if last is not None and last < since:
                continue
            size = min(1.0, (accounts - 1) / 4)
            agreement = min(1.0, 0.6 + 0.2 * (networks - 1))
            quiet *= 1.0 - size * agreement
        return round(1.0 - quiet, 4)

    def accounts(self, page_id: int) -> dict[str, Cluster]:
        """Author platform id -> the cluster it belongs to, for the author card."""
        return {a: c for c in self.clusters(page_id) for a in c.accounts}


def _page_state_name(page_id: int) -> str:
    """The name of a page's row in ``signal_state``."""
    return f"{STATE_NAME}/page/{page_id}"


def _utc(moment: datetime) -> datetime:
    """Stored moments are UTC; a naive one read back is made aware before ``timestamp()``."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def is_first_comment(
    author_id: int | None, first_seen: datetime | None, created: datetime, firsts: set[int]
) -> bool:
    """Whether a stored comment, replayed in event-time order, is its author's first on our
    pages: it is at the author's first moment and no earlier-replayed comment of theirs was (two
    comments in the same second are not both first, as they are not when they arrive)."""
    if author_id is None or first_seen is None or author_id in firsts:
        return False
    if _utc(first_seen) != _utc(created):
        return False
    firsts.add(author_id)
    return True


def message_from_row(row: Any, *, first_time: bool) -> Message:
    """A stored comment (with its author's columns, as :meth:`CoordinationMonitor.rebuild`
    selects them) as a message for the networks."""
    created = _utc(row.created_at)
    return Message(
        message_id=row.platform_id,
        user_id=row.author_platform_id or f"author:{row.author_id}",
        username=row.name or "",
        timestamp=created.timestamp(),
        text=row.text or "",
        reply_id=row.parent_platform_id,
        urls=extract_urls(row.text or ""),
        first_time=first_time,
    )


def message_from(item: Ingested) -> Message:
    """A comment just ingested as a message for the networks."""
    record = item.record
    created: datetime = record.created_at
    return Message(
        message_id=record.platform_id,
        user_id=record.author_id or f"author:{item.author_id}",
        username=record.author_name or "",
        timestamp=created.timestamp(),
        text=record.text,
        reply_id=record.parent_id,
        urls=extract_urls(record.text),
        first_time=item.first_time_author,
    )


def evidence_text(evidence: dict[str, Any], describe: Callable[[str], str] | None = None) -> str:
    """One line for a person: which network, what was shared, how close in time."""
    network = str(evidence.get("network", ""))
    if network == "co_timing":
        return (
            f"{len(evidence.get('users', []))} first-time authors within "
            f"{float(evidence.get('seconds', 0)):.0f} s"
        )
    shared = str(evidence.get("shared", ""))
    seconds = float(evidence.get("seconds_apart", 0))
    return f"{network}: {shared[:120]!r} {seconds:.0f} s apart"
