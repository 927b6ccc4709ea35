"""A durable spool for webhook deliveries: written before the acknowledgement, read after.

Meta retries a delivery that is not acknowledged quickly, but not one that was acknowledged and
then lost. So a delivery is first made durable, then acknowledged, then processed. The spool is a
directory of files in the data directory, one per delivery: the body is written to ``tmp/``,
fsynced, renamed into ``incoming/`` (atomic on POSIX) and the directory fsynced, so after a crash
a file in ``incoming/`` is complete or absent, never half written. Files are named by arrival time
so they are replayed in order; a processed file is unlinked. An unlink lost in a crash means the
delivery is processed twice, which the idempotent upsert makes harmless.

A directory rather than a table: the web process writes it without touching the database (no
write lock shared with the ingest worker), and an operator can look inside with ``ls``.
"""

from __future__ import annotations

import itertools
import os
from typing import IO

try:  # POSIX advisory locks; elsewhere no external worker is detected (both would run: harmless)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
import secrets
import threading
import time
from pathlib import Path


class Spool:
    """An append-only directory of pending deliveries.

    >>> import tempfile
    >>> spool = Spool(Path(tempfile.mkdtemp()))
    >>> name = spool.put(b'{"object": "page"}')
    >>> [p.read_bytes() for p in spool.pending()]
    [b'{"object": "page"}']
    >>> spool.done(spool.pending()); spool.pending()
    []
    """

    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = root
        self.incoming = root / "incoming"
        self.failed = root / "failed"
        self._tmp = root / "tmp"
        for directory in (self.incoming, self.failed, self._tmp):
            directory.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync
        self._counter = itertools.count()
        self._lock = threading.Lock()

    def put(self, body: bytes) -> str:
        """Store one delivery durably; returns its file name."""
        with self._lock:
            n = next(self._counter)
        name = f"{time.time_ns():020d}-{os.getpid()}-{n:08d}-{secrets.token_hex(3)}.json"
        tmp = self._tmp / name
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(body)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if self.fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.incoming / name)
        if self.fsync:
            _fsync_dir(self.incoming)
        return name

    def pending(self, limit: int | None = None) -> list[Path]:
        """Waiting deliveries, oldest first."""
        names = sorted(n for n in os.listdir(self.incoming) if n.endswith(".json"))
        if limit is not None:
            names = names[:limit]
        return [self.incoming / n for n in names]

    def count(self) -> int:
        return sum(1 for n in os.listdir(self.incoming) if n.endswith(".json"))

    def done(self, paths: list[Path]) -> None:
        for path in paths:
            try:
                path.unlink()
            except FileNotFoundError:
                pass

    # -- who processes ---------------------------------------------------------------------

    @property
    def _lock_path(self) -> Path:
        return self.root / "worker.lock"

    def hold_worker_lock(self, patience: float = 0.5) -> IO[bytes] | None:
        """Claim the spool for a dedicated worker process; the claim lasts while the returned
        file stays open (and ends by itself if the process dies). ``None``: already claimed.

        A web process asks whether a worker is there (:meth:`external_worker_active`) by taking
        the same lock for an instant, several times a second: a worker that started in that
        instant was refused as if another worker held the spool. So the claim is tried again for
        ``patience`` seconds; a real worker holds the lock for good.
        """
        handle = self._lock_path.open("ab")
        if fcntl is None:
            return handle
        deadline = time.monotonic() + patience
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                if time.monotonic() >= deadline:
                    handle.close()
                    return None
                time.sleep(0.005)
                continue
            return handle

    def external_worker_active(self) -> bool:
        """Whether a dedicated worker process holds the spool (then the web process need not
        process it)."""
        if fcntl is None:
            return False
        with self._lock_path.open("ab") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            return False

    def quarantine(self, path: Path, reason: str) -> None:
        """Set aside a delivery that cannot be processed, with why, for a person to look at."""
        try:
            os.replace(path, self.failed / path.name)
        except FileNotFoundError:
            return
        (self.failed / (path.name + ".reason.txt")).write_text(reason[:2000], encoding="utf-8")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
