"""The notifier: sends notifications to every configured channel without blocking the caller.

``notify()`` only puts the message on queues (and drops an ``episode_key`` already sent), so a
flame detected during an import never waits for a slow mail server. Each channel has its own
background thread and retries with exponential back-off, so a dead webhook does not delay the
e-mail. ``close()`` stops the thread after the queue is drained or the time
is up.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crisisdesk.notify.message import Notification

log = logging.getLogger(__name__)

Channel = Callable[[Notification], None]


@dataclass
class Delivery:
    channel: str
    episode_key: str
    ok: bool
    attempts: int
    error: str | None = None


class Notifier:
    """Background delivery of :class:`Notification` to webhooks and e-mail.

    >>> from crisisdesk.settings import Settings
    >>> n = Notifier(Settings({}, environ={}))
    >>> n.channels
    {}
    >>> n.close()
    """

    def __init__(
        self,
        settings: Any,
        *,
        channels: dict[str, Channel] | None = None,
        retries: int = 4,
        backoff: float = 1.0,
        ssl_context: ssl.SSLContext | None = None,
        remember: int = 10_000,
    ) -> None:
        self.settings = settings
        self.retries = retries
        self.backoff = backoff
        self.remember = remember
        self.channels: dict[str, Channel] = (
            dict(channels) if channels is not None else self._configured(settings, ssl_context)
        )
        self.deliveries: list[Delivery] = []
        self._seen: OrderedDict[str, None] = OrderedDict()
        # One queue and one worker per channel: a dead webhook never delays the e-mail.
        self._queues: dict[str, queue.Queue[Notification | None]] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()

    @staticmethod
    def _configured(settings: Any, ssl_context: ssl.SSLContext | None) -> dict[str, Channel]:
        from crisisdesk.notify.email import send_email
        from crisisdesk.notify.webhook import send_webhook

        channels: dict[str, Channel] = {}
        secret = settings.webhook_secret.reveal() if settings.webhook_secret else None
        for i, url in enumerate(settings.csv("webhook_urls")):

            def post(n: Notification, url: str = url) -> None:
                send_webhook(url, n, secret=secret)

            channels[f"webhook{i + 1}"] = post
        if settings.smtp_host and settings.csv("smtp_to"):
            channels["email"] = lambda n: send_email(settings, n, ssl_context=ssl_context)
        return channels

    def notify(self, notification: Notification) -> bool:
        """Queue ``notification`` unless its episode key was already sent; never blocks."""
        with self._lock:
            if notification.episode_key in self._seen:
                return False
            self._seen[notification.episode_key] = None
            while len(self._seen) > self.remember:
                self._seen.popitem(last=False)
            if not self.channels or self._stop.is_set():
                return False
            if not self._threads:
                for name, channel in self.channels.items():
                    q: queue.Queue[Notification | None] = queue.Queue()
                    thread = threading.Thread(
                        target=self._run,
                        args=(name, channel, q),
                        name=f"crisisdesk-notify-{name}",
                        daemon=True,
                    )
                    self._queues[name] = q
                    self._threads[name] = thread
                    thread.start()
            for q in self._queues.values():
                q.put(notification)
        return True

    def _run(self, name: str, channel: Channel, q: queue.Queue[Notification | None]) -> None:
        while True:
            item = q.get()
            if item is None:
                return
            if self._stop.is_set():
                log.warning("%s: not sent, the notifier is closing: %s", name, item.episode_key)
                continue
            self._deliver(name, channel, item)

    def _deliver(self, name: str, channel: Channel, n: Notification) -> None:
        error = None
        for attempt in range(1, self.retries + 2):
            try:
                channel(n)
            except Exception as exc:  # any failure of a receiver is retried, then logged
                error = str(exc) or exc.__class__.__name__
                if attempt > self.retries or self._stop.is_set():
                    break
                delay = self.backoff * 2 ** (attempt - 1)
                log.warning("%s: %s; retry %d in %.1fs", name, error, attempt, delay)
                if self._stop.wait(delay):
                    break
                continue
            self.deliveries.append(Delivery(name, n.episode_key, True, attempt))
            return
        log.error("%s: giving up on %s: %s", name, n.episode_key, error)
        self.deliveries.append(Delivery(name, n.episode_key, False, attempt, error))

    def close(self, timeout: float = 5.0) -> None:
        """Stop the workers after what is queued has been tried; when ``timeout`` runs out,
        waiting retries and the rest of the queue are dropped (and logged)."""
        with self._lock:
            threads = dict(self._threads)
            queues = dict(self._queues)
            self._threads.clear()
            self._queues.clear()
        for q in queues.values():
            q.put(None)
        deadline = time.monotonic() + timeout
        for thread in threads.values():
            thread.join(max(0.0, deadline - time.monotonic()))
        self._stop.set()
        for thread in threads.values():
            thread.join(timeout)
