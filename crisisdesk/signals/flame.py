"""Flame early warning: a streaming level per page and per post, with alerts that explain
themselves.

How it works, and why:

- **Event time, not wall-clock time.** Every comment is placed in a five-minute bucket by its
  ``created_at``. Replaying last month's export tells the same story, at the same moments, as
  living through it. A comment that arrives late (up to an hour) counts in the current bucket;
  older stragglers are not counted by the stream, because re-opening a closed bucket would rewrite
  what the detector already said; their pages are replayed from the store instead, in event-time
  order, when the import that brought them ends or, for live deliveries (Meta retrying webhooks
  after an outage), once the deliveries pause (:meth:`FlameMonitor.settle_late`).
- **Volume against the page's own rhythm.** Each page has a :class:`SpikeDetector` learning the
  usual count per bucket for each hour of the day and day of the week; a closed bucket teaches
  it, the open one is scored while it fills up, so a burst is seen before the bucket ends.
- **What the comments are like.** Over a sliding half hour: the share of negative comments
  (and how far above the page's usual share), of offensive ones, of first-time authors, the
  acceleration (the last quarter hour against the one before), how many posts are involved, and
  a coordination score from the authors signal (:meth:`FlameMonitor.coordination_score`, 0 until
  that signal is connected).
- **One number, four levels.** These combine into a *heat* in [0, 1]. Levels ``calm``,
  ``watch``, ``flame``, ``crisis`` are entered above one threshold and left only below a lower
  one, one step at a time and not before a minimum dwell: a level that flaps teaches the team to
  ignore it.
- **Episodes and alerts.** Leaving ``calm`` opens an episode; each level reached for the first
  time in an episode writes one :class:`~crisisdesk.models.Alert` with the evidence and the
  playbook's first move, and notifies the team. Back to ``calm`` closes the episode.
- **State survives a restart, and is shared.** The detector state is saved in ``signal_state``
  (JSON, versioned), one row per page, beside a row for the settings. The web app, the webhook
  worker and a sync from cron each run a monitor on the same store: after a batch each writes
  only the pages that changed, over the version it last read (compare-and-set on the row's
  ``seq``), and before it learns or is read each reloads the pages the others wrote since it
  last looked (one query for the rows' seqs, then only the rows that moved). The store is the
  truth: a page another process wrote while this one was learning into it, and pages whose
  stored comments go beyond what the saved state learnt (a crash before the save), are replayed
  from the stored comments at the next settling. An import open in one process is seen by the
  others in the same query (a row per importing process), and its pages are held everywhere
  until it settles them (:meth:`FlameMonitor.begin_import`).

:class:`FlameDetector` is the pure streaming part (no database: it is what the speed benchmark
replays); :class:`FlameMonitor` connects it to the desk as an ingest listener.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
import zlib
from collections import Counter, deque
from collections.abc import Callable, Container, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from crisisdesk.signals.spikes import SpikeDetector

if TYPE_CHECKING:
    from crisisdesk.signals.coordination import CoordinationMonitor

log = logging.getLogger(__name__)

LEVELS = ("calm", "watch", "flame", "crisis")
STATE_NAME = "flame"
#: One row for the settings and one per page (``flame-1`` was the whole state in one row: the
#: migration 0009 split those).
STATE_VERSION = "flame-2"
#: A process with an import open says so in a row of its own, ``flame/import/<token>``, listing
#: the pages its imports touched: the other processes read it with the seqs of the pages' rows
#: (the same query) and hold those pages' alerts until it settles them (see
#: :meth:`FlameMonitor.begin_import`).
IMPORT_PREFIX = f"{STATE_NAME}/import/"
IMPORT_VERSION = "flame-import-1"
#: The importing process touches its row this often (seconds), from a thread of its own: an import
#: may wait out a platform's rate limits for many minutes between two batches, so only a beat
#: independent of the work tells a slow import from a dead one (as fetches do, see
#: ``crisisdesk.connectors.store``).
IMPORT_BEAT_EVERY = 60.0
#: An import row not touched for this long was left by a process that died: it holds no page any
#: more, and its pages are replayed at the next settling of the process that finds it. Ten beats
#: missed, as for fetches: a beat may wait out a busy SQLite file or a loaded machine a few times.
IMPORT_GONE_AFTER = timedelta(minutes=10)
#: A comment counts as offensive from even odds (the shipped offence model's probabilities are for
#: page comments, about 8% offensive; a backend model's are its own), or when the kind rules made it
#: a troll from an insult or mockery a person can see: on short page comments the model alone is
#: weak (of the 25 trolls in the project's kinds set, 2 reach 0.5).
OFFENSIVE_AT = 0.5
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _offends(offensive: float | None, kind: str | None) -> bool:
    return (offensive or 0.0) >= OFFENSIVE_AT or kind == "troll"


# The playbook's first move, per level, in the languages of the interface.
FIRST_MOVE: dict[str, dict[str, str]] = {
    "watch": {
        "en": "Keep an eye on it: read the newest comments, and hold back from replying in a "
        "hurry.",
        "it": "Tenete d'occhio la pagina: leggete i commenti più recenti e non rispondete di "
        "fretta.",
    },
    # "Who is writing": in a coordinated flame many accounts write once each, so "the three
    # loudest" would point at nobody; the alert's evidence and the author cards say who.
    "flame": {
        "en": "Take 15 minutes before anyone replies; check who is writing (the most active "
        "authors, new accounts, coordinated groups: real customers, fake accounts, "
        "competitors?); prepare the holding reply.",
        "it": "Prendetevi 15 minuti prima di rispondere; controllate chi sta scrivendo (gli "
        "autori più attivi, i profili nuovi, i gruppi coordinati: clienti veri, profili falsi, "
        "concorrenti?); preparate la risposta di attesa.",
    },
    "crisis": {
        "en": "Take 15 minutes, then act: tell the person responsible now; check who is writing "
        "(most active, new, coordinated); publish the holding reply within the hour and move "
        "complaints to private messages.",
        "it": "Prendetevi 15 minuti, poi agite: avvisate subito il responsabile; controllate chi "
        "sta scrivendo (più attivi, nuovi, coordinati); pubblicate la risposta di attesa entro "
        "l'ora e spostate i reclami in privato.",
    },
}


@dataclass
class FlameConfig:
    """Tuning of the flame level. Thresholds are on the heat, in [0, 1]."""

    bucket_minutes: int = 5
    window_buckets: int = 6  # the sliding half hour the shares are computed over
    enter: tuple[float, float, float] = (0.35, 0.55, 0.75)  # watch, flame, crisis
    leave: tuple[float, float, float] = (0.25, 0.45, 0.65)
    min_dwell_minutes: int = 30
    episode_gap_minutes: int = 120  # calm this long closes an episode
    min_comments: int = 10  # in the window, before anything but calm is possible
    late_minutes: int = 60
    max_gap_buckets: int = 2016  # a week; longer silences are skipped, not replayed
    post_idle_days: int = 2
    samples: int = 30

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FlameConfig:
        values: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data.items()
        }
        return cls(**values)


def volume_detector() -> SpikeDetector:
    """The page-volume detector: comment counts are small, so counts are compared on the square
    root scale (Poisson noise is even there) and alarms are not damped (levels have their own
    hysteresis)."""
    return SpikeDetector(transform="sqrt", z_half=3.0, refractory=0, warmup=288, min_scale=0.3)


@dataclass(slots=True)
class Event:
    """One new comment, reduced to what the detector reads."""

    page_id: int
    post_id: int | None
    at: datetime
    negative: bool
    offensive: bool
    first_time: bool
    author: str | None = None
    comment_id: int | None = None
    text: str = ""


@dataclass
class Rise:
    """A level rise: what :class:`FlameMonitor` turns into an alert."""

    page_id: int
    post_id: int | None
    level: str
    previous: str
    episode: str
    at: datetime
    evidence: dict[str, Any]


class _Bucket:
    __slots__ = ("authors", "first", "n", "neg", "off", "posts", "start")

    def __init__(self, start: int) -> None:
        self.start = start  # minutes since the epoch
        self.n = 0
        self.neg = 0
        self.off = 0
        self.first = 0
        self.posts: dict[int, list[int]] = {}  # post id -> [n, neg, off, first]
        self.authors: dict[str, int] = {}

    def to_list(self) -> list[Any]:
        return [
            self.start,
            self.n,
            self.neg,
            self.off,
            self.first,
            {str(k): list(v) for k, v in self.posts.items()},
            dict(self.authors),
        ]

    @classmethod
    def from_list(cls, data: list[Any]) -> _Bucket:
        b = cls(int(data[0]))
        b.n, b.neg, b.off, b.first = (int(v) for v in data[1:5])
        b.posts = {int(k): [int(x) for x in v] for k, v in data[5].items()}
        b.authors = {str(k): int(v) for k, v in data[6].items()}
        return b


@dataclass
class LevelState:
    """The level state machine of one page or one post."""

    level: int = 0
    since: int = 0  # minute of the last change
    episode: str | None = None
    alerted: list[str] = field(default_factory=list)
    heat: float = 0.0
    last_minute: int = 0


def _level_state(data: dict[str, Any]) -> LevelState:
    return LevelState(**{**data, "alerted": list(data.get("alerted", []))})


class _Page:
    """Everything the detector remembers about one page."""

    def __init__(self, page_id: int, config: FlameConfig) -> None:
        self.page_id = page_id
        self.volume = volume_detector()
        self.window: deque[_Bucket] = deque(maxlen=config.window_buckets - 1)
        self.window_n = 0  # comments in the closed buckets of the window
        # Comments per post in the closed buckets of the window, kept incrementally so that
        # counting the posts involved does not walk every bucket at every evaluation.
        self.window_posts: Counter[int] = Counter()
        self.last_minute = 0  # event time of the page's latest comment
        self.current: _Bucket | None = None
        self.level = LevelState()
        self.posts: dict[int, LevelState] = {}
        self.samples: deque[list[Any]] = deque(maxlen=config.samples)
        # Slow averages of the page's usual mix, learnt from closed buckets.
        self.usual_neg = 0.0
        self.usual_n = 0.0
        # Mean comments per bucket for each hour of the day, empty buckets included: the
        # "usual" that explanations quote (the detector's own baseline is on another scale).
        self.rate = [0.0] * 24
        self.rate_seen = [0] * 24
        self.history: deque[list[Any]] = deque(maxlen=288)  # [minute, n, neg, level]
        self.changes: deque[list[Any]] = deque(maxlen=200)  # [minute, level]


def _minute(at: datetime) -> int:
    return int((at - EPOCH).total_seconds() // 60)


def _at(minute: int) -> datetime:
    return EPOCH + timedelta(minutes=minute)


class FlameDetector:
    """The streaming flame level of every page and post, without any storage.

    ``learn_one(event)`` updates the state and returns the level rises it caused (usually none);
    ``flush()`` evaluates every page once more at its latest event time (call it at the end of a
    batch). ``level_of(page_id)`` reads the current level.
    """

    def __init__(
        self,
        config: FlameConfig | None = None,
        *,
        coordination: Callable[[int], float] | None = None,
    ) -> None:
        self.config = config or FlameConfig()
        self.coordination = coordination
        self.pages: dict[int, _Page] = {}
        self.clock = 0  # latest event minute seen, over all pages
        self.dropped: Counter[int] = Counter()  # comments too late to count, per page
        # Pages whose state changed since the owner last saved it (and cleared this): what
        # FlameMonitor writes after a batch.
        self.changed: set[int] = set()

    # -- streaming ----------------------------------------------------------------------------

    def learn_one(self, event: Event) -> list[Rise]:
        cfg = self.config
        page = self.pages.get(event.page_id)
        if page is None:
            page = self.pages[event.page_id] = _Page(event.page_id, cfg)
        minute = _minute(event.at)
        start = minute - minute % cfg.bucket_minutes
        rises: list[Rise] = []
        bucket = page.current
        if bucket is None:
            bucket = page.current = _Bucket(start)
        elif start > bucket.start:
            rises.extend(self._close_until(page, start))
            bucket = page.current
            assert bucket is not None
        elif start < bucket.start and minute < bucket.start - cfg.late_minutes:
            # Too late to count: that bucket is closed and learnt. Counted, so that an import of
            # history out of order can be replayed from the store (FlameMonitor.rebuild).
            self.dropped[event.page_id] += 1
            return rises
        self.changed.add(event.page_id)
        if minute > self.clock:
            self.clock = minute
        if minute > page.last_minute:
            page.last_minute = minute
        bucket.n += 1
        if event.negative:
            bucket.neg += 1
        if event.offensive:
            bucket.off += 1
        if event.first_time:
            bucket.first += 1
        if event.post_id is not None:
            p = bucket.posts.get(event.post_id)
            if p is None:
                bucket.posts[event.post_id] = [
                    1,
                    int(event.negative),
                    int(event.offensive),
                    int(event.first_time),
                ]
            else:
                p[0] += 1
                p[1] += event.negative
                p[2] += event.offensive
                p[3] += event.first_time
        if event.author:
            bucket.authors[event.author] = bucket.authors.get(event.author, 0) + 1
        if event.negative or event.offensive or event.first_time:
            page.samples.append(
                [
                    event.comment_id,
                    event.post_id,
                    max(minute, bucket.start),
                    event.text[:280],
                    event.author,
                    event.negative,
                    event.offensive,
                ]
            )
        return rises

    def flush(self, *, early: bool = True, history: Container[int] = ()) -> list[Rise]:
        """Evaluate every page at its latest event time; idle pages that are not calm move on to
        the latest time seen anywhere, so a flame that went quiet can end.

        ``early=False`` skips the evaluation of the open, half-filled bucket. Live, that early
        look is what warns before a bucket ends; over history it only makes the alerts depend
        on where the batches happened to end, so imports and replays leave it out (closing
        buckets evaluates each one the same whether a flush or the page's next comment does it).
        ``history`` names pages that are receiving history: they skip it too, while the other
        pages are looked at as ``early`` says.
        """
        rises: list[Rise] = []
        for page in self.pages.values():
            if page.current is None:
                continue
            # Most pages a flush looks at are idle and come out of it as they were; telling
            # those apart keeps them out of the save.
            before = None if page.page_id in self.changed else _marks(page)
            if page.level.level > 0 or self._posts_hot(page):
                target = self.clock - self.clock % self.config.bucket_minutes
                if target > page.current.start:
                    rises.extend(self._close_until(page, target))
            if early and page.page_id not in history:
                rises.extend(self._evaluate(page, max(page.current.start, page.last_minute)))
            if before is not None and _marks(page) != before:
                self.changed.add(page.page_id)
        return rises

    def _close_until(self, page: _Page, start: int) -> list[Rise]:
        """Close the open bucket (and empty ones after it) until ``start`` opens."""
        cfg = self.config
        rises: list[Rise] = []
        bucket = page.current
        assert bucket is not None
        gap = (start - bucket.start) // cfg.bucket_minutes
        while bucket.start < start:
            page.current = bucket
            end = bucket.start + cfg.bucket_minutes
            if bucket.n or page.level.level or page.window_n or self._posts_hot(page):
                rises.extend(self._evaluate(page, end))
            page.volume.learn_one({"timestamp": _at(bucket.start), "value": bucket.n})
            hour = (bucket.start // 60) % 24
            seen = page.rate_seen[hour]
            page.rate[hour] += max(0.02, 1.0 / (seen + 1)) * (bucket.n - page.rate[hour])
            page.rate_seen[hour] = seen + 1
            if bucket.n:
                a = 0.01
                page.usual_n += a * (bucket.n - page.usual_n)
                page.usual_neg += a * (bucket.neg - page.usual_neg)
            if len(bucket.authors) > 20:
                # Closed buckets keep their loudest authors only: the evidence names the top
                # three, and the saved state stays small on busy pages.
                bucket.authors = dict(Counter(bucket.authors).most_common(20))
            page.history.append([bucket.start, bucket.n, bucket.neg, page.level.level])
            if len(page.window) == page.window.maxlen:
                old = page.window[0]
                page.window_n -= old.n
                for pid, counts in old.posts.items():
                    left = page.window_posts[pid] - counts[0]
                    if left > 0:
                        page.window_posts[pid] = left
                    else:
                        del page.window_posts[pid]
            page.window.append(bucket)
            page.window_n += bucket.n
            for pid, counts in bucket.posts.items():
                page.window_posts[pid] += counts[0]
            if gap > cfg.max_gap_buckets and bucket.n == 0:
                # A long silence: forget the window and jump, rather than replay weeks of zeros.
                page.window.clear()
                page.window_n = 0
                page.window_posts.clear()
                bucket = _Bucket(start)
                break
            bucket = _Bucket(end)
        page.current = bucket
        self._expire_posts(page)
        return rises

    @staticmethod
    def _posts_hot(page: _Page) -> bool:
        return any(lv.level > 0 for lv in page.posts.values())

    def _expire_posts(self, page: _Page) -> None:
        if len(page.posts) < 64:
            return
        assert page.current is not None
        horizon = page.current.start - self.config.post_idle_days * 1440
        for post_id in [
            k for k, v in page.posts.items() if v.level == 0 and v.last_minute < horizon
        ]:
            del page.posts[post_id]

    # -- evaluation ---------------------------------------------------------------------------

    def _figures(self, page: _Page, now: int) -> dict[str, Any]:
        """The half-hour figures of a page, against its usual."""
        cfg = self.config
        assert page.current is not None
        buckets = [*page.window, page.current]
        n = neg = off = first = recent = 0
        usual = 0.0
        half = len(buckets) // 2
        for i, b in enumerate(buckets):
            n += b.n
            neg += b.neg
            off += b.off
            first += b.first
            if i >= half:
                recent += b.n
            usual += page.rate[(b.start // 60) % 24]
        before = n - recent
        warm = page.volume.n >= page.volume.warmup
        if warm:
            v = page.volume.score_one(
                {"timestamp": _at(page.current.start), "value": page.current.n}
            )
            # A burst that straddles two buckets shows in the window, not in one bucket.
            ratio_score = max(0.0, min(1.0, (n - 2.0 * usual - 4.0) / (4.0 * usual + 12.0)))
            v = max(v, ratio_score)
        else:
            # No rhythm learnt yet: judge the half hour on an absolute scale.
            v = max(0.0, min(1.0, (n - 10.0) / 30.0))
        usual_neg = page.usual_neg / page.usual_n if page.usual_n > 0 else 0.3
        posts: Counter[int] = Counter()
        post_neg: Counter[int] = Counter()
        if v >= 0.2 or self._posts_hot(page):
            for b in buckets:
                for pid, counts in b.posts.items():
                    posts[pid] += counts[0]
                    post_neg[pid] += counts[1]
            n_posts = len(posts)
        else:
            # No post can leave calm without page volume (see heat): only count them.
            wp = page.window_posts
            n_posts = len(wp) + sum(1 for pid in page.current.posts if pid not in wp)
        return {
            "n": n,
            "neg": neg,
            "off": off,
            "first": first,
            "usual": usual if warm else None,
            "volume": v,
            "neg_share": neg / n if n else 0.0,
            "usual_neg_share": usual_neg,
            "off_share": off / n if n else 0.0,
            "first_share": first / n if n else 0.0,
            "accel": max(0.0, min(1.0, (recent - before) / max(before, 3))),
            "posts": posts,
            "n_posts": n_posts,
            "post_neg": post_neg,
            "coordination": self._coordination(page.page_id),
            "minutes": cfg.bucket_minutes * len(buckets),
            "now": now,
        }

    def _coordination(self, page_id: int) -> float:
        if self.coordination is None:
            return 0.0
        try:
            return max(0.0, min(1.0, float(self.coordination(page_id))))
        except Exception:  # a broken input must not stop the flame level
            log.exception("coordination score failed for page %s", page_id)
            return 0.0

    def heat(self, f: dict[str, Any], share_of_page: float = 1.0) -> float:
        """Combine the figures: volume weighs most; negativity decides whether a burst is a flame
        or good news; newcomers, offence, acceleration, spread and coordination add to it.

        >>> det = FlameDetector()
        >>> base = {"n": 40, "volume": 0.9, "neg_share": 0.9, "usual_neg_share": 0.2,
        ...         "off_share": 0.1, "first_share": 0.8, "accel": 1.0, "posts": {1: 40},
        ...         "coordination": 0.0}
        >>> det.heat(base) > 0.75
        True
        >>> det.heat({**base, "neg_share": 0.05, "first_share": 0.1, "off_share": 0.0}) < 0.55
        True
        """
        cfg = self.config
        n = f["n"]
        if n == 0:
            return 0.0
        u = f["usual_neg_share"]
        excess = max(0.0, f["neg_share"] - u) / max(0.2, 1.0 - u)
        tone = min(
            1.0,
            0.5 * f["neg_share"] + 0.3 * excess + 0.3 * f["off_share"] + 0.2 * f["first_share"],
        )
        spread = max(0.0, min(1.0, (f.get("n_posts", len(f["posts"])) - 1) / 4.0))
        heat = (
            0.5 * f["volume"] * share_of_page
            + 0.4 * tone
            + 0.05 * f["accel"]
            + 0.05 * spread
            + 0.15 * f["coordination"]
        )
        # Volume is required: a handful of angry comments is a case, not a flame.
        heat *= min(1.0, n / cfg.min_comments)
        if f["volume"] * share_of_page < 0.2:
            heat = min(heat, cfg.enter[0] - 0.01)
        return max(0.0, min(1.0, heat))

    def _evaluate(self, page: _Page, now: int) -> list[Rise]:
        f = self._figures(page, now)
        rises: list[Rise] = []
        h = self.heat(f)
        rise = self.step(page.level, h, now, f"page:{page.page_id}")
        if rise is not None:
            rises.append(self._rise(page, None, page.level, rise, now, f, h))
        for post_id, count in f["posts"].items():
            lv = page.posts.get(post_id)
            if count < self.config.min_comments and (lv is None or lv.level == 0):
                continue
            if lv is None:
                lv = page.posts[post_id] = LevelState()
            lv.last_minute = now
            pf = dict(f)
            pf["n"] = count
            pf["neg_share"] = f["post_neg"][post_id] / count
            pf["posts"] = {post_id: count}
            pf["n_posts"] = 1
            share = count / f["n"] if f["n"] else 0.0
            ph = self.heat(pf, share_of_page=share)
            rise = self.step(lv, ph, now, f"post:{post_id}")
            if rise is not None:
                rises.append(self._rise(page, post_id, lv, rise, now, pf, ph))
        for post_id, lv in page.posts.items():
            if post_id not in f["posts"] and lv.level > 0:
                self.step(lv, 0.0, now, f"post:{post_id}")
        if page.level.level != (page.changes[-1][1] if page.changes else 0):
            page.changes.append([now, page.level.level])
        return rises

    def step(self, lv: LevelState, heat: float, now: int, key: str) -> int | None:
        """Move a level state machine to ``heat`` at minute ``now``; return the previous level
        when the level rose to one not yet announced in this episode.

        Rises are immediate; falls need the heat below the lower threshold, one level at a
        time, after ``min_dwell_minutes`` at the current level. An episode stays open for
        ``episode_gap_minutes`` after the level is back to calm, so a flame that pauses and
        flares up again is one episode, not a string of repeated alerts.
        """
        cfg = self.config
        lv.heat = heat
        target = 0
        for i, threshold in enumerate(cfg.enter, start=1):
            if heat >= threshold:
                target = i
        if target > lv.level:
            previous = lv.level
            if lv.level == 0 and (lv.episode is None or now - lv.since > cfg.episode_gap_minutes):
                lv.episode = f"{key}:{_at(now).strftime('%Y%m%dT%H%M')}"
                lv.alerted = []
            lv.level = target
            lv.since = now
            if LEVELS[target] in lv.alerted:
                return None
            lv.alerted.append(LEVELS[target])
            return previous
        if lv.level > 0 and heat < cfg.leave[lv.level - 1]:
            if now - lv.since >= cfg.min_dwell_minutes:
                lv.level -= 1
                lv.since = now
        elif lv.level == 0 and lv.episode is not None and now - lv.since > cfg.episode_gap_minutes:
            lv.episode = None
            lv.alerted = []
        return None

    def _rise(
        self,
        page: _Page,
        post_id: int | None,
        lv: LevelState,
        previous: int,
        now: int,
        f: dict[str, Any],
        heat: float,
    ) -> Rise:
        level = LEVELS[lv.level]
        assert lv.episode is not None
        return Rise(
            page_id=page.page_id,
            post_id=post_id,
            level=level,
            previous=LEVELS[previous],
            episode=lv.episode,
            at=_at(now),
            evidence=self._evidence(page, post_id, level, f, heat),
        )

    def _evidence(
        self, page: _Page, post_id: int | None, level: str, f: dict[str, Any], heat: float
    ) -> dict[str, Any]:
        window_start = f["now"] - f["minutes"]
        samples = [
            s for s in page.samples if s[2] >= window_start and (post_id is None or s[1] == post_id)
        ]
        samples.sort(key=lambda s: (not s[5], -s[2]))
        authors: Counter[str] = Counter()
        if post_id is None:
            assert page.current is not None
            for b in [*page.window, page.current]:
                authors.update(b.authors)
        else:
            authors.update(s[4] for s in samples if s[4])
        figures = {
            "comments": f["n"],
            "minutes": f["minutes"],
            "usual_comments": None if f["usual"] is None else round(f["usual"], 1),
            "volume_score": round(f["volume"], 3),
            "negative_share": round(f["neg_share"], 3),
            "usual_negative_share": round(f["usual_neg_share"], 3),
            "offensive_share": round(f["off_share"], 3),
            "first_time_share": round(f["first_share"], 3),
            "acceleration": round(f["accel"], 3),
            "posts": f.get("n_posts", len(f["posts"])),
            "coordination": round(f["coordination"], 3),
            "heat": round(heat, 3),
        }
        return {
            "figures": figures,
            "reasons": _reasons(figures, "en"),
            "reasons_it": _reasons(figures, "it"),
            "samples": [
                {
                    "comment_id": s[0],
                    "post_id": s[1],
                    "at": _at(s[2]).isoformat(),
                    "text": s[3],
                    "author": s[4],
                    "negative": bool(s[5]),
                    "offensive": bool(s[6]),
                }
                for s in samples[:5]
            ],
            # "loudest" means more than one comment: three people with one each are no evidence
            "authors": [
                {"name": name, "comments": n} for name, n in authors.most_common(3) if n > 1
            ],
            "first_move": FIRST_MOVE.get(level, FIRST_MOVE["watch"]),
        }

    # -- reading ------------------------------------------------------------------------------

    def level_of(self, page_id: int, post_id: int | None = None) -> str:
        page = self.pages.get(page_id)
        if page is None:
            return "calm"
        if post_id is None:
            return LEVELS[page.level.level]
        lv = page.posts.get(post_id)
        return LEVELS[lv.level] if lv is not None else "calm"

    def heat_of(self, page_id: int) -> float:
        page = self.pages.get(page_id)
        return page.level.heat if page is not None else 0.0

    def history(self, page_id: int) -> dict[str, Any]:
        """The page's recent buckets ``[start, count, negatives, level]`` and level changes."""
        page = self.pages.get(page_id)
        if page is None:
            return {"buckets": [], "changes": [], "now": None}
        buckets = [[_at(m).isoformat(), n, neg, LEVELS[lv]] for m, n, neg, lv in page.history]
        if page.current is not None:
            c = page.current
            buckets.append([_at(c.start).isoformat(), c.n, c.neg, LEVELS[page.level.level]])
        return {
            "buckets": buckets,
            "changes": [[_at(m).isoformat(), LEVELS[lv]] for m, lv in page.changes],
            "now": buckets[-1][0] if buckets else None,
        }

    # -- persistence --------------------------------------------------------------------------

    def page_state(self, page_id: int) -> dict[str, Any]:
        """What the detector remembers of one page, as JSON-ready data.

        Every list and dict in it is new: a replay keeps one page's state while the page goes on
        learning (see ``_Replay.look``), and a state that shared the page's lists would change
        with it.
        """
        p = self.pages[page_id]
        return {
            "volume": p.volume.to_state(),
            "window": [b.to_list() for b in p.window],
            "current": p.current.to_list() if p.current is not None else None,
            "level": asdict(p.level),
            "posts": {str(k): asdict(v) for k, v in p.posts.items()},
            "samples": [list(x) for x in p.samples],
            "usual_neg": p.usual_neg,
            "usual_n": p.usual_n,
            "rate": list(p.rate),
            "rate_seen": list(p.rate_seen),
            "last_minute": p.last_minute,
            "history": [list(x) for x in p.history],
            "changes": [list(x) for x in p.changes],
        }

    def load_page(self, page_id: int, data: dict[str, Any]) -> None:
        """Replace what the detector remembers of one page with ``data`` (from
        :meth:`page_state`)."""
        p = _Page(page_id, self.config)
        p.volume = SpikeDetector.from_state(data["volume"])
        p.window.extend(_Bucket.from_list(b) for b in data["window"])
        p.window_n = sum(b.n for b in p.window)
        for b in p.window:
            for pid, counts in b.posts.items():
                p.window_posts[pid] += counts[0]
        p.current = _Bucket.from_list(data["current"]) if data["current"] else None
        # copies again, so that ``data`` stays as it was while the page learns
        p.level = _level_state(data["level"])
        p.posts = {int(k): _level_state(v) for k, v in data["posts"].items()}
        p.samples.extend(list(x) for x in data["samples"])
        p.usual_neg = float(data["usual_neg"])
        p.usual_n = float(data["usual_n"])
        p.rate = [float(v) for v in data["rate"]]
        p.rate_seen = [int(v) for v in data["rate_seen"]]
        p.last_minute = int(data["last_minute"])
        p.history.extend(list(x) for x in data["history"])
        p.changes.extend(list(x) for x in data["changes"])
        self.pages[page_id] = p
        # The clock is the latest minute of any page: a page another process moved on moves it.
        self.clock = max(self.clock, p.last_minute)

    def to_state(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "config": self.config.to_dict(),
            "clock": self.clock,
            "pages": {str(pid): self.page_state(pid) for pid in self.pages},
        }

    def load_state(self, state: dict[str, Any]) -> None:
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unknown flame state version {state.get('version')!r}")
        self.config = FlameConfig.from_dict(state["config"])
        self.clock = int(state["clock"])
        self.pages = {}
        self.changed.clear()
        for key, data in state["pages"].items():
            self.load_page(int(key), data)


def _marks(page: _Page) -> tuple[Any, ...]:
    """What evaluating a page may change, to tell whether a flush changed it."""
    lv = page.level
    return (
        page.current.start if page.current is not None else None,
        (lv.level, lv.since, lv.episode, lv.heat),
        tuple(page.changes[-1]) if page.changes else None,
        [(k, p.level, p.since, p.episode, p.heat, p.last_minute) for k, p in page.posts.items()],
    )


def _comma(number: str) -> str:
    """Italian writes 0,5 where English writes 0.5."""
    return number.replace(".", ",")


def _reasons(f: dict[str, Any], lang: str) -> list[str]:
    """The figures that matter, in words."""
    it = lang == "it"
    out: list[str] = []
    n, minutes, usual = f["comments"], f["minutes"], f["usual_comments"]
    if usual is not None and n > max(1.5 * usual, usual + 3):
        ratio = n / max(usual, 0.5)
        if usual < 0.5:  # "12x the usual (0)" reads as a bug; say what it means
            out.append(
                f"{n} commenti in {minutes} minuti, quando di solito non ce n'è quasi nessuno"
                if it
                else f"{n} comments in {minutes} minutes, when there are usually almost none"
            )
        else:
            out.append(
                f"{n} commenti in {minutes} minuti, circa {ratio:.0f} volte il solito "
                f"({_comma(f'{usual:.1f}')})"
                if it
                else f"{n} comments in {minutes} minutes, about {ratio:.0f}x the usual "
                f"({usual:.1f})"
            )
    elif f["volume_score"] >= 0.3:
        out.append(
            f"{n} commenti in {minutes} minuti" if it else f"{n} comments in {minutes} minutes"
        )
    neg, usual_neg = f["negative_share"], f["usual_negative_share"]
    if neg >= 0.4:
        out.append(
            f"{neg:.0%} negativi (di solito {usual_neg:.0%})"
            if it
            else f"{neg:.0%} negative (usually {usual_neg:.0%})"
        )
    if f["offensive_share"] >= 0.1:
        out.append(
            f"{f['offensive_share']:.0%} offensivi"
            if it
            else f"{f['offensive_share']:.0%} offensive"
        )
    if f["first_time_share"] >= 0.3:
        out.append(
            f"{f['first_time_share']:.0%} da autori mai visti prima"
            if it
            else f"{f['first_time_share']:.0%} from first-time authors"
        )
    if f["acceleration"] >= 0.5:
        out.append("in accelerazione" if it else "accelerating")
    if f["posts"] >= 3:
        out.append(f"sparso su {f['posts']} post" if it else f"spread across {f['posts']} posts")
    if f["coordination"] >= 0.3:
        coordination = f"{f['coordination']:.2f}"
        out.append(
            f"segni di coordinamento ({_comma(coordination)})"
            if it
            else f"signs of coordination ({f['coordination']:.2f})"
        )
    return out


def new_in_order(items: Iterable[Any]) -> list[Any]:
    """The new comments of an ingest batch in event-time order. Ties are broken by the
    platform's id, as :meth:`FlameMonitor.rebuild` breaks them, so that samples and loudest
    authors do not depend on the order of the rows in a file."""
    # edits, hides and repeated deliveries are not new volume
    fresh = [item for item in items if item.is_new]
    fresh.sort(key=lambda item: (item.record.created_at, item.record.platform_id))
    return fresh


def event_from(item: Any) -> Event:
    """One ingested comment as a detector event."""
    a = item.analysis
    record = item.record
    return Event(
        page_id=item.page_id,
        post_id=item.post_id,
        at=record.created_at,
        negative=a is not None and a.sentiment == "negative",
        offensive=a is not None and _offends(a.offensive, a.kind),
        first_time=item.first_time_author,
        author=record.author_name or record.author_id,
        comment_id=item.comment_id,
        text=record.text,
    )


def events_from(items: Iterable[Any]) -> list[Event]:
    """New comments of an ingest batch as detector events, in event-time order."""
    return [event_from(item) for item in new_in_order(items)]


@dataclass
class _Import:
    """What the open imports have delivered so far (see :meth:`FlameMonitor.begin_import`):
    one for all of them, since overlapping imports are settled together."""

    # The pages the imports' own batches delivered to (live deliveries add none).
    pages: set[int] = field(default_factory=set)
    # Some author's first comment arrived after a later one: first-time shares already computed
    # on any page of the import may be off, not only on the pages it delivered out of order.
    disorder: bool = False
    # Alerts with a larger id were written during the import.
    last_alert_id: int = 0


#: How many times a replay whose pages another process saved meanwhile takes the comments
#: stored since and writes again, before it leaves them pending (see FlameMonitor.rebuild).
TAIL_ROUNDS = 5


class _Replay:
    """A replay of pages from the store, from its reading of the comments to its write (see
    :meth:`FlameMonitor.rebuild`): what it learnt, and what it needs to go on from there when
    another process saved one of its pages meanwhile."""

    def __init__(
        self,
        fresh: FlameDetector,
        wanted: set[int] | None,
        started: dict[str, int],
        learn: Callable[[FlameDetector, Any, set[int]], list[Rise]],
        reached: set[int],
    ) -> None:
        self.fresh = fresh
        self.wanted = wanted
        self.started = started  # the rows' seqs as the replay began
        self.learn = learn
        # The pages this process's own batches reached while the replay ran: those went into
        # the coordination networks being replayed too, out of order, so the replay of those
        # pages is not carried on but done again (see FlameMonitor._write_replay).
        self.reached = reached
        self.firsts: set[int] = set()  # authors whose first comment was replayed
        self.seen = 0  # the highest comment id read
        self.read: Counter[int] = Counter()  # the comments read, per page
        self.rises: list[Rise] = []  # while learning
        # Each page's state before its open bucket was looked at, and the rises of that look.
        self.before: dict[int, dict[str, Any]] = {}
        self.flushed: dict[int, list[Rise]] = {}
        # The ids of each page's comments learnt near its newest, with their minutes: the ones a
        # comment stored since could still count among (see tail).
        self.recent: dict[int, deque[tuple[int, int]]] = {}
        self.reach = fresh.config.late_minutes + fresh.config.bucket_minutes

    def learn_row(self, detector: FlameDetector, row: Any) -> None:
        self.rises.extend(self.learn(detector, row, self.firsts))
        self.seen = max(self.seen, row.id)
        self.read[row.page_id] += 1
        minute = _minute(_aware(row.created_at))
        recent = self.recent.setdefault(row.page_id, deque())
        recent.append((minute, row.id))
        while recent[0][0] < minute - self.reach:
            recent.popleft()

    def look(self, detector: FlameDetector, pages: Iterable[int]) -> None:
        """The last look at the open buckets of ``pages``, remembering what they were before."""
        for page_id in pages:
            # page_state shares nothing with the page, which the look changes
            self.before[page_id] = detector.page_state(page_id)
            self.flushed[page_id] = []
        for rise in detector.flush():
            self.flushed.setdefault(rise.page_id, []).append(rise)

    def rises_of(self, page_ids: Iterable[int]) -> list[Rise]:
        pages = set(page_ids)
        return [r for r in self.rises if r.page_id in pages] + [
            r for p in sorted(pages) for r in self.flushed.get(p, [])
        ]

    def tail(self, pages: set[int]) -> Any:
        """The condition on stored comments that finds, among those of ``pages``, the ones the
        replay has not read: a larger id than any it read, or (where ids are handed out before
        the rows are committed, as PostgreSQL's sequences are, so a later-committed row may have
        a smaller id) a time recent enough to count and an id it has not seen; :meth:`taken`
        drops those it has."""
        from sqlalchemy import or_

        from crisisdesk.models import Comment

        since = min(self._newest(p) for p in pages) - self.reach
        return Comment.page_id.in_(pages) & or_(
            Comment.id > self.seen, Comment.created_at >= _at(since)
        )

    def _newest(self, page_id: int) -> int:
        recent = self.recent.get(page_id)
        return max(m for m, _ in recent) if recent else 0

    def taken(self, rows: Sequence[Any]) -> list[Any]:
        """The rows of :meth:`tail` not learnt yet."""
        known = {cid for recent in self.recent.values() for _, cid in recent}
        since = {p: self._newest(p) - self.reach for p in self.recent}
        return [
            row
            for row in rows
            if row.id not in known
            and (row.id > self.seen or _minute(_aware(row.created_at)) >= since.get(row.page_id, 0))
        ]

    def missed(self, s: Any, pages: set[int]) -> set[int]:
        """The pages with a stored comment the replay has not read among those of an id up to
        the largest it read: where ids are handed out before the rows are committed, one that
        committed after the replay read, and too old for :meth:`tail` to look for."""
        from sqlalchemy import func, select

        from crisisdesk.models import Comment

        stored = s.execute(
            select(Comment.page_id, func.count())
            .where(Comment.page_id.in_(pages), Comment.id <= self.seen)
            .group_by(Comment.page_id)
        ).all()
        return {page_id for page_id, n in stored if n > self.read[page_id]}

    def take_tail(self, pages: set[int], rows: Sequence[Any]) -> set[int]:
        """Learn the comments stored after the replay read (``rows``, in event-time order) into
        ``pages``, going on from their state before the last look at the open bucket, and look
        again. Returns the pages some of them came too late to count on."""
        tail = FlameDetector(self.fresh.config, coordination=self.fresh.coordination)
        tail.clock = self.fresh.clock
        for page_id in pages:
            tail.load_page(page_id, self.before[page_id])
        for row in rows:
            self.learn_row(tail, row)
        self.look(tail, pages)
        self.fresh.pages.update(tail.pages)
        self.fresh.clock = max(self.fresh.clock, tail.clock)
        return set(tail.dropped)


class FlameMonitor:
    """The flame detector wired to a desk: an ingest listener that stores its state and writes
    and announces alerts.

    ``monitor = FlameMonitor(desk); desk.listeners.append(monitor.on_ingested)``.
    """

    def __init__(self, desk: Any, config: FlameConfig | None = None) -> None:
        self.desk = desk
        self.detector = FlameDetector(config, coordination=self.coordination_score)
        # Webhook deliveries and imports may ingest from several threads, and the web app
        # reads while they do: one lock around the detector.
        self.lock = threading.RLock()
        # Set by the coordination signal: page id -> score in [0, 1].
        self.coordination_source: Callable[[int], float] | None = None
        # The desk's coordination networks, when this monitor feeds them (see on_ingested).
        self.coordination_monitor: CoordinationMonitor | None = None
        # The open imports share one scope; it is settled when the last of them ends.
        self._import: _Import | None = None
        self._imports_open = 0
        # How many import blocks are open on each thread: the listener runs in the thread that
        # ingests, so this is what tells an import's batches from live ones (webhooks) that
        # another thread ingests meanwhile.
        self._here = threading.local()
        # Set while the last import's replay runs: an import that begins meanwhile waits for it,
        # so that its rows are not half seen by a replay that then replaces the pages' state.
        self._settling = False
        self._settled = threading.Condition(self.lock)
        # Pages that received comments too far out of event-time order to count.
        self.pending: set[int] = set()
        # For each replay running (see rebuild), the pages this process's own batches reached
        # meanwhile.
        self._replays: list[set[int]] = []
        self.announce_within_hours = 6.0
        # The saved state is read on first use, not here: a desk builds its monitor before
        # the schema is created or upgraded.
        self._restored = False
        # The seq of each saved row as this process last read or wrote it (see _sync).
        self._seqs: dict[str, int] = {}
        # Pages given comments since they were last saved: if another process writes one of
        # them first, this process's version is not written and the page is replayed instead.
        self._learnt: set[int] = set()
        # The row of the settings, read and found unreadable: written again at the next save.
        self._settings_unsaved = False
        # This process's row saying which pages its open imports touched (see begin_import):
        # one name for the monitor's life, its seq as last written (0: not in the store) and
        # the pages it lists; the pages being written, until the transaction commits; the
        # thread that keeps it fresh, and the event that stops it.
        self._mark_name = f"{IMPORT_PREFIX}{uuid.uuid4().hex}"
        self._mark_seq = 0
        self._mark_pages: frozenset[int] = frozenset()
        self._mark_writing: frozenset[int] = frozenset()
        self._beat: tuple[threading.Thread, threading.Event] | None = None
        # The imports other processes have open: their row's name -> the pages they touched.
        self._elsewhere: dict[str, frozenset[int]] = {}
        # Pages of imports found abandoned, held until a replay here gives them the state of
        # their stored comments (they are in pending until then).
        self._orphaned: set[int] = set()
        # Alerts this process wrote on a page held for another process's import and did not
        # announce: id -> page. The importing process's settling announces them if they still
        # stand; those it could not (written after it looked, or its process died) are
        # announced here once the page is free (see _release_held).
        self._held_for_others: dict[int, int] = {}
        # Alerts with a larger id were written since this process first saw another's import:
        # what was announced among them is not announced again from a held alert.
        self._held_mark: int | None = None

    def _coordination_batch(self) -> AbstractContextManager[None]:
        """While the detector learns and flushes, the coordination networks are held as one
        batch (see :meth:`CoordinationMonitor.batch`): checked against the store once, not at
        every score the level reads."""
        coordination = self.coordination_monitor
        return coordination.batch() if coordination is not None else nullcontext()

    def coordination_score(self, page_id: int) -> float:
        """How coordinated the authors on ``page_id`` look right now, in [0, 1]; 0 until the
        coordination signal provides :attr:`coordination_source`."""
        if self.coordination_source is None:
            return 0.0
        return float(self.coordination_source(page_id))

    # -- listener -----------------------------------------------------------------------------

    def on_ingested(self, items: Sequence[Any]) -> None:
        from crisisdesk.signals.coordination import message_from

        rises: list[Rise] = []
        fresh = new_in_order(items)
        coordination = self.coordination_monitor
        with self.lock:
            # Other processes (the webhook worker, a sync from cron) may have saved pages since
            # this one last looked: go on from their versions, not from this process's older ones.
            self._sync()
            with self._coordination_batch():
                for item in fresh:
                    # The coordination networks learn each comment just before the flame level
                    # does, so the score the level reads is the one as of that comment, as in a
                    # replay, however the comments were batched.
                    if coordination is not None and item.author_id is not None:
                        try:
                            coordination.learn_one(item.page_id, message_from(item))
                        except Exception:  # a broken signal must not stop the flame level
                            log.exception("coordination failed; the flame level goes on without it")
                            coordination = None
                    rises.extend(self.detector.learn_one(event_from(item)))
                self._learnt.update(item.page_id for item in fresh)
                for reached in self._replays:
                    reached.update(item.page_id for item in fresh)
                if coordination is not None and fresh:
                    coordination.save()
                scope = self._import
                # Pages whose alerts wait for the settling and whose open bucket is not looked
                # at early: those the open imports have touched, but not the ones this batch
                # delivers live to (see begin_import).
                held: set[int] = set()
                delivered = {item.page_id for item in fresh}
                if scope is not None:
                    if self.importing_here:
                        scope.pages |= delivered
                        held = set(scope.pages)
                    else:
                        held = scope.pages - delivered
                    # A live comment may be an author's earlier one too; the replay it calls for
                    # is still of the imports' pages only.
                    scope.disorder = scope.disorder or any(
                        getattr(item, "precedes_author", False) for item in fresh
                    )
                # The pages other processes are importing, held by the same rule: their
                # settling replays them and announces.
                for_others = self._held_elsewhere() - delivered - held
                held |= for_others
                rises.extend(self.detector.flush(history=held))
            created = self._write(rises)
            if self.detector.dropped:
                self.pending.update(self.detector.dropped)
                log.info(
                    "flame: %d comments arrived out of event-time order on pages %s; "
                    "they are replayed when the import ends or deliveries quiet down "
                    "(crisisdesk flame --rebuild does it by hand)",
                    sum(self.detector.dropped.values()),
                    sorted(self.detector.dropped),
                )
                self.detector.dropped.clear()
            self._hold_for_others(a for a in created if a["page_id"] in for_others)
            due = self._claim_recent([a for a in created if a["page_id"] not in held])
            due += self._release_held()
        for alert in due:
            self._announce(alert)

    def _claim_recent(self, alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The alerts of ``alerts`` to announce now: recent, and not announced yet. They are
        marked announced before they go out, with the lock held, so that a live batch and the
        settling of the imports never both announce one, and the replay never replaces one the
        team may have seen (see :meth:`_replace`)."""
        # History does not page anyone: a flame of last month is news for the alerts page, not
        # for the team's phones.
        now = self.desk.clock()
        recent = [a for a in alerts if now - a["at"] <= timedelta(hours=self.announce_within_hours)]
        if not recent:
            return []
        from sqlalchemy import update

        from crisisdesk.models import Alert

        # One statement marks and answers, so that two processes claiming the same alert (an
        # import's settling, and a live batch elsewhere releasing what it held) get it once.
        with self.desk.session() as s, s.begin():
            unannounced = set(
                s.scalars(
                    update(Alert)
                    .where(Alert.id.in_([a["id"] for a in recent]), Alert.announced_at.is_(None))
                    .values(announced_at=now)
                    .returning(Alert.id)
                    .execution_options(synchronize_session=False)
                )
            )
        return [a for a in recent if a["id"] in unannounced]

    # -- imports open in other processes -------------------------------------------------------

    def _held_elsewhere(self) -> set[int]:
        """The pages the imports of other processes have touched, as of the last look, and
        those of abandoned imports not replayed yet."""
        self._orphaned &= self.pending
        return set().union(self._orphaned, *self._elsewhere.values())

    def _hold_for_others(self, alerts: Iterable[dict[str, Any]]) -> None:
        """Keep note of alerts held for another process's import (see _release_held)."""
        for alert in alerts:
            self._held_for_others[alert["id"]] = alert["page_id"]

    def _release_held(self) -> list[dict[str, Any]]:
        """The alerts held for other processes' imports whose pages are free now (the import
        ended, or its process was found dead and the page has been replayed since), to
        announce: those still standing, not announced yet, and of a level the team was not told
        of on that page or post meanwhile. Call with :attr:`lock` held, after a look at the
        store."""
        if not self._held_for_others:
            if not self._elsewhere:
                self._held_mark = None
            return []
        busy = self._held_elsewhere() | self.pending
        free = [i for i, page in self._held_for_others.items() if page not in busy]
        if not free:
            return []
        for alert_id in free:
            del self._held_for_others[alert_id]
        told = self._told_since(self._held_mark or 0)
        due = self._claim_recent([a for a in self._unannounced(free) if _told_key(a) not in told])
        if not self._held_for_others and not self._elsewhere:
            self._held_mark = None
        return due

    def _look_at_imports(self, rows: dict[str, tuple[int, datetime]]) -> None:
        """Follow the imports other processes have open, given their rows' seqs and times (the
        rows themselves were read by _load). A row gone means its import ended, or another
        process found it abandoned. A row not touched for :data:`IMPORT_GONE_AFTER` is
        abandoned: its process may have died halfway through the pages' history, so they join
        :attr:`pending`, and stay held until the next settling here replays them (the webhook
        processor's, within minutes: see :attr:`out_of_order`); the row is deleted, unless its
        process touched it meanwhile."""
        from crisisdesk.models import utcnow

        for name in [n for n in self._elsewhere if n not in rows]:
            del self._elsewhere[name]
            self._seqs.pop(name, None)
        now = utcnow()
        abandoned = [n for n, (_, at) in rows.items() if now - _aware(at) > IMPORT_GONE_AFTER]
        for name in abandoned:
            pages = self._elsewhere.pop(name, frozenset())
            self._seqs.pop(name, None)
            log.warning(
                "flame: an import of pages %s left by a process that stopped; they are replayed",
                sorted(pages),
            )
            self.pending |= pages
            self._orphaned |= pages
        if abandoned:
            from crisisdesk.store import drop_signal_state

            with self.desk.session() as s, s.begin():
                for name in abandoned:
                    drop_signal_state(s, name, untouched_since=now - IMPORT_GONE_AFTER)
        if self._elsewhere and self._held_mark is None:
            self._held_mark = self._last_alert_id()

    def _mark_rows(self, s: Any) -> dict[str, int]:
        """Write this process's import row in ``s``'s transaction if the pages its imports
        touched are not those it lists: in the transaction that saves those pages' states, so
        that no other process reads a page an import saved without reading that it is being
        imported. Returns the row's new seq, by name, if written."""
        from crisisdesk.store import write_signal_state

        scope = self._import
        if scope is None or not scope.pages or scope.pages == self._mark_pages:
            return {}
        self._mark_writing = frozenset(scope.pages)
        blob = zlib.compress(json.dumps({"pages": sorted(scope.pages)}).encode("utf-8"))
        seq = self._mark_seq
        if not write_signal_state(s, self._mark_name, IMPORT_VERSION, blob, seq):
            # Taken for abandoned by another process (a beat too late): this one is alive, so
            # the row goes back; that process replays the pages it listed, which does no harm.
            seq = 0
            if not write_signal_state(s, self._mark_name, IMPORT_VERSION, blob, seq):
                log.warning("flame: the row of the open import could not be written")
                return {}
        return {self._mark_name: seq + 1}

    def _start_beat(self) -> None:
        """Touch this process's import row every :data:`IMPORT_BEAT_EVERY` seconds until
        :meth:`_drop_mark`."""
        if self._beat is not None:
            return
        from crisisdesk.store import touch_signal_state

        stop = threading.Event()
        name = self._mark_name

        def beat() -> None:
            while not stop.wait(IMPORT_BEAT_EVERY):
                try:
                    with self.desk.session() as s, s.begin():
                        touch_signal_state(s, name)
                except Exception as exc:  # a busy or unreachable store: the next beat may do
                    log.warning("flame: could not say the import is still open: %s", exc)

        thread = threading.Thread(target=beat, name="flame-import-beat", daemon=True)
        thread.start()
        self._beat = (thread, stop)

    def _drop_mark(self) -> None:
        """The imports here are settled: delete their row, and stop touching it."""
        from crisisdesk.store import drop_signal_state

        with self.lock:
            beat, self._beat = self._beat, None
            if self._mark_seq:
                with self.desk.session() as s, s.begin():
                    drop_signal_state(s, self._mark_name)
                self._mark_seq = 0
                self._mark_pages = frozenset()
        if beat is not None:
            thread, stop = beat
            stop.set()
            thread.join()

    def _last_alert_id(self) -> int:
        from sqlalchemy import func, select

        from crisisdesk.models import Alert

        with self.desk.session() as s:
            return s.scalar(select(func.max(Alert.id))) or 0

    def _told_since(self, last_id: int) -> set[tuple[int, int | None, str]]:
        """Page, post and level of the alerts written after ``last_id`` that the team was told
        of, by this process or another. A replay may date a flame's episode differently and
        write it again: the team heard of it once."""
        from sqlalchemy import select

        from crisisdesk.models import Alert

        with self.desk.session() as s:
            rows = s.execute(
                select(Alert.page_id, Alert.post_id, Alert.level).where(
                    Alert.id > last_id, Alert.announced_at.is_not(None)
                )
            ).all()
        return {(row.page_id, row.post_id, row.level) for row in rows}

    # -- history out of order ----------------------------------------------------------------

    @property
    def importing(self) -> bool:
        """True while an import (a file, or a fetch from a platform) is open."""
        with self.lock:
            return self._imports_open > 0

    @property
    def out_of_order(self) -> bool:
        """True when comments came too late for the stream (a live one over an hour late, after
        an outage) and their pages wait for a replay (:meth:`settle_late`), or when alerts wait
        for another process's import to end (:meth:`settle_late` announces them once it has)."""
        with self.lock:
            # The saved state is read first: one behind the store makes its pages pending too.
            self._ensure_restored()
            late = bool(self.pending) or bool(self._held_for_others)
        coordination = self.coordination_monitor
        return late or (coordination is not None and bool(coordination.pending))

    def settle_late(self) -> int:
        """Replay the pages that live comments reached out of order, and announce what the
        replay raises that is recent, as at the end of an import that ingested nothing more.

        Webhooks after an outage arrive late: Meta retries a failed delivery for hours. The
        stream cannot place a comment older than its open bucket's hour, so without a replay a
        flame that burned during the outage would go unseen. The webhook processor calls this
        once deliveries quiet down. Returns the number of alerts written."""
        if not self.out_of_order:
            return 0
        self.begin_import()
        return self.end_import()

    @property
    def importing_here(self) -> bool:
        """True while this thread is inside an import: what it ingests is history."""
        return getattr(self._here, "depth", 0) > 0

    def begin_import(self) -> None:
        """An import starts (a file, or a fetch from a platform) on this thread: the batches
        this thread ingests until it calls :meth:`end_import` are the import's. On the pages
        they touch, buckets are not evaluated before they close and alerts are not announced
        until the last open import ends (history may arrive in any order, and what it raises
        is settled at the end).

        Imports may overlap, in one thread or several (the web's "fetch now" for two accounts,
        a fetch while a file is imported): they share one scope, settled once, when the last
        one ends, over every page their batches touched.

        Batches other threads ingest meanwhile (webhooks) are live. On a page no open import
        has touched they are evaluated and announced as if no import were open: a fetch that
        waits out a platform's rate limits can last minutes, and a crisis on another page must
        not wait for it. On a page an import has touched, a live batch is evaluated and its
        alerts announced at once too: the team is told of a flame as it happens, at the price
        of an occasional alert the ordered history would not have raised (the levels of that
        page rest on history seen out of order until the replay), which then stands, since an
        announced alert is never taken back (see :meth:`_replace`). What the imports themselves
        raise, and what a live batch raises on other pages an import touched, waits for the
        settling; the settling does not announce again a level the team was told of on that
        page or post while the imports were open, though the replay may date its episode
        differently.

        Other processes on the same store (the webhook worker, the web app, a sync from cron)
        follow the same rule. The pages the imports touched are listed in a row of this
        process's own in ``signal_state`` (``flame/import/<token>``), written in the
        transaction that saves those pages, so no process reads a page's half-imported state
        without reading that it is being imported; the others read it with the seqs they look
        at before every batch (no query more), hold those pages as a live batch here would,
        and leave the announcing to this process's settling. The row goes once the settling
        has announced; what another process held after that look is announced there at its
        next batch or settling. A thread touches the row every :data:`IMPORT_BEAT_EVERY`
        seconds: a row left untouched for :data:`IMPORT_GONE_AFTER` is of a process that
        died, and the process that finds it replays its pages before it announces on them.
        """
        with self._settled:
            while self._settling:
                self._settled.wait()
            if self._imports_open == 0:
                # Alerts written from here on are the imports' to announce; the first import's
                # mark is the earliest, so it covers the ones that join.
                self._import = _Import(last_alert_id=self._last_alert_id())
            self._imports_open += 1
        self._here.depth = getattr(self._here, "depth", 0) + 1

    def end_import(self) -> int:
        """An import ended. While others are open, nothing happens: the last one to end settles
        them all. Returns the number of alerts written by the settling.

        Settling makes the flame levels independent of the order the rows arrived in. If
        anything arrived out of event-time order (here, or for the coordination networks) or
        some author's first comment came after a later one, every page the imports touched is
        replayed from the store (:meth:`rebuild`): an author's first comment is first on all
        pages, so a page delivered in order can still have wrong first-time shares. Otherwise
        the stream saw the rows in order and only the open buckets are looked at. Then the
        alerts written during the imports that are recent enough to matter and were not
        announced yet are announced, once, but not a level of a page or post the team was told
        of while the imports were open (see :meth:`begin_import`).
        """
        depth = getattr(self._here, "depth", 0)
        if depth > 0:
            self._here.depth = depth - 1
        with self.lock:
            scope = None
            if self._imports_open > 0:
                self._imports_open -= 1
                if self._imports_open > 0:
                    return 0
                scope, self._import = self._import, None
                self._settling = True
        if scope is None:  # no import was open
            return self.rebuild_pending()
        try:
            return self._settle(scope)
        finally:
            # Only now do the other processes stop holding the pages: they were settled here.
            try:
                self._drop_mark()
            except Exception:  # left behind, the row is taken for abandoned in a few minutes
                log.exception("flame: the row of the ended import could not be deleted")
            with self._settled:
                self._settling = False
                self._settled.notify_all()

    def _settle(self, scope: _Import) -> int:
        pages = set(self.pending)
        if self.coordination_monitor is not None:
            pages |= self.coordination_monitor.pending
        if pages or scope.disorder:
            pages |= scope.pages
        if pages:
            with self.lock:
                self.pending |= pages  # all of them are now due for the replay
            written = self.rebuild_pending()
        else:
            with self.lock:
                self._sync()
                with self._coordination_batch():
                    rises = self.detector.flush(history=self._held_elsewhere())
                written = len(self._write(rises))
        with self.lock:
            # Not a level the team was told of while the imports were open, on that page or
            # post, here or by another process; not on a page another process is importing,
            # whose settling announces it.
            told = self._told_since(scope.last_alert_id)
            elsewhere = self._held_elsewhere()
            waiting = [
                a for a in self._unannounced_since(scope.last_alert_id) if _told_key(a) not in told
            ]
            self._hold_for_others(a for a in waiting if a["page_id"] in elsewhere)
            due = self._claim_recent([a for a in waiting if a["page_id"] not in elsewhere])
            due += self._release_held()
        for alert in due:
            self._announce(alert)
        return written

    def _unannounced_since(self, last_id: int) -> list[dict[str, Any]]:
        from sqlalchemy import select

        from crisisdesk.models import Alert
        from crisisdesk.signals.alerts import announced_fields

        with self.desk.session() as s:
            rows = s.scalars(
                select(Alert)
                .where(
                    Alert.id > last_id,
                    Alert.announced_at.is_(None),
                    Alert.acknowledged_by.is_(None),
                )
                .order_by(Alert.at, Alert.id)
            ).all()
            return [announced_fields(a) for a in rows]

    def _unannounced(self, ids: Iterable[int]) -> list[dict[str, Any]]:
        """The alerts of ``ids`` that still stand and nobody was told of or acknowledged."""
        from sqlalchemy import select

        from crisisdesk.models import Alert
        from crisisdesk.signals.alerts import announced_fields

        with self.desk.session() as s:
            rows = s.scalars(
                select(Alert)
                .where(
                    Alert.id.in_(list(ids)),
                    Alert.announced_at.is_(None),
                    Alert.acknowledged_by.is_(None),
                )
                .order_by(Alert.at, Alert.id)
            ).all()
            return [announced_fields(a) for a in rows]

    def rebuild(self, page_ids: Iterable[int] | None = None, *, batch: int = 1000) -> int:
        """Replay pages' comments from the store in event-time order and replace their
        detector state; the pages' alerts become the replay's (see :meth:`_replace`), and none
        is announced. Returns the number of alerts written that were not there before.

        With the desk's coordination networks attached (:attr:`coordination_monitor`), they are
        replayed alongside, comment by comment, so each moment's level reads the coordination
        of that moment, not the page's latest.

        Imports that deliver history out of order (newest first, or one page after another)
        leave comments the streaming detector could not place; this puts them in order.
        """
        from sqlalchemy import func, select

        from crisisdesk.models import Analysis as AnalysisRow
        from crisisdesk.models import Author, Comment

        with self.lock:
            self._sync()
            # The replay's pages are written over the versions known now, as it starts: a page
            # saved while it ran (by another process, or a live batch here) may hold comments
            # the replay did not read: it is not overwritten, but given those comments first
            # (see _write_replay), or replayed again.
            started = dict(self._seqs)
            reached: set[int] = set()
            self._replays.append(reached)
        wanted = None if page_ids is None else set(page_ids)
        latest = (
            select(AnalysisRow.comment_id, func.max(AnalysisRow.id).label("aid"))
            .group_by(AnalysisRow.comment_id)
            .subquery()
        )
        query = (
            select(
                Comment.id,
                Comment.platform_id,
                Comment.page_id,
                Comment.post_id,
                Comment.author_id,
                Comment.created_at,
                Comment.sentiment,
                Comment.kind,
                Comment.text,
                Comment.parent_platform_id,
                Author.name,
                Author.platform_id.label("author_platform_id"),
                Author.first_seen,
                AnalysisRow.offensive,
            )
            .outerjoin(Author, Author.id == Comment.author_id)
            .outerjoin(latest, latest.c.comment_id == Comment.id)
            .outerjoin(AnalysisRow, AnalysisRow.id == latest.c.aid)
            # The platform's id breaks ties as the stream does (new_in_order), not the row id,
            # which follows the order the file had.
            .order_by(Comment.created_at, Comment.platform_id, Comment.id)
        )
        if wanted is not None:
            query = query.where(Comment.page_id.in_(wanted))
        fresh = FlameDetector(self.detector.config, coordination=self.coordination_score)
        coordination = self.coordination_monitor
        replaying: AbstractContextManager[None] = (
            coordination.replaying(wanted) if coordination is not None else nullcontext()
        )
        replay = _Replay(fresh, wanted, started, self._replay_row, reached)
        try:
            with replaying:
                return self._replay(replay, query, batch)
        finally:
            with self.lock:
                self._replays.remove(reached)

    def _replay(self, replay: _Replay, query: Any, batch: int) -> int:
        """The body of :meth:`rebuild`, inside the coordination networks' replaying block."""
        fresh, wanted = replay.fresh, replay.wanted
        with self.desk.session() as s:
            for n, row in enumerate(s.execute(query).yield_per(batch), start=1):
                replay.learn_row(fresh, row)
                if n % batch == 0:
                    replay.rises.extend(fresh.flush(early=False))
        replay.look(fresh, fresh.pages)
        with self.lock:
            self.detector.clock = max(self.detector.clock, fresh.clock)
            self.pending.difference_update(fresh.pages if wanted is None else wanted)
            return self._write_replay(replay, query)

    def _replay_row(self, fresh: FlameDetector, row: Any, firsts: set[int]) -> list[Rise]:
        """Learn one stored comment into a replay's detector, and into the coordination
        networks being replayed alongside (see :meth:`rebuild`)."""
        from crisisdesk.signals.coordination import is_first_comment, message_from_row

        coordination = self.coordination_monitor
        first = is_first_comment(row.author_id, row.first_seen, row.created_at, firsts)
        if coordination is not None and row.author_id is not None:
            coordination.learn_one(row.page_id, message_from_row(row, first_time=first))
        return fresh.learn_one(
            Event(
                page_id=row.page_id,
                post_id=row.post_id,
                at=row.created_at,
                negative=row.sentiment == "negative",
                offensive=_offends(row.offensive, row.kind),
                first_time=first,
                author=row.name or row.author_platform_id,
                comment_id=row.id,
                text=row.text or "",
            )
        )

    def _write_replay(self, replay: _Replay, query: Any) -> int:
        """Write a replay's pages, with their alerts and coordination networks, and return the
        number of alerts added. Call with :attr:`lock` held, inside the coordination networks'
        replaying block.

        On a busy page another process (the webhook worker, every second in a crisis) saves
        again while a long history is replayed, so the replay's compare-and-set over the seq it
        started from fails; starting over would fail the same way for as long as the traffic
        lasts. Instead the pages that lost read their current seqs, then the comments stored
        after the last one the replay read (the live tail: a few rows), learn them, and write
        again over those seqs; each round's window is that short, so one of a few wins. The
        comment ids tell the tail: SQLite numbers rows in the order they are written, so a
        comment the replay did not read has a larger id than any it did (for PostgreSQL, whose
        ids need not follow the commits, see :meth:`_Replay.tail` and :meth:`_Replay.missed`).
        The tail goes on from each page's state before its open bucket was looked at, so the
        state written is the one a replay of all the page's comments gives, tail included.

        A page's flame row and coordination row are written in one transaction, over seqs read
        together, so that once both are written they describe the same comments. A page still
        losing after :data:`TAIL_ROUNDS` rounds stays in :attr:`pending`, as before, and so does
        one this process's own batches reached while the replay ran (their comments went into
        the networks being replayed, out of order: only a replay from the start is right there).
        Nothing is announced.
        """
        from crisisdesk.signals.coordination import STATE_NAME as COORDINATION
        from crisisdesk.store import signal_state_seqs

        coordination = self.coordination_monitor
        fresh = replay.fresh
        pages = set(fresh.pages)
        seqs = {p: replay.started.get(page_state_name(p), 0) for p in pages}
        co_seqs = {p: coordination.replay_seq(p) for p in pages} if coordination is not None else {}
        scope: set[int] | None = replay.wanted
        added = 0
        late: set[int] = set()
        tailed: set[int] = set()
        for round_ in range(TAIL_ROUNDS + 1):
            for page_id in pages:
                self.detector.pages[page_id] = fresh.pages[page_id]
                self._seqs[page_state_name(page_id)] = seqs[page_id]
            self.detector.changed.update(pages)
            self._learnt.update(pages)
            co_lost: set[int] = set()
            todo = set(pages)

            def write_networks(
                s: Any,
                todo: set[int] = todo,
                lost: set[int] = co_lost,
                over: dict[int, int] = co_seqs,
            ) -> None:
                if coordination is not None:
                    lost.update(coordination.write_replayed(s, todo, over))

            new, lost = self._replace(scope, replay.rises_of(todo), write_networks)
            added += new
            if coordination is not None:
                coordination.replayed_written(
                    {p: co_seqs[p] for p in todo if p not in co_lost and p in co_seqs}
                )
            self.pending.difference_update(todo - lost - co_lost - late)
            pages = (lost | co_lost) - replay.reached
            if not pages or round_ == TAIL_ROUNDS:
                break
            # The live tail: the seqs first, then the comments, so that every comment the
            # writer of those seqs had learnt is among them.
            with self.desk.session() as s:
                stored = signal_state_seqs(s, STATE_NAME)
                seqs = {p: stored.get(page_state_name(p), 0) for p in pages}
                if coordination is not None:
                    stored = signal_state_seqs(s, COORDINATION)
                    co_seqs = {p: stored.get(f"{COORDINATION}/page/{p}", 0) for p in pages}
                tail = replay.taken(s.execute(query.where(replay.tail(pages))).all())
            log.info(
                "flame: pages %s were saved elsewhere while replayed; %d comments more to take",
                sorted(pages),
                len(tail),
            )
            late |= replay.take_tail(pages, tail)
            tailed |= pages
            scope = set(pages)
        if tailed:
            # A comment with a smaller id than the replay read that committed after it read, too
            # old for the tail: as one too late to count, its page waits. Counted now, after the
            # write: one committed later is learnt by its writer over what this one wrote.
            with self.desk.session() as s:
                late |= replay.missed(s, tailed)
        if late:
            # Comments too far behind what the replay had learnt: as when they arrive live.
            self.pending.update(late)
        return added

    def rebuild_pending(self) -> int:
        """:meth:`rebuild` the pages that received comments out of order, or whose state lost
        a race with another process's save, if any (with those the coordination networks wait
        to replay). A replay can lose such a race itself, and then goes again, a few times."""
        written = 0
        for _attempt in range(3):
            with self.lock:
                if self.coordination_monitor is not None:
                    self.pending |= self.coordination_monitor.pending
                pages = sorted(self.pending)
            if not pages:
                break
            written += self.rebuild(pages)
        return written

    def _replace(
        self,
        page_ids: set[int] | None,
        rises: list[Rise],
        alongside: Callable[[Any], None] | None = None,
    ) -> tuple[int, set[int]]:
        """Make the stored alerts of the replayed pages those of the replay, and save the
        state.

        The rule: an alert of a replayed page that the team was told of (``announced_at``) or
        that someone acknowledged stands, even if the replay would not raise it, and the replay
        writes no second alert for its episode and level: what people saw is neither repeated
        nor taken back. Every other alert of those pages was only written down, by a stream that
        may have seen the history out of order, so it goes unless the replay raises the same
        one (same page, post, level, episode and time), which keeps its row and takes the
        replay's evidence. The replay covers each page's whole history, so that is the range.

        ``alongside`` writes more in the same transaction (the coordination networks of the
        pages). Returns the alerts added and the pages whose saved state another process wrote
        first (their alerts are the replay's all the same, and they are replayed again).
        """
        from sqlalchemy import select

        from crisisdesk.models import Alert

        added = 0
        with self.desk.session() as s, s.begin():
            query = select(Alert)
            if page_ids is not None:
                query = query.where(Alert.page_id.in_(page_ids))
            standing: set[tuple[str, str]] = set()
            replaceable: dict[tuple[Any, ...], Alert] = {}
            for alert in s.scalars(query):
                if alert.announced_at is not None or alert.acknowledged_by is not None:
                    standing.add((alert.episode, alert.level))
                else:
                    key = (alert.page_id, alert.post_id, alert.level, alert.episode, alert.at)
                    replaceable[key] = alert
            for rise in rises:
                if (rise.episode, rise.level) in standing:
                    continue
                standing.add((rise.episode, rise.level))
                evidence = {**rise.evidence, "previous_level": rise.previous}
                key = (rise.page_id, rise.post_id, rise.level, rise.episode, rise.at)
                same = replaceable.pop(key, None)
                if same is not None:
                    same.evidence = evidence
                    continue
                s.add(
                    Alert(
                        page_id=rise.page_id,
                        post_id=rise.post_id,
                        level=rise.level,
                        episode=rise.episode,
                        at=rise.at,
                        evidence=evidence,
                    )
                )
                added += 1
            for alert in replaceable.values():
                s.delete(alert)
            if alongside is not None:
                alongside(s)
            saved = self._save_state(s)
        self._saved(*saved)
        lost = {page_id for page_id in map(_page_of, saved[1]) if page_id is not None}
        return added, lost

    def _write(self, rises: list[Rise]) -> list[dict[str, Any]]:
        """Store the alerts (one per episode and level) and the state, in one transaction."""
        from sqlalchemy import select

        from crisisdesk.models import Alert
        from crisisdesk.signals.alerts import announced_fields

        created: list[dict[str, Any]] = []
        with self.desk.session() as s, s.begin():
            for rise in rises:
                exists = s.scalars(
                    select(Alert.id).where(Alert.episode == rise.episode, Alert.level == rise.level)
                ).first()
                if exists is not None:
                    continue
                alert = Alert(
                    page_id=rise.page_id,
                    post_id=rise.post_id,
                    level=rise.level,
                    episode=rise.episode,
                    at=rise.at,
                    evidence={**rise.evidence, "previous_level": rise.previous},
                )
                s.add(alert)
                s.flush()
                created.append(announced_fields(alert))
            saved = self._save_state(s)
        self._saved(*saved)
        return created

    # -- the saved state ----------------------------------------------------------------------
    #
    # One row for the settings (``flame``) and one per page (``flame/page/<id>``), each with the
    # number of times it was written (``seq``). Several processes share the store: the web app,
    # the webhook worker, a sync from cron. Each keeps the seq of every row as it last read or
    # wrote it; before it learns a batch, and before it is read, it asks for the rows' seqs (no
    # blobs) and reloads the pages that moved. After a batch it writes only the pages that
    # changed, each over the version it knows (compare-and-set). A page another process wrote in
    # between is not overwritten: the stored version is taken, and if this process had learnt
    # comments into its own, the page joins ``pending``, so the next settling replays it from
    # the stored comments, which both processes wrote.

    def _save_state(self, s: Any) -> tuple[dict[str, int], list[str]]:
        """Write the rows that changed, in ``s``'s transaction (with the alerts they explain);
        return the seqs written and the names another process wrote first. The caller hands
        both to :meth:`_saved` once the transaction is committed."""
        from crisisdesk.store import write_signal_state

        rows: list[tuple[str, dict[str, Any]]] = []
        if self._settings_unsaved or STATE_NAME not in self._seqs:
            rows.append((STATE_NAME, {"config": self.detector.config.to_dict()}))
        rows += [
            (page_state_name(page_id), self.detector.page_state(page_id))
            for page_id in sorted(self.detector.changed)
            if page_id in self.detector.pages
        ]
        written: dict[str, int] = {}
        lost: list[str] = []
        for name, data in rows:
            seq = self._seqs.get(name, 0)
            blob = zlib.compress(json.dumps(data).encode("utf-8"))
            if write_signal_state(s, name, STATE_VERSION, blob, seq):
                written[name] = seq + 1
            else:
                lost.append(name)
        written.update(self._mark_rows(s))
        return written, lost

    def _saved(self, written: dict[str, int], lost: list[str]) -> None:
        """Note what :meth:`_save_state` wrote, and take the stored version of what it could
        not."""
        from crisisdesk.store import signal_states

        for name, seq in written.items():
            if name == self._mark_name:
                self._mark_seq, self._mark_pages = seq, self._mark_writing
                self._start_beat()
                continue
            self._seqs[name] = seq
            page_id = _page_of(name)
            if page_id is None:
                self._settings_unsaved = False
            else:
                self.detector.changed.discard(page_id)
                self._learnt.discard(page_id)
        if lost:
            with self.desk.session() as s:
                rows = signal_states(s, lost)
            self._load(rows)

    def restore(self) -> None:
        """Read the saved state now, if it was not read yet (the desk does before it writes
        comments: see :meth:`_behind_the_store`)."""
        with self.lock:
            self._ensure_restored()

    def _ensure_restored(self) -> None:
        if not self._restored:
            self._restored = True
            self._restore()

    def _restore(self) -> None:
        """Read the saved state the first time; pages it is behind join :attr:`pending`."""
        self._load_moved()
        behind = self._behind_the_store()
        if behind:
            log.info("flame: the saved state is behind the stored comments of pages %s", behind)
            self.pending.update(behind)

    def _sync(self) -> None:
        """Catch up with the rows other processes wrote since this one last looked (the whole
        state, the first time). Call with :attr:`lock` held."""
        if not self._restored:
            self._ensure_restored()
        else:
            self._load_moved()

    def _load_moved(self) -> None:
        """Reload the rows whose seq is not the one this process knows: one query for the
        names and seqs, a second for the blobs of those that moved, if any."""
        from crisisdesk.store import signal_state_times, signal_states

        with self.desk.session() as s:
            times = signal_state_times(s, STATE_NAME)
            times.pop(self._mark_name, None)  # this process's own imports
            moved = [name for name, (seq, _) in times.items() if self._seqs.get(name) != seq]
            rows = signal_states(s, moved) if moved else []
        if rows:
            self._load(rows)
        self._look_at_imports({n: t for n, t in times.items() if n.startswith(IMPORT_PREFIX)})

    def _load(self, rows: Sequence[Any]) -> None:
        """Take the stored version of these rows (``name, version, seq, state``). A page this
        process had learnt comments into since its last save loses them, and waits for a
        replay (:attr:`pending`), as does a page whose row cannot be read."""
        # The settings first: a page is built with them.
        for row in sorted(rows, key=lambda r: _page_of(r.name) is not None):
            self._seqs[row.name] = row.seq
            if row.name.startswith(IMPORT_PREFIX):
                self._elsewhere[row.name] = _import_pages(row)
                continue
            page_id = _page_of(row.name)
            if page_id is None:
                if row.name != STATE_NAME:
                    continue  # not a part this version knows
                try:
                    if row.version != STATE_VERSION:
                        raise ValueError(f"version {row.version}")
                    self.detector.config = FlameConfig.from_dict(_unpack(row.state)["config"])
                except (ValueError, KeyError, TypeError, zlib.error) as exc:
                    log.warning("flame settings saved unreadable (%s): written again", exc)
                    self._settings_unsaved = True
                continue
            replay = page_id in self._learnt
            self._learnt.discard(page_id)
            self.detector.changed.discard(page_id)
            try:
                if row.version != STATE_VERSION:
                    raise ValueError(f"version {row.version}")
                self.detector.load_page(page_id, _unpack(row.state))
            except (ValueError, KeyError, TypeError, zlib.error) as exc:
                log.warning("flame state of page %s unreadable (%s): replayed", page_id, exc)
                self.detector.pages.pop(page_id, None)
                replay = True
            if replay:
                self.pending.add(page_id)

    def _behind_the_store(self) -> list[int]:
        """Pages whose stored comments go beyond what the saved state learnt: a process that
        stopped between writing comments and saving the state, or another process (a sync
        from cron, the web's "Fetch now") that saved its own view over this one's. They join
        :attr:`pending`, so the next settling (the end of an import, or the webhook processor's
        pause) replays them from the store instead of going on from a state that missed them."""
        from sqlalchemy import func, select

        from crisisdesk.models import Comment

        with self.desk.session() as s:
            rows = s.execute(
                select(Comment.page_id, func.max(Comment.created_at)).group_by(Comment.page_id)
            ).all()
        behind = []
        for page_id, latest in rows:
            if latest is None:
                continue
            latest = latest if latest.tzinfo is not None else latest.replace(tzinfo=UTC)
            page = self.detector.pages.get(page_id)
            if page is None or _minute(latest) > page.last_minute:
                behind.append(page_id)
        return sorted(behind)

    def _announce(self, alert: dict[str, Any]) -> None:
        """Tell the team: the live banner and, if configured, webhooks and e-mail."""
        from crisisdesk.notify.live import broker_for
        from crisisdesk.signals.alerts import live_alert

        live = live_alert(self.desk, alert)
        text = live["text"] + "\nFirst move: " + alert["evidence"]["first_move"]["en"]
        settings = self.desk.settings
        url = (
            f"{settings.public_url.rstrip('/')}/crisis/{alert['page_id']}"
            if settings.public_url
            else None
        )
        try:
            # Keyed by the alert: the web app's relay may find it in the store first (see
            # AlertRelay), and a banner is shown once.
            broker_for(self.desk).publish_once(alert["id"], "alert", live)
        except Exception:
            log.exception("live banner failed")
        notifier = getattr(self.desk, "notifier", None)
        if notifier is None:
            return
        from crisisdesk.notify.message import Notification

        page_name = live["page_name"]
        try:
            notifier.notify(
                Notification(
                    title=f"{alert['level'].capitalize()}: {page_name}",
                    text=text,
                    level=alert["level"],
                    url=url,
                    episode_key=f"{alert['episode']}:{alert['level']}",
                    kind="alert",
                    fields={
                        "page": page_name,
                        "level": alert["level"],
                        "at": alert["at"].isoformat(),
                        **{
                            k: str(v)
                            for k, v in alert["evidence"].get("figures", {}).items()
                            if v is not None
                        },
                    },
                )
            )
        except Exception:
            log.exception("notification failed")

    # -- queries ------------------------------------------------------------------------------

    # Each read first catches up with what other processes saved (see _sync): the web app
    # shows the levels the webhook worker and the syncs from cron reach, not only its own.

    def level_of(self, page_id: int, post_id: int | None = None) -> str:
        with self.lock:
            self._sync()
            return self.detector.level_of(page_id, post_id)

    def levels_of(self, page_ids: Iterable[int]) -> dict[int, str]:
        """The level of each page, after one look at the store for all of them."""
        with self.lock:
            self._sync()
            return {page_id: self.detector.level_of(page_id) for page_id in page_ids}

    def heat_of(self, page_id: int) -> float:
        with self.lock:
            self._sync()
            return self.detector.heat_of(page_id)

    def history(self, page_id: int) -> dict[str, Any]:
        """Recent buckets and level changes of a page (see :meth:`FlameDetector.history`)."""
        with self.lock:
            self._sync()
            return self.detector.history(page_id)

    def alerts(self, page_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
        from crisisdesk.signals.alerts import alert_dicts

        return alert_dicts(self.desk, page_id=page_id, limit=limit)

    def crisis_view(self, page_id: int) -> dict[str, Any] | None:
        from crisisdesk.signals.alerts import crisis_view

        with self.lock:
            self._sync()
        # The view reads several levels and the history: all as of that one look.
        return crisis_view(self.desk, _AsSynced(self), page_id)


class _AsSynced:
    """A monitor's reads without the look at the store each one makes: for a view that reads
    several, right after one look."""

    def __init__(self, monitor: FlameMonitor) -> None:
        self.monitor = monitor

    def level_of(self, page_id: int, post_id: int | None = None) -> str:
        with self.monitor.lock:
            return self.monitor.detector.level_of(page_id, post_id)

    def history(self, page_id: int) -> dict[str, Any]:
        with self.monitor.lock:
            return self.monitor.detector.history(page_id)


def page_state_name(page_id: int) -> str:
    """The name of a page's row in ``signal_state``."""
    return f"{STATE_NAME}/page/{page_id}"


def _page_of(name: str) -> int | None:
    prefix = f"{STATE_NAME}/page/"
    if not name.startswith(prefix):
        return None
    try:
        return int(name[len(prefix) :])
    except ValueError:
        return None


def _unpack(blob: bytes) -> Any:
    return json.loads(zlib.decompress(blob))


def _import_pages(row: Any) -> frozenset[int]:
    """The pages another process's open import has touched, from its row."""
    try:
        if row.version != IMPORT_VERSION:
            raise ValueError(f"version {row.version}")
        return frozenset(int(p) for p in _unpack(row.state)["pages"])
    except (ValueError, KeyError, TypeError, zlib.error) as exc:
        log.warning("flame: the row of an import open elsewhere is unreadable (%s)", exc)
        return frozenset()


def _told_key(alert: dict[str, Any]) -> tuple[int, int | None, str]:
    return (alert["page_id"], alert["post_id"], alert["level"])


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def monitor_for(desk: Any) -> FlameMonitor:
    """The desk's flame monitor, listening to its ingest; made (and its state restored) on first
    use, so the web app and the CLI share the one the desk already has."""
    monitor = getattr(desk, "flame", None)
    if isinstance(monitor, FlameMonitor):
        return monitor
    monitor = FlameMonitor(desk)
    desk.listeners.append(monitor.on_ingested)
    desk.flame = monitor
    return monitor
