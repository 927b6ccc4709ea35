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

from dataclasses import dataclass


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
