"""Platform connectors: how comments arrive by themselves and how actions go back.

Every connector receives its ``httpx.Client`` (so tests run it against a local server speaking the
platform's documented contract), turns what the platform says into
:class:`~crisisdesk.ingest.record.CommentRecord` objects for ``Desk.ingest`` (the one write path),
and offers the five actions the moderation workflow calls: ``reply``, ``private_reply``, ``hide``,
``unhide`` and ``delete``, each taking the comment's platform id. An action the platform cannot do
raises :class:`Unsupported` with a sentence the person at the desk can act on. Connectors also
answer ``post_details(post_id)`` (:class:`PostDetails`), for comments that arrive naming their
post by id only (see :mod:`crisisdesk.connectors.posts`).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class ConnectorError(Exception):
    """A platform call failed; the message is meant for the person at the desk."""


class Unsupported(ConnectorError):
    """The platform offers no way to do this through its API."""


class TokenExpired(ConnectorError):
    """The stored token no longer works; the account must be connected again."""


class PermissionMissing(ConnectorError):
    """The token works but lacks a permission the action needs."""


class RateLimited(ConnectorError):
    """The platform kept refusing for too many calls, even after backing off."""


PLATFORMS = ("facebook", "instagram", "bluesky", "mastodon")


@dataclass(frozen=True)
class PostDetails:
    """What a post says and where it is on the web; either may be unknown (a photo without a
    caption, a platform that gives no link)."""

    message: str | None = None
    permalink: str | None = None


class PerDesk(Generic[T]):
    """One ``T`` per desk, made by ``make(desk)`` on first use and shared by every caller (the
    webhook processor, the fetch jobs, the post lookups: each keeps state a second copy would
    split)."""

    def __init__(self, make: Callable[[Any], T]) -> None:
        self._make = make
        self._made: weakref.WeakKeyDictionary[Any, T] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __call__(self, desk: Any) -> T:
        with self._lock:
            made = self._made.get(desk)
            if made is None:
                made = self._made[desk] = self._make(desk)
            return made
