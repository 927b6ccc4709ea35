"""The live banner: an in-process broker that fans events out to server-sent event streams.

Publishers (the flame monitor, in the ingest thread) call :meth:`LiveBroker.publish`; each open
``/events`` stream has an asyncio queue fed thread-safely through its own event loop. A short
replay buffer lets a browser that reconnects with ``Last-Event-ID`` catch what it missed. One
broker per desk (:func:`broker_for`), nothing global.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any


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
    def __init__(self, keep: int = 50) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[Subscription] = []
        self._recent: deque[LiveEvent] = deque(maxlen=keep)
        self._next_id = 1

    def publish(self, event: str, data: dict[str, Any]) -> LiveEvent:
        with self._lock:
            item = LiveEvent(self._next_id, event, data)
            self._next_id += 1
            self._recent.append(item)
            subscribers = list(self._subscribers)
        for sub in subscribers:
            try:
                sub.loop.call_soon_threadsafe(sub._offer, item)
            except RuntimeError:  # its loop is closed: the browser went away
                self.unsubscribe(sub)
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
