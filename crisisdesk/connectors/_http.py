"""Small helpers the open-network connectors share: when to retry after a 429."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime


def retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait, from ``Retry-After`` (seconds or HTTP date) or a reset time header
    (``ratelimit-reset`` as epoch seconds, as Bluesky's PDS sends; ``x-ratelimit-reset`` as an ISO
    time, as Mastodon sends).

    >>> retry_after({"retry-after": "3"})
    3.0
    >>> retry_after({"ratelimit-reset": "1010"}, now=1000.0)
    10.0
    >>> retry_after({"x-ratelimit-reset": "2024-01-01T00:00:30.000Z"}, now=1704067200.0)
    30.0
    """
    now = time.time() if now is None else now
    value = headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - now)
            except (TypeError, ValueError):
                pass
    for name in ("ratelimit-reset", "x-ratelimit-reset"):
        value = headers.get(name)
        if not value:
            continue
        try:
            return max(0.0, float(value) - now)
        except ValueError:
            try:
                return max(
                    0.0, datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() - now
                )
            except ValueError:
                continue
    return None
