"""Meta webhooks: verifying deliveries and turning them into records, off the request path.

The receiver (``crisisdesk/web/routes/webhooks.py``) only checks and spools; a
:class:`WebhookProcessor` thread drains the spool in batches through ``Desk.ingest`` (the one
write path, which also runs analysis and the listeners). Batching is what lets analysis keep up
with bursts: a hundred deliveries waiting become one transaction and one vectorised analysis call.
On start the processor replays whatever the spool holds, so a crash between acknowledgement and
processing loses nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crisisdesk.connectors import PerDesk
from crisisdesk.connectors.instagram import from_instagram_comment
from crisisdesk.connectors.posts import PostDetailsFiller, post_details_for
from crisisdesk.connectors.spool import Spool
from crisisdesk.ingest.normalise import RowError, from_facebook_change, parse_time
from crisisdesk.ingest.readers import ENTRY_NOT_OBJECT
from crisisdesk.ingest.record import CommentRecord, Rejected
from crisisdesk.reasons import Reason, message_of

if TYPE_CHECKING:
    from crisisdesk.desk import Desk

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-hub-signature-256"
# A delivery the store refuses this many times (while others go through) is set aside.
MAX_ATTEMPTS = 3


def sign(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends for ``body``.

    >>> sign(b"{}", "s")[:15]
    'sha256=143ca8d5'
    """
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, header: str | None, app_secret: str) -> bool:
    """Constant-time check of ``X-Hub-Signature-256`` against the raw body.

    >>> signature_valid(b"{}", sign(b"{}", "s"), "s"), signature_valid(b"{}", "sha256=00", "s")
    (True, False)
    """
    if not header or not app_secret:
        return False
    expected = sign(body, app_secret)
    return hmac.compare_digest(expected.encode(), header.strip().lower().encode("ascii", "replace"))


def token_matches(given: str | None, expected: str) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def _changes(entry: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    changes = entry.get("changes")
    if isinstance(changes, list):
        return [c for c in changes if isinstance(c, Mapping)]
    # Business Login for Instagram documents ``field``/``value`` directly on the entry.
    if "field" in entry and "value" in entry:
        return [entry]
    return []


def _event_time(value: Mapping[str, Any], entry_time: Any) -> Mapping[str, Any]:
    """The time a feed change happened, which the upsert orders events by.

    ``created_time`` is the comment's creation time; for an edit, a removal or a hide it may
    still be that, so an edit delivered before its ``add`` would look no newer than it and lose.
    The entry's ``time`` is when the change happened: for every verb but ``add`` the later of
    the two is the event time. A change without ``created_time`` takes the entry's.
    """
    created = value.get("created_time")
    if entry_time is None:
        return value
    if created is None:
        return {**value, "created_time": entry_time}
    if value.get("verb") in (None, "add"):
        return value
    try:
        later = max(parse_time(created), parse_time(entry_time))
    except RowError:
        return value
    return {**value, "created_time": later.isoformat()}


def records_from_delivery(payload: Any, *, name: str = "webhook") -> list[CommentRecord | Rejected]:
    """Records from one delivery (``object`` ``page`` or ``instagram``); other changes ignored."""
    out: list[CommentRecord | Rejected] = []
    if not isinstance(payload, Mapping) or not isinstance(payload.get("entry"), list):
        return [
            Rejected(
                name,
                0,
                Reason("row.delivery", "a delivery must be an object with an 'entry' list"),
            )
        ]
    kind = payload.get("object")
    for entry in payload["entry"]:
        if not isinstance(entry, Mapping):
            out.append(Rejected(name, 0, ENTRY_NOT_OBJECT))
            continue
        account = str(entry["id"]) if entry.get("id") is not None else None
        for change in _changes(entry):
            field = change.get("field")
            value = change.get("value")
            try:
                if kind == "page" and field == "feed":
                    if not isinstance(value, Mapping):
                        raise RowError(
                            Reason("row.change_not_object", "change value must be a JSON object")
                        )
                    value = _event_time(value, entry.get("time"))
                    record = from_facebook_change(account, value, source="webhook")
                elif kind == "instagram" and field in ("comments", "live_comments"):
                    if not isinstance(value, Mapping) or account is None:
                        raise RowError(
                            Reason(
                                "row.instagram_change",
                                "instagram comment change without value or account",
                            )
                        )
                    record = from_instagram_comment(
                        value,
                        account=account,
                        media_id=None,
                        created_fallback=entry.get("time"),
                        source="webhook",
                    )
                else:
                    continue
            except RowError as exc:
                out.append(Rejected(name, 0, message_of(exc)))
                continue
            if record is not None:
                out.append(record)
    return out


class WebhookProcessor:
    """Drains a spool into a desk on a background thread."""

    def __init__(
        self,
        desk: Desk,
        spool: Spool,
        *,
        batch_files: int = 500,
        post_details: PostDetailsFiller | None = None,
    ) -> None:
        self.desk = desk
        self.spool = spool
        self.post_details = post_details or post_details_for(desk)
        self.batch_files = batch_files
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one drain at a time, whoever calls it
        self.processed = 0
        self.rejected = 0
        self._failures: dict[str, int] = {}
        # How often the spool is looked at without a wake-up (deliveries spooled by another
        # process, e.g. when this processor runs in its own process, cannot wake it).
        self.poll_seconds = 1.0
        self._dedicated = False
        #: Comments that arrived too late for the flame stream (Meta retrying deliveries after an
        #: outage) are replayed once deliveries pause this long, or at the latest this long after
        #: the first of them: a trickle of retries must not put the replay off for ever.
        self.settle_quiet_seconds = 30.0
        self.settle_within_seconds = 300.0
        self.clock: Callable[[], float] = time.monotonic
        self._last_batch_at = 0.0
        self._late_since: float | None = None

    def drain(self) -> int:
        """Process everything pending now; returns the number of deliveries processed."""
        total = 0
        with self._lock:
            while True:
                files = self.spool.pending(self.batch_files)
                if not files:
                    return total
                left = self._process(files)
                self._last_batch_at = self.clock()
                total += len(files) - left
                self.processed += len(files) - left
                if left:
                    # Retry those on the next drain, a second later, not in a tight loop.
                    return total

    def settle_late(self) -> int:
        """Replay the pages late deliveries reached, when it is time (see
        ``settle_quiet_seconds``); returns the number of alerts the replay wrote."""
        flame = self.desk.flame
        if not flame.out_of_order:
            self._late_since = None
            return 0
        now = self.clock()
        if self._late_since is None:
            self._late_since = now
        # Quiet counts from the last batch, and from when the late comments were first seen:
        # those the JSON API took in come without a batch here.
        quiet = now - max(self._last_batch_at, self._late_since) >= self.settle_quiet_seconds
        if not quiet and now - self._late_since < self.settle_within_seconds:
            return 0
        self._late_since = None
        return flame.settle_late()

    def _process(self, files: list[Path]) -> int:
        """Ingest a batch of spooled deliveries; returns how many stay in the spool to retry."""
        loaded: list[tuple[Path, list[CommentRecord | Rejected]]] = []
        for path in files:
            try:
                payload = json.loads(path.read_bytes())
            except (OSError, ValueError) as exc:
                self.spool.quarantine(path, f"unreadable: {exc}")
                continue
            loaded.append((path, records_from_delivery(payload, name=path.name)))
        # Deliveries name their post by id only: the first alert should already say which post.
        self.post_details.fill([item for _, items in loaded for item in items])
        try:
            report = self.desk.ingest([item for _, items in loaded for item in items])
        except Exception:
            log.exception("webhook batch of %d failed; retrying one by one", len(loaded))
            return self._one_by_one(loaded)
        self._log_rejected(report.rejected)
        self.spool.done([path for path, _ in loaded])
        return 0

    def _one_by_one(self, loaded: list[tuple[Path, list[CommentRecord | Rejected]]]) -> int:
        """Isolate the delivery that fails. If every one fails the store itself is the problem:
        raise, so the caller backs off and the spool keeps them all. A delivery that fails alone
        is retried on later drains and set aside only after ``MAX_ATTEMPTS``."""
        failed: list[tuple[Path, Exception]] = []
        for path, items in loaded:
            try:
                report = self.desk.ingest(items)
            except Exception as exc:
                failed.append((path, exc))
                continue
            self._failures.pop(path.name, None)
            self._log_rejected(report.rejected)
            self.spool.done([path])
        if failed and len(failed) == len(loaded):
            raise failed[0][1]
        left = 0
        for path, error in failed:
            attempts = self._failures.get(path.name, 0) + 1
            self._failures[path.name] = attempts
            if attempts >= MAX_ATTEMPTS:
                log.error("webhook delivery %s failed %d times; set aside", path.name, attempts)
                self.spool.quarantine(path, f"ingest failed {attempts} times: {error}")
                self._failures.pop(path.name, None)
            else:
                left += 1
        return left

    def _log_rejected(self, rejected: list[Rejected]) -> None:
        for item in rejected:
            self.rejected += 1
            log.warning("webhook change rejected: %s", item)

    # -- the background thread -------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="webhook-processor", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run_forever(self) -> None:
        """Process in the foreground until :meth:`stop` (or Ctrl-C): the processor in its own
        process (``crisisdesk webhook-worker``). It claims the spool, so web processes on the same
        data directory leave the processing to it and only spool and acknowledge."""
        claim = self.spool.hold_worker_lock()
        if claim is None:
            raise RuntimeError(
                Reason(
                    "webhook.busy",
                    "another webhook worker already processes {spool}",
                    spool=str(self.spool.root),
                )
            )
        self._dedicated = True
        try:
            self._run()
        except KeyboardInterrupt:
            self._stop.set()
            self.drain()
        finally:
            claim.close()

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            if not self._dedicated and self.spool.external_worker_active():
                # A dedicated worker process runs analysis away from this process's GIL. Late
                # comments this process took in itself (the JSON API) are still settled here.
                try:
                    self.settle_late()
                except Exception:
                    log.exception("replaying the pages late comments reached failed")
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
                continue
            try:
                self.drain()
                self.settle_late()
                backoff = 0.5
            except Exception:  # the store is down: wait and try again, the spool keeps it
                log.exception("webhook processing failed; retrying in %.1fs", backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
        # Whatever arrived before the stop is processed before the thread ends (unless a dedicated
        # worker is there to do it).
        if not self._dedicated and self.spool.external_worker_active():
            return
        try:
            self.drain()
            # What waits for a replay lives in memory: settle it before the process goes.
            self.desk.flame.settle_late()
        except Exception:
            log.exception("webhook processing at shutdown failed; the spool keeps it")


def spool_path(desk: Desk) -> Path:
    return desk.settings.data_path / "webhook-spool"


#: The one processor of a desk (made on first use, not started).
processor_for: PerDesk[WebhookProcessor] = PerDesk(
    lambda desk: WebhookProcessor(desk, Spool(spool_path(desk)))
)
