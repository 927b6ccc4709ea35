"""The live banner: a broker that fans events out to server-sent event streams, and a relay that
brings it the alerts other processes announced.

Publishers (the flame monitor, in the ingest thread) call :meth:`LiveBroker.publish`; each open
``/events`` stream has an asyncio queue fed thread-safely through its own event loop. A short
replay buffer lets a browser that reconnects with ``Last-Event-ID`` catch what it missed. One
broker per desk (:func:`broker_for`), nothing global.

A broker lives in one process, and the browsers' streams in the web app's. The flame monitor of
the webhook worker, or of a ``crisisdesk sync`` run by cron, announces its alerts where nobody is
listening; they are in the store all the same, marked announced. So the web app has an
:class:`AlertRelay`: while a stream is open it looks in the store every couple of seconds and
publishes the alerts announced since, each once, under the alert's id, which the web app's own
monitor publishes its alerts under too. Polling, rather than a notification channel, because
SQLite has none and PostgreSQL's would only shorten a two-second wait.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveEvent:
    id: int
    event: str
    data: dict[str, Any]

    def encode(self) -> str:
        """The event in the text/event-stream wire format."""
        body = json.dumps(self.data, ensure_ascii=False)
        return f"id: {self.id}\nevent: {self.event}\ndata: {body}\n\n"


class Subscription:
    def __init__(self, broker: LiveBroker, loop: asyncio.AbstractEventLoop) -> None:
        self.broker = broker
        self.loop = loop
        self.queue: asyncio.Queue[LiveEvent] = asyncio.Queue(maxsize=100)

    def _offer(self, event: LiveEvent) -> None:
        if self.queue.full():  # a stalled browser loses the oldest banner, not the server
            self.queue.get_nowait()
        self.queue.put_nowait(event)

    async def get(self, timeout: float) -> LiveEvent | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None

    def close(self) -> None:
        self.broker.unsubscribe(self)


class LiveBroker:
    def __init__(self, keep: int = 50, remember: int = 1000) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[Subscription] = []
        self._recent: deque[LiveEvent] = deque(maxlen=keep)
        self._next_id = 1
        # The keys :meth:`publish_once` was given, oldest first. Alerts are rare: a thousand
        # covers far more than the few seconds in which two paths can deliver the same one.
        self._once: deque[Hashable] = deque(maxlen=remember)

    def publish(self, event: str, data: dict[str, Any]) -> LiveEvent:
        with self._lock:
            return self._publish(event, data)

    def publish_once(self, key: Hashable, event: str, data: dict[str, Any]) -> LiveEvent | None:
        """Publish unless something was already published under ``key``; None if it was.

        An alert can reach the broker twice: from the monitor that announced it, and from the
        :class:`AlertRelay` that found it in the store. Its id is the key.
        """
        with self._lock:
            if key in self._once:
                return None
            self._once.append(key)
            return self._publish(event, data)

    def published(self, key: Hashable) -> bool:
        """True if :meth:`publish_once` was given ``key`` (and still remembers it)."""
        with self._lock:
            return key in self._once

    def _publish(self, event: str, data: dict[str, Any]) -> LiveEvent:
        # With the lock held: ids are given in the order events enter the replay buffer.
        item = LiveEvent(self._next_id, event, data)
        self._next_id += 1
        self._recent.append(item)
        subscribers = list(self._subscribers)
        for sub in subscribers:
            try:
                sub.loop.call_soon_threadsafe(sub._offer, item)
            except RuntimeError:  # its loop is closed: the browser went away
                self._subscribers.remove(sub)
        return item

    def subscribe(self, last_event_id: int | None = None) -> Subscription:
        """A new stream on the running loop; events after ``last_event_id`` are replayed."""
        sub = Subscription(self, asyncio.get_running_loop())
        with self._lock:
            self._subscribers.append(sub)
            missed = [e for e in self._recent if last_event_id is not None and e.id > last_event_id]
        for event in missed:
            sub._offer(event)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subscribers:
                self._subscribers.remove(sub)

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subscribers)


_ATTR = "_crisisdesk_live_broker"
_create_lock = threading.Lock()


def broker_for(desk: Any) -> LiveBroker:
    """The desk's broker, created on first use."""
    broker = getattr(desk, _ATTR, None)
    if broker is None:
        with _create_lock:
            broker = getattr(desk, _ATTR, None)
            if broker is None:
                broker = LiveBroker()
                setattr(desk, _ATTR, broker)
    return broker


# -- alerts from other processes ----------------------------------------------------------------

#: How often the relay looks in the store while a stream is open. A banner two seconds late is
#: still seen long before anyone could act on it, and one look is a query on the alerts' primary
#: key: nothing beside the comments the desk writes meanwhile.
LOOK_SECONDS = 2.0
#: Streams come and go: EventSource reconnects when a stream ends, a click opens another page.
#: Within this long of the last stream closing, the next one goes on where the relay stopped, so
#: what was announced in between still pops up. After longer with nobody watching, what came
#: meanwhile is on the alerts page and the relay starts again from the newest alert.
RESUME_SECONDS = 60.0
#: How long an id missing below the newest is asked for again. On PostgreSQL a sequence hands ids
#: out in the order transactions ask, not the order they commit, so a lower id can appear after a
#: higher one; on SQLite a gap is an alert a replay deleted (its id is not given again: the alerts
#: table is AUTOINCREMENT since migration 0011).
GAP_SECONDS = 60.0


class AlertRelay:
    """Publishes on a process's broker the alerts any process on the store announced.

    The flame monitor announces an alert in the process that raised it, and in the webhook
    worker or a ``crisisdesk sync`` from cron nobody is listening there. The web app keeps one
    relay: while at least one of its streams is open, a task looks every :data:`LOOK_SECONDS`
    for alerts above the highest id it has seen, and publishes the announced ones (the rule of
    the flame monitor: ``announced_at`` is set once the team is told, and a replay never takes
    such an alert back nor writes it again). Alerts its own process announced are published by
    the monitor, under the same key (:meth:`LiveBroker.publish_once`), so each reaches the
    banner once, whichever path gets there first.

    An alert can be written now and announced later (an import's, announced when the import is
    settled): recent ones not yet announced are asked for again at each look, until they are,
    or are replaced by a replay, or grow too old to be announced at all.
    """

    def __init__(self, desk: Any, broker: LiveBroker | None = None) -> None:
        self.desk = desk
        self.broker = broker if broker is not None else broker_for(desk)
        # Held while looking (in a worker thread: the store is not asyncio); the streams'
        # bookkeeping has its own lock, so that opening a stream never waits on the store.
        self._lock = threading.Lock()
        self._high: int | None = None  # the highest alert id seen; None until the first stream
        self._stale = False  # nobody watched for a while: start again from the newest alert
        self._unannounced: dict[int, datetime] = {}  # id -> when, of alerts not announced yet
        self._gaps: dict[int, float] = {}  # id -> until when (monotonic) it is asked for
        self._streams_lock = threading.Lock()
        self._streams = 0
        self._idle_since = 0.0
        self._tasks: set[asyncio.Task[None]] = set()

    @asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        """Around an open stream: the first one starts the looks, the last one to close stops
        them. Entered before the stream subscribes, so that nothing stored after the
        subscription counts as already seen."""
        loop = asyncio.get_running_loop()
        with self._streams_lock:
            self._streams += 1
            if self._streams == 1 and time.monotonic() - self._idle_since > RESUME_SECONDS:
                self._stale = True
        try:
            try:
                await asyncio.to_thread(self._begin)
            except Exception:  # the stream still carries this process's alerts; a look retries
                log.exception("the live banner could not read the alerts stored so far")
            with self._streams_lock:
                # One task per event loop: a server has one; a test client may run each
                # request on a loop of its own, which ends with it.
                if not any(t.get_loop() is loop and not t.done() for t in self._tasks):
                    task = loop.create_task(self._run())
                    self._tasks.add(task)
                    task.add_done_callback(self._forget)
            yield
        finally:
            with self._streams_lock:
                self._streams -= 1
                if self._streams == 0:
                    self._idle_since = time.monotonic()

    def _forget(self, task: asyncio.Task[None]) -> None:
        with self._streams_lock:
            self._tasks.discard(task)

    def stop(self) -> None:
        """End the looks (the app shuts down with streams still open)."""
        with self._streams_lock:
            tasks = list(self._tasks)
        for task in tasks:
            try:
                task.get_loop().call_soon_threadsafe(task.cancel)
            except RuntimeError:  # its loop is closed, and the task with it
                pass

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(LOOK_SECONDS)
            with self._streams_lock:
                if self._streams == 0:
                    return
            try:
                await asyncio.to_thread(self.look)
            except Exception:  # the store may be busy or away for a moment: look again later
                log.exception("looking for alerts announced by other processes failed")

    def _begin(self) -> None:
        with self._lock:
            if self._high is None or self._stale:
                self._start_from_newest()

    def _start_from_newest(self) -> None:
        """Take the alerts stored so far as seen, except the recent ones not announced yet."""
        from sqlalchemy import func, select

        from crisisdesk.models import Alert

        since = self.desk.clock() - self._window()
        with self.desk.session() as s:
            self._high = s.scalar(select(func.max(Alert.id))) or 0
            waiting = s.execute(
                select(Alert.id, Alert.at).where(
                    Alert.announced_at.is_(None), Alert.acknowledged_by.is_(None), Alert.at >= since
                )
            ).all()
        self._unannounced = {alert_id: at for alert_id, at in waiting}
        self._gaps = {}
        self._stale = False

    def _window(self) -> timedelta:
        from crisisdesk.signals.flame import monitor_for

        return timedelta(hours=monitor_for(self.desk).announce_within_hours)

    def look(self) -> int:
        """One look at the store: publish the alerts announced since the last look that this
        process has not published yet. Returns how many were published."""
        with self._lock:
            if self._high is None or self._stale:
                self._start_from_newest()
                return 0
            due = self._newly_announced()
        return self._publish(due)

    def _newly_announced(self) -> list[int]:
        from sqlalchemy import or_, select

        from crisisdesk.models import Alert

        assert self._high is not None
        high = self._high
        again = set(self._unannounced) | set(self._gaps)
        # Ids are never given twice (migration 0011): what is new is above the highest seen.
        with self.desk.session() as s:
            rows = s.execute(
                select(Alert.id, Alert.at, Alert.announced_at, Alert.acknowledged_by).where(
                    or_(Alert.id > high, Alert.id.in_(again))
                )
            ).all()
        now, window, clock = self.desk.clock(), self._window(), time.monotonic()
        top = max((row.id for row in rows), default=0)
        found = {row.id for row in rows}
        # Ids under the newest that are not there yet: asked for again, for a while.
        for missing in set(range(high + 1, top)) - found:
            self._gaps[missing] = clock + GAP_SECONDS
        self._gaps = {
            i: until for i, until in self._gaps.items() if i not in found and until > clock
        }
        due: list[int] = []
        for row in rows:
            self._unannounced.pop(row.id, None)
            if row.announced_at is not None:
                due.append(row.id)
            elif row.acknowledged_by is None and now - row.at <= window:
                self._unannounced[row.id] = row.at
            # else: history, or taken in hand unannounced; nobody will announce it
        # Those asked for again and not found were replaced by a replay.
        for gone in set(self._unannounced) & (again - found):
            del self._unannounced[gone]
        self._high = max(self._high, top)
        return sorted(due)

    def _publish(self, due: list[int]) -> int:
        from crisisdesk.models import Alert
        from crisisdesk.signals.alerts import announced_fields, live_alert

        published = 0
        for alert_id in due:
            if self.broker.published(alert_id):
                continue  # this process announced it
            try:
                with self.desk.session() as s:
                    row = s.get(Alert, alert_id)
                    if row is None:
                        continue
                    alert = announced_fields(row)
                data = live_alert(self.desk, alert)
            except Exception:
                log.exception("alert %s could not be relayed to the live banner", alert_id)
                continue
            if self.broker.publish_once(alert_id, "alert", data) is not None:
                published += 1
        return published
